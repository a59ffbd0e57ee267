// The local RBAC evaluator with 10,000 bindings, in process: a cluster-sized world (200
// namespaces, 8,000 RoleBindings, 2,000 ClusterRoleBindings, 500 of them to system:authenticated,
// the group every caller has), and callers with a handful of groups. Part of `npm run bench`.
import { performance } from "node:perf_hooks";
import { buildSnapshot } from "../src/authz/rbac/snapshot.ts";
import type { ClusterRoleBinding, PolicyRule, RbacObjects, RoleBinding, Subject } from "../src/authz/rbac/types.ts";
import type { Attributes, UserInfo } from "../src/core/types.ts";
import { prng } from "../test/authz/rbac/world.ts";

const rng = prng(10_000);
const NAMESPACES = Array.from({ length: 200 }, (_, i) => `ns-${i}`);
const VERBS = ["get", "list", "watch", "create", "update", "delete"];
const RESOURCES = ["pods", "services", "deployments", "configmaps", "secrets", "jobs", "pods/log"];

const rule = (): PolicyRule => ({
  verbs: rng.some(VERBS, 3),
  apiGroups: rng.some(["", "apps", "batch"], 2),
  resources: rng.some(RESOURCES, 3),
  resourceNames: rng.chance(0.2) ? ["web"] : [],
  nonResourceURLs: [],
});
const subject = (namespace: string): Subject => {
  const r = rng.next();
  if (r < 0.4) return { kind: "ServiceAccount", name: `sa-${rng.int(5)}`, namespace };
  if (r < 0.7) return { kind: "User", name: `user-${rng.int(2000)}`, namespace: "" };
  return { kind: "Group", name: `group-${rng.int(500)}`, namespace: "" };
};

function world(): RbacObjects {
  const clusterRoles = Array.from({ length: 100 }, (_, i) => ({
    name: `cr-${i}`,
    labels: {},
    rules: Array.from({ length: 3 + rng.int(3) }, rule),
  }));
  const roles = NAMESPACES.flatMap((namespace) =>
    [0, 1].map((i) => ({ name: `role-${i}`, namespace, rules: Array.from({ length: 3 }, rule) })),
  );
  const roleBindings: RoleBinding[] = Array.from({ length: 8000 }, (_, i) => {
    const namespace = NAMESPACES[i % NAMESPACES.length];
    const roleRef = rng.chance(0.5)
      ? { kind: "Role" as const, name: `role-${rng.int(2)}` }
      : { kind: "ClusterRole" as const, name: `cr-${rng.int(100)}` };
    return { name: `rb-${i}`, namespace, roleRef, subjects: Array.from({ length: 1 + rng.int(3) }, () => subject(namespace)) };
  });
  const clusterRoleBindings: ClusterRoleBinding[] = Array.from({ length: 2000 }, (_, i) => ({
    name: `crb-${i}`,
    roleRef: { kind: "ClusterRole", name: `cr-${rng.int(100)}` },
    subjects: i < 500 ? [{ kind: "Group", name: "system:authenticated", namespace: "" }] : [subject(rng.pick(NAMESPACES))],
  }));
  return { roles, clusterRoles, roleBindings, clusterRoleBindings };
}

function caller(): UserInfo {
  const groups = ["system:authenticated", ...Array.from({ length: 1 + rng.int(4) }, () => `group-${rng.int(500)}`)];
  if (rng.chance(0.5)) {
    const namespace = rng.pick(NAMESPACES);
    groups.push("system:serviceaccounts", `system:serviceaccounts:${namespace}`);
    return { name: `system:serviceaccount:${namespace}:sa-${rng.int(5)}`, uid: "", groups, extra: {} };
  }
  return { name: `user-${rng.int(2000)}`, uid: "", groups, extra: {} };
}

function request(): Attributes {
  if (rng.chance(0.1)) return { kind: "nonResource", verb: "get", path: "/metrics" };
  const [resource, subresource] = rng.pick(RESOURCES).split("/");
  return {
    kind: "resource",
    verb: rng.pick(VERBS),
    namespace: rng.pick([...NAMESPACES.slice(0, 20), ""]),
    apiGroup: rng.pick(["", "apps", "batch"]),
    apiVersion: "v1",
    resource,
    subresource: subresource ?? "",
    name: rng.pick(["", "web", "db"]),
  };
}

export interface EvaluatorFigures {
  bindings: number;
  buildMs: number;
  perDecisionUs: number;
  allowedUs: number;
  notAllowedUs: number;
}

export function measureRbacEvaluator(): EvaluatorFigures {
  const objects = world();
  const started = performance.now();
  const snapshot = buildSnapshot(objects);
  const buildMs = performance.now() - started;
  // Allowed decisions stop at the first allowing binding; the others look at every candidate.
  const cases = Array.from({ length: 4000 }, () => ({ user: caller(), attributes: request() }));
  const allowed = cases.filter((c) => snapshot.allowedBy(c.user, c.attributes) !== undefined);
  const denied = cases.filter((c) => snapshot.allowedBy(c.user, c.attributes) === undefined);
  const cost = (set: typeof cases) => {
    const rounds = Math.ceil(100_000 / set.length);
    const start = performance.now();
    for (let r = 0; r < rounds; r++) for (const c of set) snapshot.allowedBy(c.user, c.attributes);
    return ((performance.now() - start) * 1000) / (rounds * set.length);
  };
  return {
    bindings: objects.roleBindings.length + objects.clusterRoleBindings.length,
    buildMs,
    perDecisionUs: cost(cases),
    allowedUs: cost(allowed),
    notAllowedUs: cost(denied),
  };
}
