// Which bindings apply to whom and where, as the apiserver's rule resolver decides: subjects,
// RoleBindings scoped to their namespace (also when they reference a ClusterRole),
// ClusterRoleBindings everywhere, non-resource URLs only through ClusterRoleBindings, and the
// reason naming the binding, the role and the subject.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildSnapshot } from "../../../src/authz/rbac/snapshot.ts";
import type { Attributes, UserInfo } from "../../../src/core/types.ts";
import { type KubeObject, toObjects } from "./world.ts";

const RBAC = "rbac.authorization.k8s.io/v1";
const user = (name: string, groups: string[] = []): UserInfo => ({ name, uid: "", groups, extra: {} });
const getPods = (namespace: string, name = ""): Attributes => ({
  kind: "resource",
  verb: "get",
  namespace,
  apiGroup: "",
  apiVersion: "v1",
  resource: "pods",
  subresource: "",
  name,
});
const metrics: Attributes = { kind: "nonResource", verb: "get", path: "/metrics" };

const podReader = { apiGroups: [""], resources: ["pods"], verbs: ["get"] };
const world: KubeObject[] = [
  { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "pod-reader" }, rules: [podReader] },
  { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "metrics" }, rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }] },
  { apiVersion: RBAC, kind: "Role", metadata: { name: "local-reader", namespace: "a" }, rules: [podReader] },
  { apiVersion: RBAC, kind: "Role", metadata: { name: "local-reader-b", namespace: "b" }, rules: [podReader] },
  binding("RoleBinding", "alice-local", "a", { kind: "Role", name: "local-reader" }, [{ kind: "User", name: "alice" }]),
  // A Role of another namespace: the apiserver looks it up in the binding's namespace, finds nothing.
  binding("RoleBinding", "alice-other-ns-role", "a", { kind: "Role", name: "local-reader-b" }, [{ kind: "User", name: "amy" }]),
  binding("RoleBinding", "team-cluster-role", "b", { kind: "ClusterRole", name: "pod-reader" }, [{ kind: "Group", name: "team" }]),
  binding("RoleBinding", "sa-default-ns", "a", { kind: "ClusterRole", name: "pod-reader" }, [{ kind: "ServiceAccount", name: "robot" }]),
  binding("RoleBinding", "sa-other-ns", "a", { kind: "ClusterRole", name: "pod-reader" }, [
    { kind: "ServiceAccount", name: "spy", namespace: "c" },
  ]),
  binding("RoleBinding", "metrics-in-ns", "a", { kind: "ClusterRole", name: "metrics" }, [{ kind: "User", name: "alice" }]),
  binding("ClusterRoleBinding", "bob-everywhere", "", { kind: "ClusterRole", name: "pod-reader" }, [{ kind: "User", name: "bob" }]),
  binding("ClusterRoleBinding", "scrapers", "", { kind: "ClusterRole", name: "metrics" }, [
    { kind: "Group", name: "nobody" },
    { kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" },
    { kind: "Group", name: "system:serviceaccounts:monitoring" },
  ]),
  binding("ClusterRoleBinding", "all-sas", "", { kind: "ClusterRole", name: "pod-reader" }, [
    { kind: "Group", name: "system:serviceaccounts:ops" },
  ]),
  binding("ClusterRoleBinding", "missing-role", "", { kind: "ClusterRole", name: "does-not-exist" }, [{ kind: "User", name: "carol" }]),
];

function binding(
  kind: string,
  name: string,
  namespace: string,
  roleRef: { kind: string; name: string },
  subjects: KubeObject[],
): KubeObject {
  const metadata = namespace ? { name, namespace } : { name };
  return { apiVersion: RBAC, kind, metadata, roleRef: { apiGroup: "rbac.authorization.k8s.io", ...roleRef }, subjects };
}

const snapshot = buildSnapshot(toObjects(world));

