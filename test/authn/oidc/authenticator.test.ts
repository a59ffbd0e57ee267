// The OIDC authenticator against a local issuer over real HTTPS (its CA through caFile), with a
// fake wall clock so that rate limits and expiry need no sleeping.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type OidcAuthenticator, type OidcOptions, oidcAuthenticator } from "../../../src/authn/oidc/index.ts";
import type { TokenResult } from "../../../src/authn/types.ts";
import { type OidcIssuer, startOidcIssuer } from "../../support/oidc-issuer.ts";

const HOUR = 3600;
const reason = (r: TokenResult) => (r.kind === "rejected" ? r.reason : `not rejected: ${r.kind}`);
const seconds = () => Math.floor(Date.now() / 1000);

describe("oidcAuthenticator", () => {
  let issuer: OidcIssuer;
  let now: number;
  const clock = { now: () => now };
  const open: OidcAuthenticator[] = [];

  function authenticator(overrides: Partial<OidcOptions> = {}): OidcAuthenticator {
    const a = oidcAuthenticator({ issuer: issuer.url, clientId: issuer.clientId, caFile: issuer.caFile, ...overrides }, { clock });
    open.push(a);
    return a;
  }

  before(async () => {
    issuer = await startOidcIssuer({ path: "/realms/test" });
  });
  after(async () => {
    await Promise.all(open.map((a) => a.close()));
    await issuer.close();
  });
  beforeEach(async () => {
    now = Date.now();
    issuer.available = true;
    issuer.discoveryOverrides = {};
    await issuer.rotate();
    issuer.fetches.discovery = 0;
    issuer.fetches.jwks = 0;
  });

  describe("a valid token", () => {
    it("authenticates the email with prefixed groups plus system:authenticated", async () => {
      const a = authenticator({ groupsPrefix: "oidc:" });
      assert.deepEqual(await a.authenticateToken(await issuer.sign()), {
        kind: "authenticated",
        user: { name: "alice@example.com", uid: "", groups: ["oidc:dev", "oidc:ops", "system:authenticated"], extra: {} },
      });
      assert.deepEqual(issuer.fetches, { discovery: 1, jwks: 1 });
      assert.equal(a.ready, true);
    });

    it("takes the username from another claim, with the username prefix", async () => {
      const r = await authenticator({ usernameClaim: "sub", usernamePrefix: "oidc:" }).authenticateToken(await issuer.sign());
      assert.equal(r.kind === "authenticated" && r.user.name, "oidc:0b6f1c2e-alice");
    });

    it("reads a groups claim that is a single string, or another groups claim", async () => {
      const a = authenticator({ groupsClaim: "roles", groupsPrefix: "idp:" });
      const r = await a.authenticateToken(await issuer.sign({ roles: "admin" }));
      assert.deepEqual(r.kind === "authenticated" && r.user.groups, ["idp:admin", "system:authenticated"]);
    });

    it("accepts an audience array that contains the client id", async () => {
      const token = await issuer.sign({ aud: ["other", issuer.clientId] });
      assert.equal((await authenticator().authenticateToken(token)).kind, "authenticated");
    });

    it("accepts an expiry just passed, within the leeway", async () => {
      const token = await issuer.sign({ exp: seconds() - 30 });
      assert.equal((await authenticator().authenticateToken(token)).kind, "authenticated");
      assert.equal(reason(await authenticator({ leewaySeconds: 0 }).authenticateToken(token)), "oidc: token expired");
    });

    it("verifies the keys once and then uses the cache", async () => {
      const a = authenticator();
      for (let i = 0; i < 5; i++) assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      assert.deepEqual(issuer.fetches, { discovery: 1, jwks: 1 });
    });

    it("accepts an ES256 token when --oidc-sign-alg lists ES256", async () => {
      const es = await issuer.newKey({ alg: "ES256", publish: true });
      const token = await issuer.sign({}, { key: es });
      assert.equal((await authenticator({ signingAlgs: "RS256,ES256" }).authenticateToken(token)).kind, "authenticated");
      assert.equal(reason(await authenticator().authenticateToken(token)), "oidc: signing algorithm not allowed");
    });

    it("finds the key of a token without kid among several published keys", async () => {
      await issuer.newKey({ publish: true });
      const token = await issuer.sign({}, { kid: null });
      assert.equal((await authenticator().authenticateToken(token)).kind, "authenticated");
    });
  });

  describe("tokens that are not ours: none, without asking the issuer", () => {
    for (const [name, token] of [
      ["an opaque token", "abcdef0123456789"],
      ["a JWE-shaped token", "a.b.c.d.e"],
      ["three parts that are not JSON", "xxx.yyy.zzz"],
    ] as const) {
      it(name, async () => {
        assert.deepEqual(await authenticator().authenticateToken(token), { kind: "none" });
      });
    }

    it("a JWT from another issuer", async () => {
      const a = authenticator();
      assert.deepEqual(await a.authenticateToken(await issuer.sign({ iss: "https://kubernetes.default.svc" })), { kind: "none" });
      assert.deepEqual(await a.authenticateToken(await issuer.sign({ iss: `${issuer.url}/` })), { kind: "none" });
      assert.deepEqual(await a.authenticateToken(await issuer.sign({ iss: undefined })), { kind: "none" });
      assert.deepEqual(issuer.fetches, { discovery: 0, jwks: 0 });
    });
  });

  describe("rejected, with a reason that never holds the token", () => {
    const cases: Array<[string, (i: OidcIssuer) => Promise<string>, string]> = [
      ["expired", (i) => i.sign({ iat: seconds() - 2 * HOUR, exp: seconds() - HOUR }), "oidc: token expired"],
      ["not yet valid", (i) => i.sign({ nbf: seconds() + HOUR }), "oidc: token not yet valid"],
      ["issued in the future", (i) => i.sign({ iat: seconds() + HOUR }), "oidc: token issued in the future"],
      ["without expiry", (i) => i.sign({ exp: undefined }), "oidc: token has no expiry"],
      ["wrong audience", (i) => i.sign({ aud: "another-client" }), "oidc: token audience does not include the client id"],
      ["no audience", (i) => i.sign({ aud: undefined }), "oidc: token has no audience"],
      ["alg: none", async (i) => i.unsigned(), "oidc: signing algorithm not allowed"],
      ["HS256 with the public key as the secret", (i) => i.hmacWithPublicKey(), "oidc: signing algorithm not allowed"],
      ["email_verified false", (i) => i.sign({ email_verified: false }), "oidc: email not verified"],
      ["email_verified a string", (i) => i.sign({ email_verified: "true" }), "oidc: email not verified"],
      ["no username claim", (i) => i.sign({ email: undefined }), 'oidc: username claim "email" missing or not a non-empty string'],
      [
        "a username claim that is not a string",
        (i) => i.sign({ email: ["a@b"] }),
        'oidc: username claim "email" missing or not a non-empty string',
      ],
      [
        "a groups claim that is not strings",
        (i) => i.sign({ groups: [1, 2] }),
        'oidc: groups claim "groups" is not a string or an array of strings',
      ],
      [
        "a tampered payload",
        async (i) => {
          const [h, , s] = (await i.sign()).split(".");
          const forged = Buffer.from(JSON.stringify({ ...i.defaultClaims(), email: "admin@example.com" })).toString("base64url");
          return `${h}.${forged}.${s}`;
        },
        "oidc: invalid signature",
      ],
      [
        "signed by a key with the published kid but another private key",
        async (i) => i.sign({}, { key: { ...(await i.newKey()), kid: i.current.kid } }),
        "oidc: invalid signature",
      ],
    ];
    for (const [name, make, expected] of cases) {
      it(name, async () => {
        const token = await make(issuer);
        const r = await authenticator().authenticateToken(token);
        assert.equal(reason(r), expected);
        for (const part of token.split(".").filter((p) => p.length > 8)) assert.ok(!reason(r).includes(part));
      });
    }

    it("does not fetch keys for a token whose algorithm is not allowed", async () => {
      const a = authenticator();
      assert.equal((await a.authenticateToken(issuer.unsigned())).kind, "rejected");
      assert.equal((await a.authenticateToken(await issuer.hmacWithPublicKey())).kind, "rejected");
      assert.deepEqual(issuer.fetches, { discovery: 0, jwks: 0 });
    });

    it("accepts an unverified email when the username claim is not email", async () => {
      const r = await authenticator({ usernameClaim: "sub" }).authenticateToken(await issuer.sign({ email_verified: false }));
      assert.equal(r.kind, "authenticated");
    });

    it("accepts an email without email_verified", async () => {
      assert.equal((await authenticator().authenticateToken(await issuer.sign({ email_verified: undefined }))).kind, "authenticated");
    });
  });

  describe("keys", () => {
    it("an unknown key: rejected after one refresh attempt", async () => {
      const a = authenticator();
      await a.warmUp();
      assert.equal(issuer.fetches.jwks, 1);
      now += 10_000;
      const stranger = await issuer.newKey();
      const token = await issuer.sign({}, { key: stranger });
      assert.equal(reason(await a.authenticateToken(token)), "oidc: no issuer key matches the token's key id and algorithm");
      assert.equal(issuer.fetches.jwks, 2);
      // Within the rate limit the same token is rejected without asking again.
      assert.equal((await a.authenticateToken(token)).kind, "rejected");
      assert.equal(issuer.fetches.jwks, 2);
    });

    it("a key rotation: the new kid triggers one refresh and passes; the removed key is then unknown", async () => {
      const a = authenticator();
      const old = issuer.current;
      assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      await issuer.rotate();
      now += 10_000;
      assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      assert.deepEqual(issuer.fetches, { discovery: 1, jwks: 2 });
      assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      assert.equal(
        reason(await a.authenticateToken(await issuer.sign({}, { key: old }))),
        "oidc: no issuer key matches the token's key id and algorithm",
      );
      assert.equal(issuer.fetches.jwks, 2);
    });

    it("the refresh rate limit: at most one fetch per interval, concurrent refreshes coalesced", async () => {
      const a = authenticator({ minRefreshIntervalMs: 10_000 });
      await a.warmUp();
      const fresh = await issuer.rotate({ keepOld: true });
      // Too soon after the last fetch: the new key is not known yet, and the issuer is not asked.
      assert.equal((await a.authenticateToken(await issuer.sign({}, { key: fresh }))).kind, "rejected");
      assert.equal(issuer.fetches.jwks, 1);
      now += 9_999;
      assert.equal((await a.authenticateToken(await issuer.sign({}, { key: fresh }))).kind, "rejected");
      assert.equal(issuer.fetches.jwks, 1);
      now += 1;
      const tokens = await Promise.all(Array.from({ length: 20 }, () => issuer.sign({}, { key: fresh })));
      const results = await Promise.all(tokens.map((t) => a.authenticateToken(t)));
      assert.deepEqual(new Set(results.map((r) => r.kind)), new Set(["authenticated"]));
      assert.equal(issuer.fetches.jwks, 2);
      // Many made-up key ids in a burst cost the issuer nothing more.
      const strangers = await Promise.all(Array.from({ length: 10 }, async () => issuer.sign({}, { key: await issuer.newKey() })));
      for (const r of await Promise.all(strangers.map((t) => a.authenticateToken(t)))) assert.equal(r.kind, "rejected");
      assert.equal(issuer.fetches.jwks, 2);
    });
  });

  describe("the issuer unavailable", () => {
    it("down at start: error (503), retried no sooner than a second later, then recovers", async () => {
      issuer.available = false;
      const a = authenticator();
      const token = await issuer.sign();
      const first = await a.authenticateToken(token);
      assert.equal(first.kind, "error");
      assert.match(first.kind === "error" ? first.error.message : "", /HTTP 503/);
      assert.ok(!(first.kind === "error" && first.error.message.includes(token)));
      assert.equal(a.ready, false);
      await assert.rejects(a.warmUp(), /oidc issuer unavailable/);
      const fetched = issuer.fetches.discovery;
      issuer.available = true;
      now += 500;
      assert.equal((await a.authenticateToken(token)).kind, "error");
      assert.equal(issuer.fetches.discovery, fetched);
      now += 500;
      assert.equal((await a.authenticateToken(token)).kind, "authenticated");
      assert.equal(a.ready, true);
    });

    it("keys fetched, then the issuer goes down: known keys keep working, an unknown key is an error", async () => {
      const a = authenticator();
      assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      issuer.available = false;
      now += 10_000;
      assert.equal((await a.authenticateToken(await issuer.sign())).kind, "authenticated");
      const other = await issuer.newKey();
      assert.equal((await a.authenticateToken(await issuer.sign({}, { key: other }))).kind, "error");
    });

    it("a discovery document naming another issuer: error", async () => {
      issuer.discoveryOverrides = { issuer: "https://evil.example.com" };
      const r = await authenticator().authenticateToken(await issuer.sign());
      assert.equal(r.kind, "error");
      assert.match(r.kind === "error" ? r.error.message : "", /issuer "https:\/\/evil\.example\.com" is not/);
    });

    it("an issuer certificate not signed by --oidc-ca-file (here: the system roots): error", async () => {
      const r = await authenticator({ caFile: undefined }).authenticateToken(await issuer.sign());
      assert.equal(r.kind, "error");
      assert.match(r.kind === "error" ? r.error.message : "", /fetch failed/);
    });

    it("nothing listening: error", async () => {
      const closed = await startOidcIssuer();
      const url = closed.url;
      const caFile = closed.caFile;
      const a = oidcAuthenticator({ issuer: url, clientId: "c", caFile }, { clock });
      open.push(a);
      await closed.close().catch(() => {});
      const token = `${Buffer.from('{"alg":"RS256"}').toString("base64url")}.${Buffer.from(JSON.stringify({ iss: url })).toString("base64url")}.c2ln`;
      assert.equal((await a.authenticateToken(token)).kind, "error");
    });
  });

  describe("options", () => {
    it("refuses an http issuer, a missing client id and a forbidden algorithm, naming the flag", () => {
      assert.throws(
        () => oidcAuthenticator({ issuer: "http://idp.example.com", clientId: "c" }),
        /^Error: --oidc-issuer: must be an https URL$/,
      );
      assert.throws(() => oidcAuthenticator({ issuer: "https://idp.example.com", clientId: "" }), /--oidc-client-id/);
      assert.throws(
        () => oidcAuthenticator({ issuer: "https://idp.example.com", clientId: "c", signingAlgs: "RS256,none" }),
        /--oidc-sign-alg: none/,
      );
      assert.throws(
        () => oidcAuthenticator({ issuer: "https://idp.example.com", clientId: "c", signingAlgs: "HS256" }),
        /--oidc-sign-alg: HS256/,
      );
    });
  });
});
