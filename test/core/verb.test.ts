import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verbFor } from "../../src/core/verb.ts";

describe("verbFor", () => {
  const table: Array<[method: string, verb: string]> = [
    ["GET", "get"],
    ["HEAD", "get"],
    ["POST", "create"],
    ["PUT", "update"],
    ["PATCH", "patch"],
    ["DELETE", "delete"],
    ["get", "get"],
    ["Delete", "delete"],
    ["OPTIONS", "*"],
    ["CONNECT", "*"],
    ["TRACE", "*"],
    ["PROPFIND", "*"],
    ["", "*"],
    ["constructor", "*"],
    ["__proto__", "*"],
  ];
  for (const [method, verb] of table) {
    it(`maps ${JSON.stringify(method)} to ${verb}`, () => {
      assert.equal(verbFor(method), verb);
    });
  }
});
