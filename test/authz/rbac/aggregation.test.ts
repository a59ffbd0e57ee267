// Label selectors as LabelSelectorAsSelector reads them, and ClusterRole aggregation as the
// clusterrole-aggregation controller resolves it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveAggregation } from "../../../src/authz/rbac/aggregation.ts";
import { selectorMatches } from "../../../src/authz/rbac/selector.ts";
import type { ClusterRole, LabelSelector, PolicyRule } from "../../../src/authz/rbac/types.ts";

const sel = (s: Partial<LabelSelector>): LabelSelector => ({ matchLabels: {}, matchExpressions: [], ...s });

describe("a label selector", () => {
  const cases: Array<[string, LabelSelector, Record<string, string>, boolean]> = [
    ["empty matches everything", sel({}), { a: "1" }, true],
    ["matchLabels equal", sel({ matchLabels: { a: "1" } }), { a: "1", b: "2" }, true],
    ["matchLabels other value", sel({ matchLabels: { a: "1" } }), { a: "2" }, false],
    ["matchLabels missing", sel({ matchLabels: { a: "1" } }), {}, false],
    ["matchLabels all of them", sel({ matchLabels: { a: "1", b: "2" } }), { a: "1" }, false],
    ["In", sel({ matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] }), { a: "2" }, true],
    ["In, other value", sel({ matchExpressions: [{ key: "a", operator: "In", values: ["1"] }] }), { a: "3" }, false],
    ["In, missing", sel({ matchExpressions: [{ key: "a", operator: "In", values: ["1"] }] }), {}, false],
    ["NotIn, other value", sel({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }), { a: "2" }, true],
    ["NotIn, missing key", sel({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }), {}, true],
    ["NotIn, listed value", sel({ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }), { a: "1" }, false],
    ["Exists", sel({ matchExpressions: [{ key: "a", operator: "Exists", values: [] }] }), { a: "" }, true],
    ["Exists, missing", sel({ matchExpressions: [{ key: "a", operator: "Exists", values: [] }] }), { b: "1" }, false],
    ["DoesNotExist", sel({ matchExpressions: [{ key: "a", operator: "DoesNotExist", values: [] }] }), { b: "1" }, true],
    ["DoesNotExist, present", sel({ matchExpressions: [{ key: "a", operator: "DoesNotExist", values: [] }] }), { a: "1" }, false],
    [
      "labels and expressions together",
      sel({ matchLabels: { a: "1" }, matchExpressions: [{ key: "x", operator: "DoesNotExist", values: [] }] }),
      { a: "1", x: "" },
      false,
    ],
    ["an inherited property is no label", sel({ matchExpressions: [{ key: "constructor", operator: "Exists", values: [] }] }), {}, false],
  ];
  for (const [why, selector, labels, expected] of cases) {
    it(`${expected ? "matches" : "does not match"}: ${why}`, () => assert.equal(selectorMatches(selector, labels), expected));
  }
});

const rule = (resource: string): PolicyRule => ({
  verbs: ["get"],
  apiGroups: [""],
  resources: [resource],
  resourceNames: [],
  nonResourceURLs: [],
});
const leaf = (name: string, labels: Record<string, string>, ...resources: string[]): ClusterRole => ({
  name,
  labels,
  rules: resources.map(rule),
});
const aggregated = (name: string, labels: Record<string, string>, selectors: LabelSelector[], ...decoys: string[]): ClusterRole => ({
  name,
  labels,
  rules: decoys.map(rule),
  aggregationRule: { clusterRoleSelectors: selectors },
});
const rulesOf = (roles: ClusterRole[], name: string) => roles.find((r) => r.name === name)?.rules.map((r) => r.resources[0]);

describe("ClusterRole aggregation", () => {
  it("unites the rules of the selected roles, once each, and replaces the role's own", () => {
    const roles = resolveAggregation([
      leaf("b-pods", { agg: "view" }, "pods", "services"),
      leaf("a-secrets", { agg: "view" }, "secrets", "pods"),
      leaf("other", { agg: "edit" }, "deployments"),
      aggregated("view", {}, [sel({ matchLabels: { agg: "view" } })], "everything-decoy"),
    ]);
    // Selected roles are taken in name order, as the controller does.
    assert.deepEqual(rulesOf(roles, "view"), ["secrets", "pods", "services"]);
    assert.deepEqual(rulesOf(roles, "other"), ["deployments"]);
  });

  it("resolves nested aggregation, and a role never aggregates itself", () => {
    const roles = resolveAggregation([
      leaf("view-pods", { "to-view": "true" }, "pods"),
      leaf("edit-deploy", { "to-edit": "true" }, "deployments"),
      // admin selects edit selects view, defined in the opposite order.
      aggregated("admin", {}, [sel({ matchExpressions: [{ key: "to-admin", operator: "Exists", values: [] }] })]),
      aggregated("edit", { "to-admin": "true" }, [sel({ matchLabels: { "to-edit": "true" } })]),
      aggregated("view", { "to-edit": "true", "to-view": "true" }, [sel({ matchLabels: { "to-view": "true" } })]),
    ]);
    assert.deepEqual(rulesOf(roles, "view"), ["pods"]);
    assert.deepEqual(rulesOf(roles, "edit"), ["deployments", "pods"]);
    assert.deepEqual(rulesOf(roles, "admin"), ["deployments", "pods"]);
  });

  it("settles on the least fixed point in a cycle", () => {
    const roles = resolveAggregation([
      leaf("p", { a: "1" }, "pods"),
      leaf("s", { b: "1" }, "secrets"),
      aggregated("x", { b: "1" }, [sel({ matchLabels: { a: "1" } })], "decoy"),
      aggregated("y", { a: "1" }, [sel({ matchLabels: { b: "1" } })], "decoy"),
    ]);
    assert.deepEqual(rulesOf(roles, "x")?.sort(), ["pods", "secrets"]);
    assert.deepEqual(rulesOf(roles, "y")?.sort(), ["pods", "secrets"]);
  });

  it("an aggregated role that selects nothing has no rules", () => {
    const roles = resolveAggregation([aggregated("lonely", {}, [sel({ matchLabels: { none: "x" } })], "decoy")]);
    assert.deepEqual(rulesOf(roles, "lonely"), []);
  });
});
