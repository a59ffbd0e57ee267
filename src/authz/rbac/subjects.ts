// Whether a binding's subject names a user, as appliesToUser of the apiserver's rule resolver
// (pkg/registry/rbac/validation/rule.go), and the keys the snapshot indexes subjects by.
import type { UserInfo } from "../../core/types.ts";
import type { Subject } from "./types.ts";

/** The user name a ServiceAccount authenticates as. */
export function serviceAccountUsername(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

/**
 * The user name a subject names, for User and ServiceAccount subjects; undefined for groups and for
 * a ServiceAccount with no namespace to default to (which the apiserver never matches).
 * `bindingNamespace` is "" for a ClusterRoleBinding.
 */
export function subjectUsername(subject: Subject, bindingNamespace: string): string | undefined {
  if (subject.kind === "User") return subject.name;
  if (subject.kind !== "ServiceAccount") return undefined;
  const namespace = subject.namespace || bindingNamespace;
  return namespace ? serviceAccountUsername(namespace, subject.name) : undefined;
}

export function appliesToUser(user: UserInfo, subject: Subject, bindingNamespace: string): boolean {
  if (subject.kind === "Group") return user.groups.includes(subject.name);
  return subjectUsername(subject, bindingNamespace) === user.name;
}

/** The first subject of a binding that names the user, as the apiserver reports it. */
export function firstApplyingSubject(user: UserInfo, subjects: readonly Subject[], bindingNamespace: string): Subject | undefined {
  return subjects.find((s) => appliesToUser(user, s, bindingNamespace));
}

/** `User "alice"`, `Group "team"`, `ServiceAccount "name/namespace"`: the apiserver's wording. */
export function describeSubject(subject: Subject, bindingNamespace: string): string {
  if (subject.kind === "ServiceAccount") return `ServiceAccount ${quote(`${subject.name}/${subject.namespace || bindingNamespace}`)}`;
  return `${subject.kind} ${quote(subject.name)}`;
}

/** Go's %q for the names Kubernetes allows; JSON escaping keeps odd manifest names readable too. */
export function quote(s: string): string {
  return JSON.stringify(s);
}
