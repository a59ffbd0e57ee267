import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Authenticator, AuthnResult, TokenAuthenticator, TokenResult } from "../../src/authn/types.ts";
import { firstApplicable, tokenUnion } from "../../src/authn/union.ts";
import type { UserInfo } from "../../src/core/types.ts";

const user = (name: string): UserInfo => ({ name, uid: "", groups: [], extra: {} });
const request = { headers: new Map<string, string>(), peerCertificate: "" };

function member(name: string, result: AuthnResult, log: string[]): Authenticator {
  return {
    async authenticate() {
      log.push(name);
      return result;
    },
  };
}

function tokenMember(name: string, result: TokenResult, log: string[]): TokenAuthenticator {
  return {
    async authenticateToken() {
      log.push(name);
      return result;
    },
  };
}

describe("firstApplicable", () => {
  const decisive: AuthnResult[] = [
    { kind: "authenticated", user: user("b"), credential: "x509" },
    { kind: "rejected", reason: "bad" },
    { kind: "error", error: new Error("down") },
  ];
  for (const answer of decisive) {
    it(`lets the first member answering "${answer.kind}" decide, asking no later member`, async () => {
      const log: string[] = [];
      const union = firstApplicable([
        member("a", { kind: "none" }, log),
        member("b", answer, log),
        member("c", { kind: "authenticated", user: user("c"), credential: "bearer" }, log),
      ]);
      assert.deepEqual(await union.authenticate(request), answer);
      assert.deepEqual(log, ["a", "b"]);
    });
  }

  it("answers none when every member does", async () => {
    const log: string[] = [];
    const union = firstApplicable([member("a", { kind: "none" }, log), member("b", { kind: "none" }, log)]);
    assert.deepEqual(await union.authenticate(request), { kind: "none" });
    assert.deepEqual(log, ["a", "b"]);
  });

  it("answers none with no members", async () => {
    assert.deepEqual(await firstApplicable([]).authenticate(request), { kind: "none" });
  });
});

describe("tokenUnion", () => {
  it("falls through none to the next member", async () => {
    const log: string[] = [];
    const union = tokenUnion([
      tokenMember("static", { kind: "none" }, log),
      tokenMember("review", { kind: "authenticated", user: user("sa") }, log),
    ]);
    assert.deepEqual(await union.authenticateToken("t"), { kind: "authenticated", user: user("sa") });
    assert.deepEqual(log, ["static", "review"]);
  });

  it("stops at the first member that recognises the token", async () => {
    const log: string[] = [];
    const union = tokenUnion([
      tokenMember("static", { kind: "authenticated", user: user("alice") }, log),
      tokenMember("review", { kind: "error", error: new Error("down") }, log),
    ]);
    assert.deepEqual(await union.authenticateToken("t"), { kind: "authenticated", user: user("alice") });
    assert.deepEqual(log, ["static"]);
  });

  it("returns a rejection without trying later members", async () => {
    const log: string[] = [];
    const union = tokenUnion([tokenMember("a", { kind: "rejected", reason: "r" }, log), tokenMember("b", { kind: "none" }, log)]);
    assert.deepEqual(await union.authenticateToken("t"), { kind: "rejected", reason: "r" });
    assert.deepEqual(log, ["a"]);
  });

  it("answers none when no member recognises the token", async () => {
    assert.deepEqual(await tokenUnion([tokenMember("a", { kind: "none" }, [])]).authenticateToken("t"), { kind: "none" });
  });
});
