// An immutable, indexed state of RBAC: every binding with its role's rules resolved, reachable from
// the user names and group names its subjects name. A decision looks up the caller's user name and
// each of its groups, so it touches only the bindings that can apply to the caller, however many
// bindings the cluster has. The walk is the apiserver's VisitRulesFor: ClusterRoleBindings first,
// then, for a namespaced resource request, the RoleBindings of that namespace.
import type { Attributes, UserInfo } from "../../core/types.ts";
import { type RuleRequest, ruleRequest, rulesAllow } from "./rules.ts";
import { describeSubject, firstApplyingSubject, quote, subjectUsername } from "./subjects.ts";
import type { PolicyRule, RbacObjects, RoleRef, Subject } from "./types.ts";

interface IndexedBinding {
  kind: "ClusterRoleBinding" | "RoleBinding";
  name: string;
  /** "" for a ClusterRoleBinding. */
  namespace: string;
  roleRef: RoleRef;
  subjects: readonly Subject[];
  /** The referenced role's rules (the role's own array: bindings of one role share it). */
  rules: readonly PolicyRule[];
}

// Under each user or group name: the bindings that name it, one per distinct role. Bindings of
// the same role grant the same, so a decision checks the rules of `view` once, not once per
// binding to `view` (clusters have hundreds of those).
interface SubjectIndex {
  byUser: Map<string, Map<readonly PolicyRule[], IndexedBinding>>;
  byGroup: Map<string, Map<readonly PolicyRule[], IndexedBinding>>;
}

export interface RbacSnapshot {
  /** Why RBAC allows, in the apiserver's words; undefined when no binding does. */
  allowedBy(user: UserInfo, attributes: Attributes): string | undefined;
  readonly counts: { roles: number; clusterRoles: number; roleBindings: number; clusterRoleBindings: number };
  /** Bindings whose role does not exist: they grant nothing until it does. */
  readonly danglingBindings: number;
}

export function buildSnapshot(objects: RbacObjects): RbacSnapshot {
  const roleRules = new Map(objects.roles.map((r) => [`${r.namespace}/${r.name}`, r.rules]));
  const clusterRoleRules = new Map(objects.clusterRoles.map((r) => [r.name, r.rules]));
  let danglingBindings = 0;
  // A ClusterRoleBinding may only reference a ClusterRole; the apiserver finds no Role outside a namespace.
  const resolve = (ref: RoleRef, namespace: string): readonly PolicyRule[] => {
    const rules =
      ref.kind === "ClusterRole" ? clusterRoleRules.get(ref.name) : namespace ? roleRules.get(`${namespace}/${ref.name}`) : undefined;
    if (!rules) danglingBindings++;
    // A missing role grants nothing, as the apiserver skips it.
    return rules ?? [];
  };

  const cluster = emptyIndex();
  for (const b of objects.clusterRoleBindings) {
    add(cluster, { kind: "ClusterRoleBinding", namespace: "", ...b, rules: resolve(b.roleRef, "") });
  }
  const namespaces = new Map<string, SubjectIndex>();
  for (const b of objects.roleBindings) {
    const index = namespaces.get(b.namespace) ?? emptyIndex();
    namespaces.set(b.namespace, index);
    add(index, { kind: "RoleBinding", ...b, rules: resolve(b.roleRef, b.namespace) });
  }

  return {
    counts: {
      roles: objects.roles.length,
      clusterRoles: objects.clusterRoles.length,
      roleBindings: objects.roleBindings.length,
      clusterRoleBindings: objects.clusterRoleBindings.length,
    },
    danglingBindings,
    allowedBy(user, attributes) {
      const request = ruleRequest(attributes);
      let binding = find(cluster, user, request);
      // Only a namespaced resource request is decided by RoleBindings; non-resource requests and
      // cluster-wide resource requests have no namespace.
      const namespace = attributes.kind === "resource" ? attributes.namespace : "";
      if (!binding && namespace) {
        const index = namespaces.get(namespace);
        if (index) binding = find(index, user, request);
      }
      return binding && describeAllow(binding, user);
    },
  };
}

function emptyIndex(): SubjectIndex {
  return { byUser: new Map(), byGroup: new Map() };
}

function add(index: SubjectIndex, binding: IndexedBinding): void {
  if (binding.rules.length === 0) return; // grants nothing
  // A binding that names the same user or group twice is listed once under that key.
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const subject of binding.subjects) {
    if (subject.kind === "Group") groups.add(subject.name);
    else {
      const username = subjectUsername(subject, binding.namespace);
      if (username !== undefined) users.add(username);
    }
  }
  for (const u of users) push(index.byUser, u, binding);
  for (const g of groups) push(index.byGroup, g, binding);
}

function push(map: SubjectIndex["byUser"], key: string, binding: IndexedBinding): void {
  const byRole = map.get(key) ?? new Map<readonly PolicyRule[], IndexedBinding>();
  map.set(key, byRole);
  if (!byRole.has(binding.rules)) byRole.set(binding.rules, binding);
}

function find(index: SubjectIndex, user: UserInfo, request: RuleRequest): IndexedBinding | undefined {
  const found = firstAllowing(index.byUser.get(user.name), request);
  if (found) return found;
  for (const group of user.groups) {
    const viaGroup = firstAllowing(index.byGroup.get(group), request);
    if (viaGroup) return viaGroup;
  }
  return undefined;
}

function firstAllowing(
  byRole: ReadonlyMap<readonly PolicyRule[], IndexedBinding> | undefined,
  request: RuleRequest,
): IndexedBinding | undefined {
  if (!byRole) return undefined;
  for (const [rules, binding] of byRole) if (rulesAllow(request, rules)) return binding;
  return undefined;
}

// `allowed by RoleBinding "name/namespace" of ClusterRole "view" to Group "team"`, as the apiserver
// words it (without its "RBAC: " prefix: the authorizer union names the authorizer).
function describeAllow(b: IndexedBinding, user: UserInfo): string {
  const name = b.kind === "RoleBinding" ? `${b.name}/${b.namespace}` : b.name;
  const subject = firstApplyingSubject(user, b.subjects, b.namespace);
  const to = subject ? ` to ${describeSubject(subject, b.namespace)}` : "";
  return `allowed by ${b.kind} ${quote(name)} of ${b.roleRef.kind} ${quote(b.roleRef.name)}${to}`;
}
