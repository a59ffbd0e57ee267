import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Authenticator, AuthnResult } from "../../src/authn/types.ts";
import type { Authorizer, Decision } from "../../src/authz/types.ts";
import { attributesBuilder } from "../../src/core/attributes.ts";
import { createEngine, type EngineOptions, MAX_HEADER_BYTES } from "../../src/core/engine.ts";
import { compileGlobs } from "../../src/core/glob.ts";
import type { Attributes, CheckInput, UserInfo } from "../../src/core/types.ts";

const alice: UserInfo = { name: "alice", uid: "u1", groups: ["dev"], extra: {} };
const ALLOW: Decision = { kind: "allow", reason: "rbac allowed" };

function input(over: Partial<CheckInput> = {}): CheckInput {
  return {
    method: "GET",
    target: "/metrics",
    host: "svc",
    headers: new Map(),
    peerCertificate: "",
    sourcePrincipal: "",
    contextExtensions: new Map(),
    requestId: "r1",
    ...over,
  };
}

/** An authenticator that answers `result` and counts its calls. */
function fakeAuthenticator(result: AuthnResult = { kind: "authenticated", user: alice, credential: "bearer" }) {
  const calls: unknown[] = [];
  const authenticator: Authenticator = {
    async authenticate(request) {
      calls.push(request);
      return result;
    },
  };
  return { authenticator, calls };
}

/** An authorizer that decides with `decide` and records what it was asked. */
function fakeAuthorizer(decide: (a: Attributes) => Decision = () => ALLOW) {
  const asked: Attributes[] = [];
  const authorizer: Authorizer = {
    async authorize(_user, a) {
      asked.push(a);
      return decide(a);
    },
  };
  return { authorizer, asked };
}

function engine(over: Partial<EngineOptions> = {}) {
  const authn = fakeAuthenticator();
  const authz = fakeAuthorizer();
  const options: EngineOptions = {
    authenticator: authn.authenticator,
    authorizer: authz.authorizer,
    attributes: attributesBuilder(undefined, undefined),
    identityHeaders: { enabled: false, userHeader: "x-remote-user", groupsHeader: "x-remote-groups", groupsSeparator: "|" },
    ...over,
  };
  return { engine: createEngine(options), authn, authz };
}

