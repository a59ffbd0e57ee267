// Step 5 of a Check: what the proxy is told to do with an allowed request.
import type { Credential } from "../authn/types.ts";
import type { Allowed, UserInfo } from "./types.ts";

export interface IdentityHeaders {
  /** Set the user and groups headers upstream on allow (--auth-header-fields-enabled). */
  enabled: boolean;
  userHeader: string;
  groupsHeader: string;
  groupsSeparator: string;
}

/**
 * Builds allowed responses. A client must never get its own identity headers through, and the
 * upstream must never see the caller's bearer token. Envoy applies `headers` before
 * `headers_to_remove`, so a header that is set is overwritten (which strips the client's copy)
 * and must not also be listed for removal, or the value just set would be removed too.
 */
export function allowedResponses(identity: IdentityHeaders) {
  const userHeader = identity.userHeader.toLowerCase();
  const groupsHeader = identity.groupsHeader.toLowerCase();
  const stripIdentity = Object.freeze([userHeader, groupsHeader]);
  const stripIdentityAndToken = Object.freeze([userHeader, groupsHeader, "authorization"]);
  const stripToken = Object.freeze(["authorization"]);
  const none = Object.freeze([]);
  // Frozen and shared per cached identity, so that the gRPC adapter can reuse its encoded answer.
  const identityHeaders = new WeakMap<UserInfo, ReadonlyArray<readonly [string, string]>>();
  const headersOf = (user: UserInfo) => {
    let headers = identityHeaders.get(user);
    if (!headers) {
      headers = Object.freeze([
        Object.freeze([userHeader, user.name] as const),
        Object.freeze([groupsHeader, user.groups.join(identity.groupsSeparator)] as const),
      ]);
      identityHeaders.set(user, headers);
    }
    return headers;
  };

  return {
    /** Allowed without authentication (an ignored path). */
    anonymous(reason: string): Allowed {
      return { allowed: true, status: 200, reason, headersToSet: none, headersToRemove: stripIdentity };
    },
    authenticated(reason: string, user: UserInfo, credential: Credential): Allowed {
      const bearer = credential === "bearer";
      if (!identity.enabled) {
        return {
          allowed: true,
          status: 200,
          reason,
          user,
          headersToSet: none,
          headersToRemove: bearer ? stripIdentityAndToken : stripIdentity,
        };
      }
      return {
        allowed: true,
        status: 200,
        reason,
        user,
        headersToSet: headersOf(user),
        headersToRemove: bearer ? stripToken : none,
      };
    },
  };
}
