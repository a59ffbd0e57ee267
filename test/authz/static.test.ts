import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { matches, type StaticRule, staticAuthorizer } from "../../src/authz/static.ts";
import type { NonResourceAttributes, UserInfo } from "../../src/core/types.ts";
import { DEPLOYMENT_SCALE, METRICS } from "../support/attributes.ts";

const prometheus: UserInfo = { name: "prometheus", uid: "u1", groups: ["monitoring", "system:authenticated"], extra: {} };
const metrics = METRICS;
const pods = DEPLOYMENT_SCALE;

describe("static rules", () => {
  const nonResourceRule: StaticRule = { user: { name: "prometheus" }, verb: "get", path: "/metrics", resourceRequest: false };
  const resourceRule: StaticRule = {
    user: { name: "prometheus" },
    verb: "list",
    namespace: "ns1",
    apiGroup: "apps",
    resource: "deployments",
    subresource: "scale",
    name: "web",
    resourceRequest: true,
  };

  it("match a non-resource request equal in every field", () => {
    assert.equal(matches(nonResourceRule, prometheus, metrics), true);
  });

  it("match a resource request equal in every field", () => {
    assert.equal(matches(resourceRule, prometheus, pods), true);
  });

  const nonResourceMismatch: Array<[string, StaticRule, NonResourceAttributes, UserInfo]> = [
    ["another user", nonResourceRule, metrics, { ...prometheus, name: "grafana" }],
    ["another verb", nonResourceRule, { ...metrics, verb: "create" }, prometheus],
    ["another path", nonResourceRule, { ...metrics, path: "/metrics/x" }, prometheus],
    ["a resource rule", { ...resourceRule, verb: "get" }, metrics, prometheus],
  ];
  for (const [why, rule, a, user] of nonResourceMismatch) {
    it(`do not match a non-resource request for ${why}`, () => {
      assert.equal(matches(rule, user, a), false);
    });
  }

  const resourceFields = ["verb", "namespace", "apiGroup", "resource", "subresource", "name"] as const;
  for (const field of resourceFields) {
    it(`do not match a resource request with another ${field}`, () => {
      assert.equal(matches(resourceRule, prometheus, { ...pods, [field]: "other" }), false);
    });
  }

  it("do not match a resource request with a non-resource rule", () => {
    assert.equal(matches({ user: {}, verb: "list", resourceRequest: false }, prometheus, pods), false);
  });

  it("ignore the API version, which a rule cannot set", () => {
    assert.equal(matches(resourceRule, prometheus, { ...pods, apiVersion: "v2" }), true);
  });

  it("treat unset and empty fields as matching anything", () => {
    assert.equal(matches({ user: {}, resourceRequest: true }, prometheus, pods), true);
    assert.equal(matches({ user: { name: "" }, verb: "", namespace: "", resourceRequest: true }, prometheus, pods), true);
    assert.equal(matches({ user: {}, resourceRequest: false }, prometheus, metrics), true);
    assert.equal(matches({ user: { groups: [] }, path: "/metrics", resourceRequest: false }, prometheus, metrics), true);
  });

  it("honour user.groups: a user in one of the groups matches", () => {
    assert.equal(
      matches({ user: { groups: ["admins", "monitoring"] }, path: "/metrics", resourceRequest: false }, prometheus, metrics),
      true,
    );
  });

  it("honour user.groups: a user in none of the groups does not match", () => {
    assert.equal(matches({ user: { groups: ["admins"] }, path: "/metrics", resourceRequest: false }, prometheus, metrics), false);
    assert.equal(matches({ user: { name: "prometheus", groups: ["admins"] }, resourceRequest: false }, prometheus, metrics), false);
  });
});

describe("staticAuthorizer", () => {
  const rules: StaticRule[] = [
    { user: { name: "grafana" }, path: "/metrics", resourceRequest: false },
    { user: { name: "prometheus" }, verb: "get", path: "/metrics", resourceRequest: false },
  ];

  it("allows naming the first matching rule", async () => {
    assert.deepEqual(await staticAuthorizer(rules).authorize(prometheus, metrics), { kind: "allow", reason: "rule 2 matched" });
  });

  it("has no opinion (never denies) when no rule matches", async () => {
    assert.deepEqual(await staticAuthorizer(rules).authorize(prometheus, { ...metrics, path: "/debug" }), {
      kind: "noOpinion",
      reason: "",
    });
    assert.deepEqual(await staticAuthorizer([]).authorize(prometheus, metrics), { kind: "noOpinion", reason: "" });
  });
});