const cases: Array<[string, UserInfo, Attributes, string | undefined]> = [
  [
    "a RoleBinding to a Role, in its namespace",
    user("alice"),
    getPods("a"),
    'allowed by RoleBinding "alice-local/a" of Role "local-reader" to User "alice"',
  ],
  ["a RoleBinding, not in another namespace", user("alice"), getPods("b"), undefined],
  ["a RoleBinding, not cluster-wide (no namespace)", user("alice"), getPods(""), undefined],
  ["a RoleBinding to a Role of another namespace grants nothing", user("amy"), getPods("a"), undefined],
  [
    "a RoleBinding to a ClusterRole, in its namespace",
    user("x", ["team"]),
    getPods("b"),
    'allowed by RoleBinding "team-cluster-role/b" of ClusterRole "pod-reader" to Group "team"',
  ],
  ["a RoleBinding to a ClusterRole, not elsewhere", user("x", ["team"]), getPods("a"), undefined],
  ["a RoleBinding never allows non-resource URLs", user("alice"), metrics, undefined],
  [
    "a ServiceAccount without namespace is the binding's",
    user("system:serviceaccount:a:robot"),
    getPods("a"),
    'allowed by RoleBinding "sa-default-ns/a" of ClusterRole "pod-reader" to ServiceAccount "robot/a"',
  ],
  ["a ServiceAccount without namespace is not another namespace's", user("system:serviceaccount:b:robot"), getPods("a"), undefined],
  [
    "a ServiceAccount of another namespace",
    user("system:serviceaccount:c:spy"),
    getPods("a"),
    'allowed by RoleBinding "sa-other-ns/a" of ClusterRole "pod-reader" to ServiceAccount "spy/c"',
  ],
  [
    "a ClusterRoleBinding, in any namespace",
    user("bob"),
    getPods("zzz"),
    'allowed by ClusterRoleBinding "bob-everywhere" of ClusterRole "pod-reader" to User "bob"',
  ],
  [
    "a ClusterRoleBinding, cluster-wide",
    user("bob"),
    getPods(""),
    'allowed by ClusterRoleBinding "bob-everywhere" of ClusterRole "pod-reader" to User "bob"',
  ],
  [
    "a ClusterRoleBinding allows non-resource URLs",
    user("system:serviceaccount:monitoring:prometheus"),
    metrics,
    'allowed by ClusterRoleBinding "scrapers" of ClusterRole "metrics" to ServiceAccount "prometheus/monitoring"',
  ],
  [
    "the reason names the first subject that applies",
    user("system:serviceaccount:monitoring:prometheus", ["system:serviceaccounts:monitoring"]),
    metrics,
    'allowed by ClusterRoleBinding "scrapers" of ClusterRole "metrics" to ServiceAccount "prometheus/monitoring"',
  ],
  [
    "system:serviceaccounts:<ns> works as any group the user is in",
    user("system:serviceaccount:ops:x", ["system:serviceaccounts:ops"]),
    getPods("q"),
    'allowed by ClusterRoleBinding "all-sas" of ClusterRole "pod-reader" to Group "system:serviceaccounts:ops"',
  ],
  ["the group is not added by the user name alone", user("system:serviceaccount:ops:x"), getPods("q"), undefined],
  ["a User subject is not a group", user("team"), getPods("b"), undefined],
  ["a group subject is not a user", user("x", ["alice"]), getPods("a"), undefined],
  ["a binding to a missing role grants nothing", user("carol"), getPods("a"), undefined],
  ["nobody else", user("mallory", ["system:authenticated"]), getPods("a"), undefined],
];

describe("an RBAC snapshot", () => {
  for (const [why, u, attributes, reason] of cases) {
    it(`${reason ? "allows" : "does not allow"}: ${why}`, () => {
      assert.equal(snapshot.allowedBy(u, attributes), reason);
    });
  }

  it("counts objects and bindings to missing roles", () => {
    assert.deepEqual(snapshot.counts, { roles: 2, clusterRoles: 2, roleBindings: 6, clusterRoleBindings: 4 });
    assert.equal(snapshot.danglingBindings, 2);
  });
});
