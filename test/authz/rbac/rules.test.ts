// Every matcher of one PolicyRule, table-driven, with the apiserver's answers (RuleAllows and the
// helpers of pkg/apis/rbac/v1/evaluation_helpers.go).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ruleAllows, ruleRequest } from "../../../src/authz/rbac/rules.ts";
import type { PolicyRule } from "../../../src/authz/rbac/types.ts";
import type { Attributes } from "../../../src/core/types.ts";
import { resource } from "../../support/attributes.ts";

const rule = (r: Partial<PolicyRule>): PolicyRule => ({
  verbs: [],
  apiGroups: [],
  resources: [],
  resourceNames: [],
  nonResourceURLs: [],
  ...r,
});
const res = resource;
const url = (path: string, verb = "get"): Attributes => ({ kind: "nonResource", verb, path });

const pods = { apiGroups: [""], resources: ["pods"] };

const cases: Array<[string, Partial<PolicyRule>, Attributes, boolean]> = [
  // verbs
  ["the verb listed", { ...pods, verbs: ["get", "list"] }, res({ verb: "list" }), true],
  ["another verb", { ...pods, verbs: ["get"] }, res({ verb: "list" }), false],
  ["verb *", { ...pods, verbs: ["*"] }, res({ verb: "escalate" }), true],
  ["a request for verb * needs rule verb *", { ...pods, verbs: ["get"] }, res({ verb: "*" }), false],
  ["verbs compare case-sensitively", { ...pods, verbs: ["GET"] }, res({ verb: "get" }), false],
  // apiGroups
  ["the core group", { apiGroups: [""], resources: ["pods"], verbs: ["get"] }, res({}), true],
  ["another group", { apiGroups: ["apps"], resources: ["pods"], verbs: ["get"] }, res({}), false],
  ["apiGroup *", { apiGroups: ["*"], resources: ["pods"], verbs: ["get"] }, res({ apiGroup: "example.com" }), true],
  ["no apiGroups matches nothing", { resources: ["pods"], verbs: ["get"] }, res({}), false],
  // resources and subresources
  ["resource *", { apiGroups: [""], resources: ["*"], verbs: ["get"] }, res({ resource: "secrets" }), true],
  ["resource * covers subresources", { apiGroups: [""], resources: ["*"], verbs: ["get"] }, res({ subresource: "log" }), true],
  ["a resource does not cover its subresources", { ...pods, verbs: ["get"] }, res({ subresource: "log" }), false],
  ["resource/subresource", { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }, res({ subresource: "log" }), true],
  ["resource/subresource is not the resource", { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }, res({}), false],
  ["another subresource", { apiGroups: [""], resources: ["pods/log"], verbs: ["get"] }, res({ subresource: "exec" }), false],
  [
    "*/subresource",
    { apiGroups: ["*"], resources: ["*/scale"], verbs: ["get"] },
    res({ resource: "deployments", subresource: "scale" }),
    true,
  ],
  [
    "*/subresource needs that subresource",
    { apiGroups: ["*"], resources: ["*/scale"], verbs: ["get"] },
    res({ resource: "deployments" }),
    false,
  ],
  ["*/subresource is exact", { apiGroups: ["*"], resources: ["*/scale"], verbs: ["get"] }, res({ subresource: "scales" }), false],
  ["resource/* is literal", { apiGroups: [""], resources: ["pods/*"], verbs: ["get"] }, res({ subresource: "log" }), false],
  ["resource/* matches subresource *", { apiGroups: [""], resources: ["pods/*"], verbs: ["get"] }, res({ subresource: "*" }), true],
  ["*/* matches only subresource *", { apiGroups: [""], resources: ["*/*"], verbs: ["get"] }, res({ subresource: "log" }), false],
  ["*/* and subresource *", { apiGroups: [""], resources: ["*/*"], verbs: ["get"] }, res({ subresource: "*" }), true],
  ["a request for resource * needs rule resource *", { ...pods, verbs: ["get"] }, res({ resource: "*" }), false],
  ["resources compare case-sensitively", { apiGroups: [""], resources: ["Pods"], verbs: ["get"] }, res({}), false],
  // resourceNames
  ["no resourceNames: any name", { ...pods, verbs: ["get"] }, res({ name: "web" }), true],
  ["no resourceNames: no name", { ...pods, verbs: ["list"] }, res({ verb: "list" }), true],
  ["a listed name", { ...pods, resourceNames: ["web", "db"], verbs: ["get"] }, res({ name: "db" }), true],
  ["another name", { ...pods, resourceNames: ["web"], verbs: ["get"] }, res({ name: "db" }), false],
  [
    "resourceNames never match a request without a name",
    { ...pods, resourceNames: ["web"], verbs: ["list"] },
    res({ verb: "list" }),
    false,
  ],
  [
    'resourceNames listing "" match a request without a name',
    { ...pods, resourceNames: [""], verbs: ["list"] },
    res({ verb: "list" }),
    true,
  ],
  ["resourceName * is literal", { ...pods, resourceNames: ["*"], verbs: ["get"] }, res({ name: "web" }), false],
  [
    "resourceNames apply to subresources",
    { apiGroups: [""], resources: ["pods/log"], resourceNames: ["web"], verbs: ["get"] },
    res({ subresource: "log", name: "web" }),
    true,
  ],
  // non-resource URLs
  ["the URL", { nonResourceURLs: ["/metrics"], verbs: ["get"] }, url("/metrics"), true],
  ["URLs are exact", { nonResourceURLs: ["/metrics"], verbs: ["get"] }, url("/metrics/"), false],
  ["URL verb", { nonResourceURLs: ["/metrics"], verbs: ["get"] }, url("/metrics", "post"), false],
  ["URL *", { nonResourceURLs: ["*"], verbs: ["get"] }, url("/anything/at/all"), true],
  ["trailing * is a prefix", { nonResourceURLs: ["/metrics*"], verbs: ["get"] }, url("/metricsx/y"), true],
  ["trailing * matches the prefix itself", { nonResourceURLs: ["/metrics/*"], verbs: ["get"] }, url("/metrics/"), true],
  ["/x/* does not match /x", { nonResourceURLs: ["/metrics/*"], verbs: ["get"] }, url("/metrics"), false],
  ["several trailing * are one prefix", { nonResourceURLs: ["/logs**"], verbs: ["get"] }, url("/logsabc"), true],
  ["a * inside is literal", { nonResourceURLs: ["/a*b"], verbs: ["get"] }, url("/axb"), false],
  ["a * inside matches itself", { nonResourceURLs: ["/a*b"], verbs: ["get"] }, url("/a*b"), true],
  ["/ is not a prefix", { nonResourceURLs: ["/"], verbs: ["get"] }, url("/metrics"), false],
  // the two kinds of rules do not mix
  ["a URL rule does not allow resources", { nonResourceURLs: ["*"], verbs: ["*"] }, res({}), false],
  ["a resource rule does not allow URLs", { apiGroups: ["*"], resources: ["*"], verbs: ["*"] }, url("/metrics"), false],
];

describe("an RBAC rule", () => {
  for (const [why, r, attributes, allowed] of cases) {
    it(`${allowed ? "allows" : "does not allow"}: ${why}`, () => {
      assert.equal(ruleAllows(ruleRequest(attributes), rule(r)), allowed);
    });
  }
});
