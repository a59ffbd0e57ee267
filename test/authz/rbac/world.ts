// A seeded, generated RBAC world, shared by the index test and the differential test against the
// real kube-apiserver (cases.ts makes the requests). Everything comes from one PRNG, so a
// seed is a reproducible world. The vocabulary is small on purpose: names collide often, so rules
// and requests meet, and every rule form (wildcards, `*\/subresource`, resourceNames, trailing `*`
// URLs, RoleBinding to ClusterRole, ServiceAccounts with and without namespace, aggregation) shows.
import { resolveAggregation } from "../../../src/authz/rbac/aggregation.ts";
import { parseRbacObject } from "../../../src/authz/rbac/schema.ts";
import type { RbacKind, RbacObjects } from "../../../src/authz/rbac/types.ts";

import { prng } from "../../support/prng.ts";

export { prng };
export type Rng = ReturnType<typeof prng>;

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes JSON as applied
export type KubeObject = Record<string, any>;

export const NAMESPACES = ["rb-a", "rb-b", "rb-c"] as const;
export const SA_NAMES = ["alpha", "beta", "gamma"] as const;
export const USERS = ["alice", "bob", "carol", "system:serviceaccount:rb-a:alpha"] as const;
export const GROUPS = [
  "team-a",
  "team-b",
  "system:authenticated",
  "system:serviceaccounts",
  "system:serviceaccounts:rb-a",
  "system:serviceaccounts:rb-b",
];
export const VERBS = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "escalate", "*"];
export const API_GROUPS = ["", "apps", "batch", "example.com", "*"];
const RULE_RESOURCES = [
  "pods",
  "pods/log",
  "pods/exec",
  "pods/*",
  "deployments",
  "deployments/scale",
  "*/scale",
  "*/status",
  "*",
  "*/*",
  "secrets",
  "jobs",
];
export const RESOURCE_NAMES = ["web", "db", "x"];
// The apiserver accepts an empty resource name in a rule, and it then matches requests without one.
const RULE_RESOURCE_NAMES = [...RESOURCE_NAMES, ""];
const RULE_URLS = ["/metrics", "/metrics*", "/metrics/*", "/logs/*", "/logs**", "/healthz", "/api/*", "/", "*", "/a*b"];

const RBAC = "rbac.authorization.k8s.io/v1";

export interface World {
  /** As a cluster stores them: aggregated ClusterRoles carry their resolved rules. */
  objects: KubeObject[];
  /** As a user writes them: aggregated ClusterRoles carry decoy rules, to be resolved by the loader. */
  manifests: KubeObject[];
}

const SIZE = { roles: 24, clusterRoles: 18, aggregated: 5, roleBindings: 60, clusterRoleBindings: 24 };
const PREFIX = "gen"; // every generated name starts so, to tell them from the bootstrap policy

export function generateWorld(rng: Rng): World {
  const roles = Array.from({ length: SIZE.roles }, (_, i) => ({
    apiVersion: RBAC,
    kind: "Role",
    metadata: { name: `${PREFIX}-role-${i % 8}`, namespace: NAMESPACES[Math.floor(i / 8) % NAMESPACES.length] },
    rules: Array.from({ length: 1 + rng.int(3) }, () => resourceRule(rng)),
  }));
  const uniqueRoles = [...new Map(roles.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r])).values()];
  const leaves = Array.from({ length: SIZE.clusterRoles }, (_, i) => ({
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name: `${PREFIX}-cr-${i}`, labels: {} as Record<string, string> },
    rules: Array.from({ length: 1 + rng.int(3) }, () => (rng.chance(0.35) ? urlRule(rng) : resourceRule(rng))),
  }));
  const { aggregated, decoys } = aggregate(rng, leaves, SIZE.aggregated);
  const clusterRoleNames = [...leaves, ...aggregated].map((r) => r.metadata.name);
  const roleBindings = Array.from({ length: SIZE.roleBindings }, (_, i) => {
    const namespace = rng.pick(NAMESPACES);
    const toRole = rng.chance(0.5);
    const roleNames = uniqueRoles.filter((r) => r.metadata.namespace === namespace).map((r) => r.metadata.name);
    return {
      apiVersion: RBAC,
      kind: "RoleBinding",
      metadata: { name: `${PREFIX}-rb-${i}`, namespace },
      roleRef: toRole
        ? {
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: rng.chance(0.9) && roleNames.length ? rng.pick(roleNames) : `${PREFIX}-missing`,
          }
        : { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: rng.pick(clusterRoleNames) },
      subjects: Array.from({ length: 1 + rng.int(3) }, () => subject(rng, true)),
    };
  });
  const clusterRoleBindings = Array.from({ length: SIZE.clusterRoleBindings }, (_, i) => ({
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name: `${PREFIX}-crb-${i}` },
    roleRef: {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: rng.chance(0.95) ? rng.pick(clusterRoleNames) : `${PREFIX}-missing`,
    },
    subjects: Array.from({ length: 1 + rng.int(2) }, () => subject(rng, false)),
  }));
  const common = [...uniqueRoles, ...leaves, ...roleBindings, ...clusterRoleBindings];
  return { objects: [...common, ...aggregated], manifests: [...common, ...decoys] };
}

