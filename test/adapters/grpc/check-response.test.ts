import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toCheckResponse } from "../../../src/adapters/grpc/check-response.ts";
import type { DenyStatus } from "../../../src/core/types.ts";

const ID = "decision-1";
const METADATA = { fields: { decision_id: { stringValue: ID } } };

describe("toCheckResponse", () => {
  it("answers OK with headers to set (overwriting) and headers to remove", () => {
    const response = toCheckResponse(
      {
        allowed: true,
        status: 200,
        reason: "allowed",
        headersToSet: [
          ["x-remote-user", "alice"],
          ["x-remote-groups", "dev|ops"],
        ],
        headersToRemove: ["authorization"],
      },
      ID,
    );
    assert.deepEqual(response, {
      status: { code: 0 },
      ok_response: {
        headers: [
          { header: { key: "x-remote-user", value: "alice" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
          { header: { key: "x-remote-groups", value: "dev|ops" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
        ],
        headers_to_remove: ["authorization"],
      },
      dynamic_metadata: METADATA,
    });
  });

  it("answers OK with no headers to set", () => {
    const response = toCheckResponse({ allowed: true, status: 200, reason: "", headersToSet: [], headersToRemove: ["x-remote-user"] }, ID);
    assert.deepEqual(response, {
      status: { code: 0 },
      ok_response: { headers: [], headers_to_remove: ["x-remote-user"] },
      dynamic_metadata: METADATA,
    });
  });

  const denials: Array<[status: DenyStatus, rpc: number, body: string]> = [
    [400, 3, "Bad Request: path holds a dot segment"],
    [401, 16, "Unauthorized"],
    [403, 7, "Forbidden (user=alice, verb=get, path=/metrics)"],
    [404, 5, "Not Found"],
    [503, 14, "Service Unavailable: internal error"],
  ];
  for (const [status, rpc, body] of denials) {
    it(`answers ${status} with google.rpc code ${rpc}, a text/plain body naming the decision id`, () => {
      const response = toCheckResponse({ allowed: false, status, body, reason: `${body}: detail for the log` }, ID);
      assert.deepEqual(response, {
        status: { code: rpc, message: body },
        denied_response: {
          status: { code: status },
          headers: [{ header: { key: "content-type", value: "text/plain; charset=utf-8" } }],
          body: `${body}\ndecision id: ${ID}\n`,
        },
        dynamic_metadata: METADATA,
      });
    });
  }

  it("keeps the log-only reason out of the response", () => {
    const response = JSON.stringify(
      toCheckResponse({ allowed: false, status: 401, body: "Unauthorized", reason: "Unauthorized: token review: secret" }, ID),
    );
    assert.doesNotMatch(response, /secret/);
  });
});
