// Asks the API server with a SubjectAccessReview. An explicit deny and "no authorizer allowed" are
// both a deny here: this service is the last word, there is no authorizer after it.
import type { SubjectAccessReviewer } from "../kube/types.ts";
import type { Authorizer, Decision } from "./types.ts";

export function subjectAccessReviewAuthorizer(api: SubjectAccessReviewer): Authorizer {
  return {
    async authorize(user, attributes): Promise<Decision> {
      try {
        const status = await api.subjectAccessReview(user, attributes);
        if (status.allowed && !status.denied) return { kind: "allow", reason: status.reason };
        return { kind: "deny", reason: status.reason || status.evaluationError };
      } catch (error) {
        return { kind: "error", error: error as Error };
      }
    },
  };
}
