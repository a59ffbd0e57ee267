// The README explains every flag: a flag added without a line there fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { flagsCommand } from "../src/config/flags.ts";

const README = readFileSync(new URL("../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("has a row in its flag table for every flag", () => {
    const rows = README.split("\n").filter((line) => line.startsWith("| `--"));
    const missing = flagsCommand()
      .options.map((o) => o.long)
      .filter((flag): flag is string => flag !== undefined && flag !== "--help")
      .filter((flag) => !rows.some((row) => row.includes(`\`${flag}\``)));
    assert.deepEqual(missing, []);
  });
});
