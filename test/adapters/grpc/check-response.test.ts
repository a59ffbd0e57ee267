import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkResponseEncoder, type Serialize, toCheckResponse } from "../../../src/adapters/grpc/check-response.ts";
import { loadExtAuthzProtos } from "../../../src/adapters/grpc/protos.ts";
import type { CheckResult, DenyStatus } from "../../../src/core/types.ts";
import { decodeOfficialCheckResponse } from "../../support/envoy-client.ts";

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

describe("checkResponseEncoder", () => {
  const serialize = loadExtAuthzProtos().authorizationService.Check.responseSerialize as Serialize;
  const shared = Object.freeze([Object.freeze(["x-remote-user", "alice"] as const)]);
  const strip = Object.freeze(["authorization"]);
  const results: Array<[string, CheckResult]> = [
    ["allowed, shared headers", { allowed: true, status: 200, reason: "", headersToSet: shared, headersToRemove: strip }],
    ["allowed, nothing to set", { allowed: true, status: 200, reason: "", headersToSet: Object.freeze([]), headersToRemove: strip }],
    [
      "allowed, per-Check headers",
      { allowed: true, status: 200, reason: "", headersToSet: [["authorization", "Bearer t"]], headersToRemove: [] },
    ],
    ["denied", { allowed: false, status: 403, body: "Forbidden", reason: "Forbidden" }],
  ];
  /** An encoder that counts how often it had to serialize with protobufjs. */
  const countingEncoder = () => {
    let calls = 0;
    const encode = checkResponseEncoder((response) => {
      calls++;
      return serialize(response);
    });
    return { encode, serialized: () => calls };
  };
  // Lengths around the varint boundaries (127/128 bytes, and ids a proxy could send of many KiB).
  const ids = ["", "decision-1", "é".repeat(70), "x".repeat(127), "x".repeat(128), "y".repeat(20_000)];
  for (const [name, result] of results) {
    it(`${name}: decodes with Envoy's protos to the same response as the object form, for ids of any length`, () => {
      const encode = checkResponseEncoder(serialize);
      for (const id of ids) {
        assert.deepEqual(
          decodeOfficialCheckResponse(encode(result, id)),
          decodeOfficialCheckResponse(serialize(toCheckResponse(result, id))),
        );
      }
    });
  }

  it("encodes an allowed answer with shared headers once, and only the decision id per Check", () => {
    const { encode, serialized } = countingEncoder();
    const [, result] = results[0];
    const first = decodeOfficialCheckResponse(encode(result, "a"));
    const second = decodeOfficialCheckResponse(encode(result, "b"));
    assert.equal(serialized(), 1);
    assert.equal(first.dynamic_metadata?.fields?.decision_id.stringValue, "a");
    assert.equal(second.dynamic_metadata?.fields?.decision_id.stringValue, "b");
    assert.deepEqual(second.ok_response?.headers, [
      { header: { key: "x-remote-user", value: "alice" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
    ]);
  });

  it("encodes per-Check headers (not frozen) every time", () => {
    const { encode, serialized } = countingEncoder();
    const [, result] = results[2];
    encode(result, "a");
    encode(result, "b");
    assert.equal(serialized(), 2);
  });
});
