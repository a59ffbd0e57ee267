// Authentication in the shape of k8s.io/apiserver: every authenticator answers with one of three
// outcomes, so a union can tell "not my kind of credential" from "a bad credential" from "I could
// not find out" (which must never become an allow).
import type { UserInfo } from "../core/types.ts";

export type AuthnResult =
  /** This authenticator has nothing to say about the request; the next one may. */
  | { kind: "none" }
  | { kind: "authenticated"; user: UserInfo; credential: Credential }
  /** A credential of this kind was presented and is not valid: 401. */
  | { kind: "rejected"; reason: string }
  /** The answer could not be found (e.g. the Kubernetes API failed): 503. */
  | { kind: "error"; error: Error };

/**
 * Which kind of credential authenticated the request; a bearer token is stripped upstream.
 * "asserted" is an identity given on the command line of `check --as`, never by a request.
 */
export type Credential = "bearer" | "x509" | "spiffe" | "asserted";

/** What authenticators see of a request. */
export interface AuthnRequest {
  headers: ReadonlyMap<string, string>;
  peerCertificate: string;
  sourcePrincipal?: string;
}

export interface Authenticator {
  authenticate(request: AuthnRequest): Promise<AuthnResult>;
}

/** Outcome of checking one bearer token, before it is tied to a request. */
export type TokenResult = Exclude<AuthnResult, { kind: "authenticated" }> | { kind: "authenticated"; user: UserInfo };

export interface TokenAuthenticator {
  authenticateToken(token: string): Promise<TokenResult>;
}
