// Kubernetes RBAC decided here, from a source's last complete state, without a SubjectAccessReview.
// RBAC only ever grants: no binding allowing is "no opinion" (the next authorizer, or the engine,
// decides), never an explicit deny. Before the source's first complete state there is no answer
// at all: an error, which fails closed (503), not a deny that would look like a real decision.
import type { Authorizer, Decision } from "../types.ts";
import type { RbacSnapshot } from "./snapshot.ts";

/** Where the RBAC state comes from (the cluster's informers, or manifest files). */
export interface RbacStore {
  /** The state decisions read: immutable, replaced whole on every change; undefined until ready. */
  snapshot(): RbacSnapshot | undefined;
  /** True once the first complete state is in (every kind listed, or every file read). */
  readonly ready: boolean;
  /** The last moment the state was known to match its source; undefined until ready. While the
   *  informers' watches are all connected this is now; when one breaks it stays at that moment,
   *  so now - syncedAt is how stale decisions may be. Manifests: when they were read. */
  readonly syncedAt: Date | undefined;
}

export function rbacAuthorizer(store: RbacStore) {
  return {
    async authorize(user, attributes): Promise<Decision> {
      const snapshot = store.snapshot();
      if (!snapshot) return { kind: "error", error: new Error("local RBAC state is not synced yet") };
      const reason = snapshot.allowedBy(user, attributes);
      return reason ? { kind: "allow", reason } : { kind: "noOpinion", reason: "no RBAC binding allows it" };
    },
  } satisfies Authorizer;
}
