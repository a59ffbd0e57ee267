import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cachedTokenAuthenticator } from "../../src/authn/cached-token.ts";
import type { TokenAuthenticator, TokenResult } from "../../src/authn/types.ts";
import type { UserInfo } from "../../src/core/types.ts";

const TTL = 120_000;
const alice: UserInfo = { name: "alice", uid: "", groups: [], extra: {} };

// Starts far from 0: the cache's clock has an arbitrary origin.
const manualClock = () => ({
  t: 1_000_000,
  now() {
    return this.t;
  },
});

/** A token authenticator answering with `answer(token)` and counting calls per token. */
function inner(answer: (token: string) => TokenResult | Promise<TokenResult> = () => ({ kind: "authenticated", user: alice })) {
  const calls: string[] = [];
  const authn: TokenAuthenticator = {
    async authenticateToken(token) {
      calls.push(token);
      return answer(token);
    },
  };
  return { authn, calls };
}

function cached(authn: TokenAuthenticator, clock = manualClock(), hash = (t: string) => `h(${t})`) {
  return cachedTokenAuthenticator(authn, { ttlMs: TTL, maxEntries: 100, hash, clock });
}

describe("cachedTokenAuthenticator", () => {
  it("asks once per token within the TTL", async () => {
    const { authn, calls } = inner();
    const clock = manualClock();
    const cache = cached(authn, clock);
    assert.equal((await cache.authenticateToken("t1")).kind, "authenticated");
    clock.t += TTL - 1;
    assert.equal((await cache.authenticateToken("t1")).kind, "authenticated");
    assert.equal((await cache.authenticateToken("t2")).kind, "authenticated");
    assert.deepEqual(calls, ["t1", "t2"]);
  });

  it("asks again after the TTL", async () => {
    const { authn, calls } = inner();
    const clock = manualClock();
    const cache = cached(authn, clock);
    await cache.authenticateToken("t1");
    clock.t += TTL + 1;
    await cache.authenticateToken("t1");
    assert.deepEqual(calls, ["t1", "t1"]);
  });

  it("caches rejections for the TTL", async () => {
    const { authn, calls } = inner(() => ({ kind: "rejected", reason: "invalid" }));
    const cache = cached(authn);
    assert.equal((await cache.authenticateToken("bad")).kind, "rejected");
    assert.equal((await cache.authenticateToken("bad")).kind, "rejected");
    assert.equal(calls.length, 1);
  });

  it("never caches errors", async () => {
    let fail = true;
    const { authn, calls } = inner(() => (fail ? { kind: "error", error: new Error("down") } : { kind: "authenticated", user: alice }));
    const cache = cached(authn);
    assert.equal((await cache.authenticateToken("t1")).kind, "error");
    fail = false;
    assert.equal((await cache.authenticateToken("t1")).kind, "authenticated");
    assert.equal(calls.length, 2);
  });

  it("shares one inner call between concurrent look-ups of one token", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { authn, calls } = inner(async () => {
      await gate;
      return { kind: "authenticated", user: alice };
    });
    const cache = cached(authn);
    const pending = [cache.authenticateToken("t1"), cache.authenticateToken("t1"), cache.authenticateToken("t1")];
    release();
    const results = await Promise.all(pending);
    assert.deepEqual(
      results.map((r) => r.kind),
      ["authenticated", "authenticated", "authenticated"],
    );
    assert.equal(calls.length, 1);
  });

  it("keys the cache by the hash of the token, not the token", async () => {
    const hashed: string[] = [];
    const { authn, calls } = inner();
    const cache = cached(authn, manualClock(), (t) => {
      hashed.push(t);
      return "one-key";
    });
    await cache.authenticateToken("t1");
    await cache.authenticateToken("t2");
    assert.deepEqual(hashed, ["t1", "t2"]);
    assert.deepEqual(calls, ["t1"], "t2 hashes to the same key, so it is answered from the cache");
  });
});
