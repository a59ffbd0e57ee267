// Authenticates OpenID Connect ID tokens as kube-apiserver's and kube-rbac-proxy's --oidc-* flags
// do: the signature against the issuer's published keys, an allowed algorithm, `iss` equal to
// --oidc-issuer, --oidc-client-id in `aud`, exp / nbf / iat, then user and groups from the claims.
//
// A token that is not a JWT, or whose `iss` is not our issuer, is "none": another authenticator
// (TokenReview) may know it, as in kube-apiserver's union. Once `iss` names our issuer, every
// failure is "rejected" — except not being able to reach the issuer, which is "error" (503).
import { errors, type JWTPayload, jwtVerify } from "jose";
import type { TokenAuthenticator, TokenResult } from "../types.ts";
import { unverifiedIssuer, userFromClaims } from "./claims.ts";
import { type FetchLike, httpsFetcher } from "./fetch.ts";
import { type FetchEvent, IssuerKeys, OidcUnavailableError, type WallClock } from "./issuer-keys.ts";
import { type OidcConfig, type OidcOptions, resolveOidcOptions } from "./options.ts";

export interface OidcDeps {
  /** Replaces the HTTPS client (and with it --oidc-ca-file). */
  fetch?: FetchLike;
  /** Wall-clock ms for exp / nbf / iat and the fetch rate limit; Date.now by default. */
  clock?: WallClock;
  /** Told of every discovery and JWKS fetch, for logs and metrics. */
  onFetch?: (event: FetchEvent) => void;
}

export interface OidcAuthenticator extends TokenAuthenticator {
  /** Fetches discovery and keys now; rejects with the reason when the issuer cannot be reached. */
  warmUp(): Promise<void>;
  /** Whether keys have been fetched (for readiness). */
  readonly ready: boolean;
  /** Closes the HTTPS connections. */
  close(): Promise<void>;
}

const systemWallClock: WallClock = { now: () => Date.now() };

/** Throws, naming the flag, when the options are not usable. */
export function oidcAuthenticator(options: OidcOptions, deps: OidcDeps = {}): OidcAuthenticator {
  const config = resolveOidcOptions(options);
  const clock = deps.clock ?? systemWallClock;
  const fetcher = deps.fetch ? { fetch: deps.fetch, close: async () => {} } : httpsFetcher(config.caPems);
  const keys = new IssuerKeys({
    issuer: config.issuer,
    fetch: fetcher.fetch,
    clock,
    minRefreshIntervalMs: config.minRefreshIntervalMs,
    retryAfterFailureMs: config.retryAfterFailureMs,
    maxKeyAgeMs: config.maxKeyAgeMs,
    fetchTimeoutMs: config.fetchTimeoutMs,
    onFetch: deps.onFetch,
  });

  return {
    async authenticateToken(token: string): Promise<TokenResult> {
      if (unverifiedIssuer(token) !== config.issuer) return { kind: "none" };
      let claims: JWTPayload;
      try {
        claims = await verify(token, keys, config, clock);
      } catch (error) {
        if (error instanceof OidcUnavailableError) return { kind: "error", error };
        return { kind: "rejected", reason: `oidc: ${reasonOf(error)}` };
      }
      const user = userFromClaims(claims, config);
      if (typeof user === "string") return { kind: "rejected", reason: `oidc: ${user}` };
      return { kind: "authenticated", user };
    },
    warmUp: () => keys.refresh(),
    get ready() {
      return keys.ready;
    },
    close: () => fetcher.close(),
  };
}

async function verify(token: string, keys: IssuerKeys, config: OidcConfig, clock: WallClock): Promise<JWTPayload> {
  const now = clock.now();
  const options = {
    algorithms: [...config.signingAlgs],
    issuer: config.issuer,
    audience: config.clientId,
    requiredClaims: ["exp"],
    clockTolerance: config.leewaySeconds,
    currentDate: new Date(now),
  };
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, keys.resolve, options));
  } catch (error) {
    // No kid and several keys of the algorithm's type: try each, as go-oidc does.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    payload = await verifyWithAnyOf(token, error, options);
  }
  // jose checks iat only with maxTokenAge; a token issued in the future is as wrong as an early nbf.
  if (payload.iat !== undefined && (typeof payload.iat !== "number" || payload.iat > now / 1000 + config.leewaySeconds)) {
    throw new IssuedInTheFuture();
  }
  return payload;
}

async function verifyWithAnyOf(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: Parameters<typeof jwtVerify>[2],
): Promise<JWTPayload> {
  for await (const key of candidates) {
    try {
      return (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw error;
    }
  }
  throw new errors.JWSSignatureVerificationFailed();
}

class IssuedInTheFuture extends Error {}

/** A short reason for the decision log; never the token, never a claim value. */
function reasonOf(error: unknown): string {
  if (error instanceof IssuedInTheFuture) return "token issued in the future";
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return "token not yet valid";
      case "aud":
        return error.reason === "missing" ? "token has no audience" : "token audience does not include the client id";
      case "exp":
        return error.reason === "missing" ? "token has no expiry" : "token expiry is not a number";
      case "iss":
        return "token issuer does not match";
      default:
        return `token claim ${JSON.stringify(error.claim)} invalid`;
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return "signing algorithm not allowed";
  if (error instanceof errors.JWKSNoMatchingKey) return "no issuer key matches the token's key id and algorithm";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "invalid signature";
  if (error instanceof errors.JOSENotSupported) return "unsupported token algorithm or key";
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return "malformed token";
  return "token verification failed";
}