function resourceRule(rng: Rng): KubeObject {
  const rule: KubeObject = { apiGroups: rng.some(API_GROUPS, 2), resources: rng.some(RULE_RESOURCES, 3), verbs: rng.some(VERBS, 3) };
  if (rng.chance(0.3)) rule.resourceNames = rng.some(RULE_RESOURCE_NAMES, 2);
  return rule;
}

function urlRule(rng: Rng): KubeObject {
  return { nonResourceURLs: rng.some(RULE_URLS, 2), verbs: rng.some(VERBS, 2) };
}

function subject(rng: Rng, inRoleBinding: boolean): KubeObject {
  const r = rng.next();
  if (r < 0.3) return { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: rng.pick(USERS) };
  if (r < 0.6) return { kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: rng.pick(GROUPS) };
  // A RoleBinding's ServiceAccount may leave out the namespace: it is the binding's.
  if (inRoleBinding && rng.chance(0.3)) return { kind: "ServiceAccount", name: rng.pick(SA_NAMES) };
  return { kind: "ServiceAccount", name: rng.pick(SA_NAMES), namespace: rng.pick(NAMESPACES) };
}

// Aggregated ClusterRoles whose members are chosen first and then described by labels and a
// selector of one of several forms, so the resolved rules are known by construction, not by the
// selector logic under test. The last aggregated role may also take in an earlier one (nesting).
function aggregate(rng: Rng, leaves: KubeObject[], count: number) {
  const aggregated: KubeObject[] = [];
  const decoys: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const key = `${PREFIX}.example.com/agg-${i}`;
    const members = leaves.filter(() => rng.chance(0.25));
    const others = leaves.filter((l) => !members.includes(l));
    const form = i % 4;
    for (const m of members) m.metadata.labels[key] = form === 2 ? rng.pick(["a", "b"]) : "true";
    // Near misses that a correct selector must leave out.
    for (const o of others.filter(() => rng.chance(0.2))) {
      if (form === 2) o.metadata.labels[key] = "c";
      if (form === 3) {
        o.metadata.labels[key] = "true";
        o.metadata.labels[`${key}-exclude`] = "yes";
      }
    }
    const selector =
      form === 0
        ? { matchLabels: { [key]: "true" } }
        : form === 1
          ? { matchExpressions: [{ key, operator: "Exists" }] }
          : form === 2
            ? { matchExpressions: [{ key, operator: "In", values: ["a", "b"] }] }
            : { matchLabels: { [key]: "true" }, matchExpressions: [{ key: `${key}-exclude`, operator: "DoesNotExist" }] };
    const nested = i === count - 1 && i > 0 ? aggregated[0] : undefined;
    if (nested) nested.metadata.labels = { ...nested.metadata.labels, [`${key}-nested`]: "true" };
    const selectors = nested ? [selector, { matchLabels: { [`${key}-nested`]: "true" } }] : [selector];
    const rules = dedupe([...members.flatMap((m) => m.rules), ...(nested?.rules ?? [])]);
    const base = { apiVersion: RBAC, kind: "ClusterRole", aggregationRule: { clusterRoleSelectors: selectors } };
    const metadata = { name: `${PREFIX}-agg-${i}`, labels: {} as Record<string, string> };
    aggregated.push({ ...base, metadata, rules });
    decoys.push({ ...base, metadata, rules: rng.chance(0.5) ? [] : [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }] });
  }
  return { aggregated, decoys };
}

function dedupe(rules: KubeObject[]): KubeObject[] {
  return [...new Map(rules.map((r) => [JSON.stringify(r), r])).values()];
}

/** The raw objects as the evaluator reads them (aggregation resolved, as the manifest loader does). */
export function toObjects(raw: readonly KubeObject[]): RbacObjects {
  const of = <K extends RbacKind>(kind: K) => raw.filter((o) => o.kind === kind).map((o) => parseRbacObject(kind, o, "manifest"));
  return {
    roles: of("Role"),
    clusterRoles: resolveAggregation(of("ClusterRole")),
    roleBindings: of("RoleBinding"),
    clusterRoleBindings: of("ClusterRoleBinding"),
  };
}
