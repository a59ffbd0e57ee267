// Extracts `Authorization: Bearer <token>` and hands the token to a token authenticator.
import type { Authenticator, AuthnRequest, AuthnResult, TokenAuthenticator } from "./types.ts";

// RFC 6750 b64token. Anything else cannot be a token we could verify, so it is rejected here
// instead of being sent to the API (or into a cache key).
const TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;
// Kubernetes tokens are 1-2 KiB; OIDC tokens a few KiB. A larger one is refused before hashing.
export const MAX_TOKEN_BYTES = 16 * 1024;

/** The token of an `Authorization: Bearer` header, "" when there is none, or null when malformed. */
export function bearerToken(headers: ReadonlyMap<string, string>): string | null {
  const value = headers.get("authorization");
  if (value === undefined) return "";
  const trimmed = value.trim();
  const space = trimmed.indexOf(" ");
  if (space === -1 || trimmed.slice(0, space).toLowerCase() !== "bearer") return "";
  const token = trimmed.slice(space + 1).trim();
  if (token.length === 0 || token.length > MAX_TOKEN_BYTES || !TOKEN_SYNTAX.test(token)) return null;
  return token;
}

export function bearerAuthenticator(tokens: TokenAuthenticator): Authenticator {
  return {
    async authenticate(request: AuthnRequest): Promise<AuthnResult> {
      const token = bearerToken(request.headers);
      if (token === "") return { kind: "none" };
      if (token === null) return { kind: "rejected", reason: "malformed bearer token" };
      const result = await tokens.authenticateToken(token);
      return result.kind === "authenticated" ? { ...result, credential: "bearer" } : result;
    },
  };
}
