// The discovery / JWKS cache on its own, with a scripted fetch and a fake clock.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { errors, exportJWK, generateKeyPair, type JWK } from "jose";
import type { FetchLike, FetchResponse } from "../../../src/authn/oidc/fetch.ts";
import { discoveryUrl, type FetchEvent, IssuerKeys, OidcUnavailableError } from "../../../src/authn/oidc/issuer-keys.ts";

const ISSUER = "https://idp.example.com/tenant";
const DISCOVERY = `${ISSUER}/.well-known/openid-configuration`;
const JWKS = "https://keys.example.com/jwks";

type Answer = { status: number; body: unknown; length?: string } | Error;

function scriptedFetch() {
  const calls: string[] = [];
  const answers = new Map<string, () => Answer | Promise<Answer>>();
  const fetch: FetchLike = async (url, init) => {
    calls.push(url);
    assert.equal(init.redirect, "manual");
    const answer: Answer = await (answers.get(url) ?? (() => ({ status: 404, body: {} })))();
    if (answer instanceof Error) throw answer;
    const text = typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
    const response: FetchResponse = {
      status: answer.status,
      headers: new Headers(answer.length ? { "content-length": answer.length } : {}),
      text: async () => text,
    };
    return response;
  };
  return { fetch, calls, answers };
}

