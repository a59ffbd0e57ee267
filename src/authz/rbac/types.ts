// The four rbac.authorization.k8s.io/v1 kinds, reduced to what a decision reads. Both sources (the
// cluster's informers and manifest files) produce these, so the evaluator never sees client-node or
// YAML types. Lists are always present (empty when the object leaves them out).

export interface PolicyRule {
  verbs: readonly string[];
  apiGroups: readonly string[];
  resources: readonly string[];
  resourceNames: readonly string[];
  nonResourceURLs: readonly string[];
}

export type SubjectKind = "User" | "Group" | "ServiceAccount";

export interface Subject {
  kind: SubjectKind;
  name: string;
  /** ServiceAccount only; in a RoleBinding an empty namespace means the binding's own. */
  namespace: string;
}

export interface RoleRef {
  kind: "Role" | "ClusterRole";
  name: string;
}

/** metav1.LabelSelector: every matchLabels pair and every expression must hold. */
export interface LabelSelector {
  matchLabels: Readonly<Record<string, string>>;
  matchExpressions: ReadonlyArray<{ key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values: readonly string[] }>;
}

export interface Role {
  name: string;
  namespace: string;
  rules: readonly PolicyRule[];
}

export interface ClusterRole {
  name: string;
  labels: Readonly<Record<string, string>>;
  rules: readonly PolicyRule[];
  /** Set on aggregated ClusterRoles: their rules are the union of the selected ClusterRoles' rules. */
  aggregationRule?: { clusterRoleSelectors: readonly LabelSelector[] };
}

export interface RoleBinding {
  name: string;
  namespace: string;
  roleRef: RoleRef;
  subjects: readonly Subject[];
}

export interface ClusterRoleBinding {
  name: string;
  roleRef: RoleRef;
  subjects: readonly Subject[];
}

/** One complete state of a source: everything a snapshot is built from. */
export interface RbacObjects {
  roles: readonly Role[];
  clusterRoles: readonly ClusterRole[];
  roleBindings: readonly RoleBinding[];
  clusterRoleBindings: readonly ClusterRoleBinding[];
}

export const RBAC_API_VERSION = "rbac.authorization.k8s.io/v1";

export const RBAC_KINDS = ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] as const;
export type RbacKind = (typeof RBAC_KINDS)[number];