describe("createEngine", () => {
  it("allows an authenticated, authorized request and asks about the non-resource path", async () => {
    const { engine: e, authz } = engine();
    const result = await e.check(input({ target: "/metr%69cs?x=1" }));
    assert.equal(result.allowed, true);
    assert.equal(result.status, 200);
    assert.deepEqual(result.user, alice);
    assert.deepEqual(authz.asked, [{ kind: "nonResource", verb: "get", path: "/metrics" }]);
    if (result.allowed) assert.deepEqual(result.headersToRemove, ["x-remote-user", "x-remote-groups", "authorization"]);
  });

  it("denies a non-canonical path with 400 before anything else, even on an ignored path", async () => {
    const authn = fakeAuthenticator();
    const { engine: e } = engine({ authenticator: authn.authenticator, ignorePaths: compileGlobs(["/*", "/a/*/*"]) });
    const result = await e.check(input({ target: "/a/../b" }));
    assert.equal(result.status, 400);
    assert.equal(result.allowed, false);
    if (!result.allowed) assert.match(result.body, /^Bad Request: path holds a dot segment/);
    assert.equal(authn.calls.length, 0);
  });

  it("allows an ignored path without authentication even when --allow-paths does not list it", async () => {
    const authn = fakeAuthenticator();
    const authz = fakeAuthorizer();
    const { engine: e } = engine({
      authenticator: authn.authenticator,
      authorizer: authz.authorizer,
      ignorePaths: compileGlobs(["/healthz"]),
      allowPaths: compileGlobs(["/metrics"]),
    });
    const result = await e.check(input({ target: "/healthz" }));
    assert.equal(result.allowed, true);
    assert.equal(result.user, undefined);
    if (result.allowed) assert.deepEqual(result.headersToRemove, ["x-remote-user", "x-remote-groups"]);
    assert.equal(authn.calls.length, 0);
    assert.equal(authz.asked.length, 0);
  });

  it("denies a path outside --allow-paths with 404 without calling the authenticator", async () => {
    const authn = fakeAuthenticator();
    const { engine: e } = engine({ authenticator: authn.authenticator, allowPaths: compileGlobs(["/metrics"]) });
    const result = await e.check(input({ target: "/debug/pprof" }));
    assert.equal(result.status, 404);
    if (!result.allowed) assert.equal(result.body, "Not Found");
    assert.equal(authn.calls.length, 0);
  });

  it("authenticates a path inside --allow-paths", async () => {
    const authn = fakeAuthenticator();
    const { engine: e } = engine({ authenticator: authn.authenticator, allowPaths: compileGlobs(["/metrics"]) });
    assert.equal((await e.check(input())).allowed, true);
    assert.equal(authn.calls.length, 1);
  });

  it("passes headers and the peer certificate to the authenticator", async () => {
    const authn = fakeAuthenticator();
    const { engine: e } = engine({ authenticator: authn.authenticator });
    const headers = new Map([["authorization", "Bearer t"]]);
    await e.check(input({ headers, peerCertificate: "PEM" }));
    const seen = authn.calls[0] as CheckInput;
    assert.equal(seen.headers, headers);
    assert.equal(seen.peerCertificate, "PEM");
  });

  const unauthenticated: Array<[string, AuthnResult, number, RegExp]> = [
    ["no credentials", { kind: "none" }, 401, /^Unauthorized$/],
    ["rejected credentials", { kind: "rejected", reason: "bad token" }, 401, /^Unauthorized: bad token$/],
    ["an authentication error", { kind: "error", error: new Error("api down") }, 503, /^Service Unavailable: .*: api down$/],
  ];
  for (const [why, authnResult, status, reason] of unauthenticated) {
    it(`denies ${why} with ${status} and never asks the authorizer`, async () => {
      const authz = fakeAuthorizer();
      const { engine: e } = engine({ authenticator: fakeAuthenticator(authnResult).authenticator, authorizer: authz.authorizer });
      const result = await e.check(input());
      assert.equal(result.allowed, false);
      assert.equal(result.status, status);
      if (!result.allowed) {
        assert.match(result.reason, reason);
        assert.doesNotMatch(result.body, /bad token|api down/, "details stay out of the body");
      }
      assert.equal(authz.asked.length, 0);
    });
  }

  const controlIdentities: Array<[string, UserInfo]> = [
    ["a user name", { ...alice, name: "alice\nadmin" }],
    ["a group", { ...alice, groups: ["dev", "system:masters\r"] }],
    ["a DEL in the name", { ...alice, name: "al\u007fice" }],
  ];
  for (const [where, user] of controlIdentities) {
    it(`denies with 401 an identity with a control character in ${where}`, async () => {
      const authz = fakeAuthorizer();
      const { engine: e } = engine({
        authenticator: fakeAuthenticator({ kind: "authenticated", user, credential: "x509" }).authenticator,
        authorizer: authz.authorizer,
      });
      const result = await e.check(input());
      assert.equal(result.status, 401);
      assert.equal(authz.asked.length, 0);
    });
  }

  it("denies with 403 naming user, verb and path", async () => {
    const { engine: e } = engine({ authorizer: fakeAuthorizer(() => ({ kind: "deny", reason: "no rule" })).authorizer });
    const result = await e.check(input({ method: "POST", target: "/api/x" }));
    assert.equal(result.status, 403);
    assert.equal(result.allowed, false);
    if (!result.allowed) {
      assert.equal(result.body, "Forbidden (user=alice, verb=create, path=/api/x)");
      assert.equal(result.reason, "Forbidden (user=alice, verb=create, path=/api/x): no rule");
      assert.deepEqual(result.user, alice);
    }
  });

  it("denies with 403 when no authorizer has an opinion", async () => {
    const { engine: e } = engine({ authorizer: fakeAuthorizer(() => ({ kind: "noOpinion", reason: "" })).authorizer });
    assert.equal((await e.check(input())).status, 403);
  });

  it("denies with 503 when the authorizer fails", async () => {
    const { engine: e } = engine({ authorizer: fakeAuthorizer(() => ({ kind: "error", error: new Error("timeout") })).authorizer });
    const result = await e.check(input());
    assert.equal(result.status, 503);
    if (!result.allowed) assert.match(result.reason, /timeout/);
  });

  describe("with rewrites", () => {
    const attributes = attributesBuilder({ namespace: "{{ .Value }}", resource: "pods" }, { byQueryParameter: { name: "ns" } });
    const namespaces = (asked: Attributes[]) => asked.map((a) => a.kind === "resource" && a.namespace);

    it("allows only when every value is allowed, joining the reasons", async () => {
      const authz = fakeAuthorizer((a) => ({ kind: "allow", reason: `ok ${a.kind === "resource" && a.namespace}` }));
      const { engine: e } = engine({ attributes, authorizer: authz.authorizer });
      const result = await e.check(input({ target: "/pods?ns=a&ns=b" }));
      assert.equal(result.allowed, true);
      assert.equal(result.reason, "ok a; ok b");
      assert.deepEqual(namespaces(authz.asked), ["a", "b"]);
    });

    it("stops at the first value that is not allowed, naming it", async () => {
      const authz = fakeAuthorizer((a) => (a.kind === "resource" && a.namespace === "b" ? { kind: "deny", reason: "" } : ALLOW));
      const { engine: e } = engine({ attributes, authorizer: authz.authorizer });
      const result = await e.check(input({ target: "/pods?ns=a&ns=b&ns=c" }));
      assert.equal(result.status, 403);
      if (!result.allowed) assert.equal(result.body, "Forbidden (user=alice, verb=get, namespace=b, resource=pods)");
      assert.deepEqual(namespaces(authz.asked), ["a", "b"]);
    });

    it("denies with 400 when the rewrite has no value, after authentication", async () => {
      const authn = fakeAuthenticator();
      const authz = fakeAuthorizer();
      const { engine: e } = engine({ attributes, authenticator: authn.authenticator, authorizer: authz.authorizer });
      const result = await e.check(input({ target: "/pods" }));
      assert.equal(result.status, 400);
      if (!result.allowed) assert.match(result.body, /^Bad Request: /);
      assert.equal(authn.calls.length, 1);
      assert.equal(authz.asked.length, 0);
    });
  });

  it("denies with 400 when the request headers exceed the limit", async () => {
    const authn = fakeAuthenticator();
    const { engine: e } = engine({ authenticator: authn.authenticator });
    const big = new Map([["x-big", "a".repeat(MAX_HEADER_BYTES - "x-big".length + 1)]]);
    const result = await e.check(input({ headers: big }));
    assert.equal(result.status, 400);
    if (!result.allowed) assert.match(result.body, /headers too large/);
    assert.equal(authn.calls.length, 0);
  });

  it("accepts request headers exactly at the limit", async () => {
    const { engine: e } = engine();
    const atLimit = new Map([["x-big", "a".repeat(MAX_HEADER_BYTES - "x-big".length)]]);
    assert.equal((await e.check(input({ headers: atLimit }))).allowed, true);
  });

  it("sets the identity headers on allow when enabled", async () => {
    const { engine: e } = engine({
      identityHeaders: { enabled: true, userHeader: "X-User", groupsHeader: "X-Groups", groupsSeparator: "," },
    });
    const result = await e.check(input());
    assert.equal(result.allowed, true);
    if (result.allowed) {
      assert.deepEqual(result.headersToSet, [
        ["x-user", "alice"],
        ["x-groups", "dev"],
      ]);
      assert.deepEqual(result.headersToRemove, ["authorization"]);
    }
  });

  it("answers 503 and reports the error when the authenticator throws, never rejecting", async () => {
    const boom = new Error("boom");
    const reported: Array<[unknown, CheckInput]> = [];
    const { engine: e } = engine({
      authenticator: {
        authenticate: async () => {
          throw boom;
        },
      },
      onInternalError: (error, i) => reported.push([error, i]),
    });
    const request = input();
    const result = await e.check(request);
    assert.equal(result.status, 503);
    if (!result.allowed) assert.equal(result.body, "Service Unavailable: internal error");
    assert.deepEqual(reported, [[boom, request]]);
  });

  it("answers 503 when the authorizer throws, without an onInternalError hook", async () => {
    const { engine: e } = engine({
      authorizer: {
        authorize: () => {
          throw new Error("sync throw");
        },
      },
    });
    assert.equal((await e.check(input())).status, 503);
  });
});
