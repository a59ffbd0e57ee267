// Unions, as k8s.io/apiserver composes authenticators: members are asked in order and the first
// that recognises the credential decides.
import type { Authenticator, AuthnResult, TokenAuthenticator, TokenResult } from "./types.ts";

/** The first member whose answer is not "none" decides the request. */
export function firstApplicable(members: readonly Authenticator[]): Authenticator {
  return {
    async authenticate(request): Promise<AuthnResult> {
      for (const member of members) {
        const result = await member.authenticate(request);
        if (result.kind !== "none") return result;
      }
      return { kind: "none" };
    },
  };
}

/** Token authenticators tried in order until one recognises the token. */
export function tokenUnion(members: readonly TokenAuthenticator[]): TokenAuthenticator {
  return {
    async authenticateToken(token): Promise<TokenResult> {
      for (const member of members) {
        const result = await member.authenticateToken(token);
        if (result.kind !== "none") return result;
      }
      return { kind: "none" };
    },
  };
}
