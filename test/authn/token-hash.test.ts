import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { newTokenHasher } from "../../src/authn/token-hash.ts";

describe("newTokenHasher", () => {
  const TOKEN = "static-token-1";

  it("maps one token to the same key every time under one key", () => {
    const hash = newTokenHasher(Buffer.alloc(32, 1));
    assert.equal(hash(TOKEN), hash(TOKEN));
  });

  it("maps one token to different keys under different HMAC keys", () => {
    assert.notEqual(newTokenHasher(Buffer.alloc(32, 1))(TOKEN), newTokenHasher(Buffer.alloc(32, 2))(TOKEN));
  });

  it("draws a fresh random key per hasher by default", () => {
    assert.notEqual(newTokenHasher()(TOKEN), newTokenHasher()(TOKEN));
  });

  it("maps different tokens to different keys", () => {
    const hash = newTokenHasher();
    assert.notEqual(hash("token-a"), hash("token-b"));
  });

  it("does not reveal the token", () => {
    const key = newTokenHasher()(TOKEN);
    assert.ok(!key.includes(TOKEN));
    assert.ok(!key.includes(Buffer.from(TOKEN).toString("base64url")));
    assert.match(key, /^[A-Za-z0-9_-]{43}$/, "a base64url HMAC-SHA256");
  });
});
