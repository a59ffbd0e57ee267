// What the service needs from the Kubernetes API, declared by its callers and nothing more:
// a test fake is two plain functions.
import type { Attributes, UserInfo } from "../core/types.ts";

export interface TokenReviewStatus {
  authenticated: boolean;
  user?: UserInfo;
  /** The audiences the API server found the token valid for (when audiences were asked for). */
  audiences?: readonly string[];
  error?: string;
}

export interface SubjectAccessReviewStatus {
  allowed: boolean;
  /** An authorizer explicitly denied (as opposed to no authorizer allowing). */
  denied: boolean;
  reason: string;
  evaluationError: string;
}

export interface TokenReviewer {
  /** Rejects with KubeApiError when the API does not answer with a TokenReview. */
  tokenReview(token: string, audiences: readonly string[]): Promise<TokenReviewStatus>;
}

export interface SubjectAccessReviewer {
  /** Rejects with KubeApiError when the API does not answer with a SubjectAccessReview. */
  subjectAccessReview(user: UserInfo, attributes: Attributes): Promise<SubjectAccessReviewStatus>;
}

export interface ServiceAccountToken {
  token: string;
  /** When the API server says the token expires, in ms since the epoch. */
  expiresAt: number;
}

export interface ServiceAccountTokenRequester {
  /** A token from the TokenRequest API; rejects with KubeApiError when none was issued. */
  requestToken(
    namespace: string,
    serviceAccount: string,
    audiences: readonly string[],
    expirationSeconds: number,
  ): Promise<ServiceAccountToken>;
}

export interface KubeClient extends TokenReviewer, SubjectAccessReviewer, ServiceAccountTokenRequester {
  close(): Promise<void>;
}

/** The Kubernetes API could not be asked, or did not answer with a review. */
export class KubeApiError extends Error {
  /** HTTP status, or a short word for transport failures (`timeout`, `network`, `unconfigured`). */
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "KubeApiError";
    this.code = code;
  }
}