describe("IssuerKeys", () => {
  let jwkA: JWK;
  let jwkB: JWK;
  before(async () => {
    jwkA = { ...(await exportJWK((await generateKeyPair("ES256")).publicKey)), kid: "a", alg: "ES256", use: "sig" };
    jwkB = { ...(await exportJWK((await generateKeyPair("ES256")).publicKey)), kid: "b", alg: "ES256", use: "sig" };
  });

  function setup(overrides: Partial<ConstructorParameters<typeof IssuerKeys>[0]> = {}) {
    const f = scriptedFetch();
    let published: JWK[] = [jwkA];
    f.answers.set(DISCOVERY, () => ({ status: 200, body: { issuer: ISSUER, jwks_uri: JWKS } }));
    f.answers.set(JWKS, () => ({ status: 200, body: { keys: published } }));
    const clock = { t: 1_000_000, now: () => clock.t };
    const events: FetchEvent[] = [];
    const keys = new IssuerKeys({
      issuer: ISSUER,
      fetch: f.fetch,
      clock,
      minRefreshIntervalMs: 10_000,
      retryAfterFailureMs: 1_000,
      maxKeyAgeMs: 600_000,
      fetchTimeoutMs: 5_000,
      onFetch: (e) => events.push(e),
      ...overrides,
    });
    const publish = (jwks: JWK[]) => {
      published = jwks;
    };
    const jwksCalls = () => f.calls.filter((c) => c === JWKS).length;
    return { keys, clock, f, events, publish, jwksCalls };
  }

  it("builds the discovery URL from the issuer without doubling a slash", () => {
    assert.equal(discoveryUrl("https://a.example"), "https://a.example/.well-known/openid-configuration");
    assert.equal(discoveryUrl("https://a.example/"), "https://a.example/.well-known/openid-configuration");
    assert.equal(discoveryUrl("https://a.example/p"), "https://a.example/p/.well-known/openid-configuration");
  });

  it("discovers the JWKS, fetches it once and answers from the cache", async () => {
    const { keys, f, events } = setup();
    assert.equal(keys.ready, false);
    await keys.resolve({ alg: "ES256", kid: "a" });
    await keys.resolve({ alg: "ES256", kid: "a" });
    assert.deepEqual(f.calls, [DISCOVERY, JWKS]);
    assert.deepEqual(
      events.map((e) => [e.document, e.ok]),
      [
        ["discovery", true],
        ["jwks", true],
      ],
    );
    assert.equal(keys.ready, true);
  });

  it("coalesces concurrent first fetches into one", async () => {
    const { keys, f } = setup();
    await Promise.all(Array.from({ length: 10 }, () => keys.resolve({ alg: "ES256", kid: "a" })));
    assert.deepEqual(f.calls, [DISCOVERY, JWKS]);
  });

  it("refreshes on an unknown kid once the interval has passed, not before", async () => {
    const { keys, clock, publish, jwksCalls } = setup();
    await keys.resolve({ alg: "ES256", kid: "a" });
    publish([jwkA, jwkB]);
    await assert.rejects(keys.resolve({ alg: "ES256", kid: "b" }), errors.JWKSNoMatchingKey);
    assert.equal(jwksCalls(), 1);
    clock.t += 10_000;
    await keys.resolve({ alg: "ES256", kid: "b" });
    assert.equal(jwksCalls(), 2);
  });

  it("refreshes old keys in the background: a removed key stops being trusted", async () => {
    const { keys, clock, publish, jwksCalls } = setup();
    await keys.resolve({ alg: "ES256", kid: "a" });
    publish([jwkB]);
    clock.t += 600_000;
    // The old keys still answer while the new ones are fetched.
    await keys.resolve({ alg: "ES256", kid: "a" });
    await keys.refresh();
    assert.equal(jwksCalls(), 2);
    await assert.rejects(keys.resolve({ alg: "ES256", kid: "a" }), errors.JWKSNoMatchingKey);
  });

  it("keeps old keys when their background refresh fails", async () => {
    const { keys, clock, f, events } = setup();
    await keys.resolve({ alg: "ES256", kid: "a" });
    f.answers.set(JWKS, () => ({ status: 500, body: {} }));
    clock.t += 600_000;
    await keys.resolve({ alg: "ES256", kid: "a" });
    await keys.refresh().catch(() => {});
    await keys.resolve({ alg: "ES256", kid: "a" });
    assert.ok(events.some((e) => e.document === "jwks" && !e.ok));
  });

  it("asks the discovery document again after a JWKS failure (the keys may have moved)", async () => {
    const { keys, f } = setup();
    f.answers.set(JWKS, () => ({ status: 404, body: {} }));
    await assert.rejects(keys.resolve({ alg: "ES256", kid: "a" }), OidcUnavailableError);
    await assert.rejects(keys.refresh(), OidcUnavailableError);
    assert.deepEqual(f.calls, [DISCOVERY, JWKS, DISCOVERY, JWKS]);
  });

  it("after a failure, tries again no sooner than retryAfterFailureMs, reporting the last error", async () => {
    const { keys, clock, f } = setup();
    f.answers.set(DISCOVERY, () => new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }) }));
    await assert.rejects(keys.resolve({ alg: "ES256", kid: "a" }), /oidc issuer unavailable: .*fetch failed \(ECONNREFUSED\)/);
    clock.t += 999;
    await assert.rejects(keys.resolve({ alg: "ES256", kid: "a" }), /ECONNREFUSED/);
    assert.equal(f.calls.length, 1);
    f.answers.set(DISCOVERY, () => ({ status: 200, body: { issuer: ISSUER, jwks_uri: JWKS } }));
    clock.t += 1;
    await keys.resolve({ alg: "ES256", kid: "a" });
    assert.equal(f.calls.length, 3);
  });

  it("does not lock itself out when the clock goes backwards", async () => {
    const { keys, clock, publish, jwksCalls } = setup();
    await keys.resolve({ alg: "ES256", kid: "a" });
    publish([jwkA, jwkB]);
    clock.t -= 3_600_000;
    await keys.resolve({ alg: "ES256", kid: "b" });
    assert.equal(jwksCalls(), 2);
  });

  const badDocuments: Array<[string, Answer, Answer | undefined, RegExp]> = [
    ["discovery HTTP 500", { status: 500, body: {} }, undefined, /openid-configuration: HTTP 500/],
    ["discovery redirect (not followed)", { status: 302, body: "" }, undefined, /HTTP 302/],
    ["discovery not JSON", { status: 200, body: "<html>" }, undefined, /not JSON/],
    ["discovery not an object", { status: 200, body: [1] }, undefined, /not a JSON object/],
    ["discovery for another issuer", { status: 200, body: { issuer: `${ISSUER}/`, jwks_uri: JWKS } }, undefined, /issuer .* is not/],
    ["discovery without issuer", { status: 200, body: { jwks_uri: JWKS } }, undefined, /issuer undefined is not/],
    ["jwks_uri over http", { status: 200, body: { issuer: ISSUER, jwks_uri: "http://keys.example.com/jwks" } }, undefined, /jwks_uri/],
    ["jwks_uri missing", { status: 200, body: { issuer: ISSUER } }, undefined, /jwks_uri/],
    ["discovery too large", { status: 200, body: {}, length: String(2 * 1024 * 1024) }, undefined, /too large/],
    [
      "JWKS not a key set",
      { status: 200, body: { issuer: ISSUER, jwks_uri: JWKS } },
      { status: 200, body: { keys: "no" } },
      /not a JSON Web Key Set/,
    ],
    ["JWKS timeout", { status: 200, body: { issuer: ISSUER, jwks_uri: JWKS } }, new DOMException("t", "TimeoutError"), /jwks: timed out/],
  ];
  for (const [name, discovery, jwks, expected] of badDocuments) {
    it(`unavailable on ${name}`, async () => {
      const { keys, f } = setup();
      f.answers.set(DISCOVERY, () => discovery);
      if (jwks) f.answers.set(JWKS, () => jwks);
      await assert.rejects(
        keys.resolve({ alg: "ES256", kid: "a" }),
        (e: Error) => e instanceof OidcUnavailableError && expected.test(e.message),
      );
    });
  }
});
