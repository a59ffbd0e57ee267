// Authenticates a bearer token with the TokenReview API, as kube-rbac-proxy's delegating
// authenticator does, requiring the token to be valid for one of the configured audiences.
import type { TokenReviewer } from "../kube/types.ts";
import type { TokenAuthenticator, TokenResult } from "./types.ts";

export function tokenReviewAuthenticator(api: TokenReviewer, audiences: readonly string[]): TokenAuthenticator {
  return {
    async authenticateToken(token: string): Promise<TokenResult> {
      let status: Awaited<ReturnType<TokenReviewer["tokenReview"]>>;
      try {
        status = await api.tokenReview(token, audiences);
      } catch (error) {
        return { kind: "error", error: error as Error };
      }
      if (!status.authenticated || !status.user) {
        return { kind: "rejected", reason: status.error ? `token review: ${status.error}` : "token not authenticated" };
      }
      // An API server that ignores spec.audiences would validate the token for its own audience
      // only; trust the answer only if it names one of ours.
      if (audiences.length > 0 && !status.audiences?.some((a) => audiences.includes(a))) {
        return { kind: "rejected", reason: "token not valid for the required audiences" };
      }
      return { kind: "authenticated", user: status.user };
    },
  };
}
