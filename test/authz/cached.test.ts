import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { cachedAuthorizer, decisionKey } from "../../src/authz/cached.ts";
import type { Authorizer, Decision } from "../../src/authz/types.ts";
import type { Attributes, UserInfo } from "../../src/core/types.ts";
import { METRICS, resource } from "../support/attributes.ts";

const ALLOW_TTL = 300_000;
const DENY_TTL = 30_000;
const alice: UserInfo = { name: "alice", uid: "u1", groups: ["a", "b"], extra: { x: ["1"], y: ["2"] } };
const metrics = METRICS;
const pods = resource();

const manualClock = () => ({
  t: 1_000_000,
  now() {
    return this.t;
  },
});

function inner(decide: () => Decision) {
  const calls: Array<[UserInfo, Attributes]> = [];
  const authorizer: Authorizer = {
    async authorize(u, a) {
      calls.push([u, a]);
      return decide();
    },
  };
  return { authorizer, calls };
}

const cached = (authorizer: Authorizer, clock = manualClock()) =>
  cachedAuthorizer(authorizer, { allowTtlMs: ALLOW_TTL, denyTtlMs: DENY_TTL, maxEntries: 100, clock });

describe("cachedAuthorizer", () => {
  it("keeps an allow for the allow TTL", async () => {
    const { authorizer, calls } = inner(() => ({ kind: "allow", reason: "" }));
    const clock = manualClock();
    const authz = cached(authorizer, clock);
    await authz.authorize(alice, metrics);
    clock.t += ALLOW_TTL - 1;
    await authz.authorize(alice, metrics);
    assert.equal(calls.length, 1);
    clock.t += 2;
    await authz.authorize(alice, metrics);
    assert.equal(calls.length, 2);
  });

  const denials: Decision[] = [
    { kind: "deny", reason: "no" },
    { kind: "noOpinion", reason: "" },
  ];
  for (const decision of denials) {
    it(`keeps a ${decision.kind} only for the deny TTL`, async () => {
      const { authorizer, calls } = inner(() => decision);
      const clock = manualClock();
      const authz = cached(authorizer, clock);
      assert.deepEqual(await authz.authorize(alice, metrics), decision);
      clock.t += DENY_TTL - 1;
      assert.deepEqual(await authz.authorize(alice, metrics), decision);
      assert.equal(calls.length, 1);
      clock.t += 2;
      await authz.authorize(alice, metrics);
      assert.equal(calls.length, 2);
    });
  }

  it("never keeps an error", async () => {
    const { authorizer, calls } = inner(() => ({ kind: "error", error: new Error("down") }));
    const authz = cached(authorizer);
    await authz.authorize(alice, metrics);
    await authz.authorize(alice, metrics);
    assert.equal(calls.length, 2);
  });

  it("asks separately for different users and attributes", async () => {
    const { authorizer, calls } = inner(() => ({ kind: "allow", reason: "" }));
    const authz = cached(authorizer);
    await authz.authorize(alice, metrics);
    await authz.authorize({ ...alice, name: "bob" }, metrics);
    await authz.authorize(alice, { ...metrics, path: "/other" });
    await authz.authorize(alice, metrics);
    assert.deepEqual(
      calls.map(([u, a]) => [u.name, a.kind === "nonResource" && a.path]),
      [
        ["alice", "/metrics"],
        ["bob", "/metrics"],
        ["alice", "/other"],
      ],
    );
  });

  it("shares one call between concurrent identical checks", async () => {
    const { authorizer, calls } = inner(() => ({ kind: "allow", reason: "" }));
    const authz = cached(authorizer);
    await Promise.all([authz.authorize(alice, metrics), authz.authorize(alice, metrics), authz.authorize({ ...alice }, { ...metrics })]);
    assert.equal(calls.length, 1);
  });
});

describe("decisionKey", () => {
  const key = decisionKey(alice, pods);

  const differing: Array<[string, UserInfo, Attributes]> = [
    ["user name", { ...alice, name: "bob" }, pods],
    ["uid", { ...alice, uid: "u2" }, pods],
    ["groups", { ...alice, groups: ["a"] }, pods],
    ["group order (kept as given)", { ...alice, groups: ["b", "a"] }, pods],
    ["groups split differently", { ...alice, groups: ["a,b"] }, pods],
    ["an extra value", { ...alice, extra: { x: ["1"], y: ["3"] } }, pods],
    ["an extra key", { ...alice, extra: { x: ["1"] } }, pods],
    ["verb", alice, { ...pods, verb: "list" }],
    ["namespace", alice, { ...pods, namespace: "other" }],
    ["apiGroup", alice, { ...pods, apiGroup: "apps" }],
    ["apiVersion", alice, { ...pods, apiVersion: "v2" }],
    ["resource", alice, { ...pods, resource: "services" }],
    ["subresource", alice, { ...pods, subresource: "log" }],
    ["name", alice, { ...pods, name: "p" }],
    ["kind", alice, { kind: "nonResource", verb: "get", path: "" }],
  ];
  for (const [what, user, a] of differing) {
    it(`differs when the ${what} differs`, () => {
      assert.notEqual(decisionKey(user, a), key);
    });
  }

  it("does not depend on the order of extra keys", () => {
    assert.equal(decisionKey({ ...alice, extra: { y: ["2"], x: ["1"] } }, pods), key);
  });

  it("cannot be made to collide by moving a separator between fields", () => {
    assert.notEqual(decisionKey({ ...alice, name: "a", uid: "b,c" }, pods), decisionKey({ ...alice, name: "a,b", uid: "c" }, pods));
    assert.notEqual(
      decisionKey(alice, { ...pods, namespace: "a", name: "b" }),
      decisionKey(alice, { ...pods, namespace: "", name: 'a","b' }),
    );
  });
});
