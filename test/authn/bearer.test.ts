import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bearerAuthenticator, bearerToken, MAX_TOKEN_BYTES } from "../../src/authn/bearer.ts";
import type { TokenAuthenticator, TokenResult } from "../../src/authn/types.ts";
import type { UserInfo } from "../../src/core/types.ts";

const alice: UserInfo = { name: "alice", uid: "", groups: [], extra: {} };
const auth = (value: string) => new Map([["authorization", value]]);

describe("bearerToken", () => {
  const found: Array<[header: string, token: string]> = [
    ["Bearer abc", "abc"],
    ["bearer abc", "abc"],
    ["BEARER abc", "abc"],
    ["BeArEr abc", "abc"],
    ["  Bearer   abc  ", "abc"],
    ["Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"],
    ["Bearer a-b_c~d+e/f==", "a-b_c~d+e/f=="],
  ];
  for (const [header, token] of found) {
    it(`reads ${JSON.stringify(token)} from ${JSON.stringify(header)}`, () => {
      assert.equal(bearerToken(auth(header)), token);
    });
  }

  const none: Array<[why: string, header: string | undefined]> = [
    ["no authorization header", undefined],
    ["an empty header", ""],
    ["the Basic scheme", "Basic YWxpY2U6cHc="],
    ["the Negotiate scheme", "Negotiate abc"],
    ["a scheme that only starts with bearer", "Bearerx abc"],
    ["the word Bearer alone", "Bearer"],
    ["Bearer followed by only spaces", "Bearer   "],
    ["a bare token", "abc"],
  ];
  for (const [why, header] of none) {
    it(`finds no bearer token in ${why}`, () => {
      assert.equal(bearerToken(header === undefined ? new Map() : auth(header)), "");
    });
  }

  const malformed: Array<[why: string, header: string]> = [
    ["a space inside the token", "Bearer abc def"],
    ["a comma", "Bearer abc,def"],
    ["a quote", 'Bearer "abc"'],
    ["padding in the middle", "Bearer ab=c"],
    ["a non-ASCII character", "Bearer abcé"],
    ["a control character", "Bearer abc\u0001"],
    ["a token one byte over the limit", `Bearer ${"a".repeat(MAX_TOKEN_BYTES + 1)}`],
  ];
  for (const [why, header] of malformed) {
    it(`rejects a token with ${why}`, () => {
      assert.equal(bearerToken(auth(header)), null);
    });
  }

  it("accepts a token of exactly 16 KiB", () => {
    assert.equal(MAX_TOKEN_BYTES, 16 * 1024);
    assert.equal(bearerToken(auth(`Bearer ${"a".repeat(MAX_TOKEN_BYTES)}`))?.length, MAX_TOKEN_BYTES);
  });
});

describe("bearerAuthenticator", () => {
  function tokens(result: TokenResult) {
    const seen: string[] = [];
    const inner: TokenAuthenticator = {
      async authenticateToken(token) {
        seen.push(token);
        return result;
      },
    };
    return { inner, seen };
  }
  const request = (headers: Map<string, string>) => ({ headers, peerCertificate: "" });

  it("authenticates with the token and marks the credential as bearer", async () => {
    const { inner, seen } = tokens({ kind: "authenticated", user: alice });
    const result = await bearerAuthenticator(inner).authenticate(request(auth("Bearer tok")));
    assert.deepEqual(result, { kind: "authenticated", user: alice, credential: "bearer" });
    assert.deepEqual(seen, ["tok"]);
  });

  it("answers none without a bearer token and does not ask the token authenticator", async () => {
    const { inner, seen } = tokens({ kind: "authenticated", user: alice });
    assert.deepEqual(await bearerAuthenticator(inner).authenticate(request(auth("Basic x"))), { kind: "none" });
    assert.deepEqual(seen, []);
  });

  it("rejects a malformed token without asking the token authenticator", async () => {
    const { inner, seen } = tokens({ kind: "authenticated", user: alice });
    const result = await bearerAuthenticator(inner).authenticate(request(auth("Bearer a b")));
    assert.deepEqual(result, { kind: "rejected", reason: "malformed bearer token" });
    assert.deepEqual(seen, []);
  });

  const passedThrough: TokenResult[] = [
    { kind: "none" },
    { kind: "rejected", reason: "expired" },
    { kind: "error", error: new Error("x") },
  ];
  for (const answer of passedThrough) {
    it(`passes a token authenticator's "${answer.kind}" through`, async () => {
      const { inner } = tokens(answer);
      assert.deepEqual(await bearerAuthenticator(inner).authenticate(request(auth("Bearer tok"))), answer);
    });
  }
});
