import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CheckRequestMessage, toCheckInput } from "../../../src/adapters/grpc/check-request.ts";
import type { CheckInput } from "../../../src/core/types.ts";

type Http = NonNullable<NonNullable<NonNullable<CheckRequestMessage["attributes"]>["request"]>["http"]>;
const message = (http: Http, certificate?: string): CheckRequestMessage => ({
  attributes: { source: certificate === undefined ? undefined : { certificate }, request: { http } },
});

function converted(m: CheckRequestMessage): CheckInput {
  const result = toCheckInput(m);
  assert.ok(result.ok, result.ok ? "" : result.reason);
  return result.input;
}

describe("toCheckInput", () => {
  it("reads method, path with query, host, peer certificate and request id", () => {
    const input = converted(
      message(
        {
          id: "123",
          method: "POST",
          path: "/api/x?a=1",
          host: "svc.local",
          headers: { "x-request-id": "req-1", authorization: "Bearer t" },
        },
        "%2D%2D%2D%2D%2DBEGIN",
      ),
    );
    assert.deepEqual(input, {
      method: "POST",
      target: "/api/x?a=1",
      host: "svc.local",
      headers: new Map([
        ["x-request-id", "req-1"],
        ["authorization", "Bearer t"],
      ]),
      peerCertificate: "%2D%2D%2D%2D%2DBEGIN",
      sourcePrincipal: "",
      contextExtensions: new Map(),
      requestId: "req-1",
    });
  });

  it("falls back to http.id without an x-request-id header", () => {
    assert.equal(converted(message({ id: "envoy-id", path: "/" })).requestId, "envoy-id");
  });

  it("fills absent optional fields with empty strings and no headers", () => {
    const input = converted(message({ path: "/" }));
    assert.deepEqual(input, {
      method: "",
      target: "/",
      host: "",
      headers: new Map(),
      peerCertificate: "",
      sourcePrincipal: "",
      contextExtensions: new Map(),
      requestId: "",
    });
  });

  it("lower-cases the names of the headers object", () => {
    assert.deepEqual(
      converted(message({ path: "/", headers: { Authorization: "Bearer t", "X-A": "1" } })).headers,
      new Map([
        ["authorization", "Bearer t"],
        ["x-a", "1"],
      ]),
    );
  });

  it("reads header_map entries, preferring raw_value bytes", () => {
    const input = converted(
      message({
        path: "/",
        headers: { ignored: "because header_map is set" },
        header_map: {
          headers: [
            { key: "Authorization", raw_value: Buffer.from("Bearer raw") },
            { key: "x-value", value: "plain" },
            { key: "x-both", value: "from value", raw_value: Buffer.from("from raw") },
            { key: "x-empty-raw", value: "v", raw_value: Buffer.alloc(0) },
            { value: "no key is skipped" },
          ],
        },
      }),
    );
    assert.deepEqual(
      input.headers,
      new Map([
        ["authorization", "Bearer raw"],
        ["x-value", "plain"],
        ["x-both", "from raw"],
        ["x-empty-raw", "v"],
      ]),
    );
  });

  it("joins repeated header_map names with a comma, in order", () => {
    const input = converted(
      message({
        path: "/",
        header_map: {
          headers: [
            { key: "X-Forwarded-For", value: "a" },
            { key: "x-other", value: "o" },
            { key: "x-forwarded-for", raw_value: Buffer.from("b") },
          ],
        },
      }),
    );
    assert.equal(input.headers.get("x-forwarded-for"), "a,b");
  });

  it("prefers the x-request-id of header_map over http.id", () => {
    assert.equal(
      converted(message({ id: "envoy", path: "/", header_map: { headers: [{ key: "x-request-id", value: "hdr" }] } })).requestId,
      "hdr",
    );
  });

  it("uses the headers object when header_map is empty", () => {
    assert.deepEqual(converted(message({ path: "/", headers: { a: "1" }, header_map: { headers: [] } })).headers, new Map([["a", "1"]]));
  });

  it("refuses a header_map value that is not valid UTF-8", () => {
    const result = toCheckInput(message({ path: "/", header_map: { headers: [{ key: "x-bin", raw_value: Buffer.from([0xff, 0xfe]) }] } }));
    assert.deepEqual(result, { ok: false, reason: 'header "x-bin" is not valid UTF-8' });
  });

  const refused: Array<[what: string, m: CheckRequestMessage, reason: RegExp]> = [
    ["an empty message", {}, /not an HTTP request/],
    ["a request without http", { attributes: { request: {} } }, /not an HTTP request/],
    ["a request without a path", message({ method: "GET" }), /no path/],
    ["a request with an empty path", message({ method: "GET", path: "" }), /no path/],
  ];
  for (const [what, m, reason] of refused) {
    it(`refuses ${what}`, () => {
      const result = toCheckInput(m);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.reason, reason);
    });
  }
});
