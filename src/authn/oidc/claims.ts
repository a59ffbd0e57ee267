// What the OIDC authenticator reads from a token besides its signature: the unverified issuer (to
// tell our tokens from others before any key is fetched), and the user from the verified claims,
// with kube-apiserver's rules for the username and groups claims.
import type { UserInfo } from "../../core/types.ts";

/**
 * The `iss` claim of a compact JWS, read WITHOUT verifying anything: only used to decide whether
 * the token is ours to verify. Undefined when the token is not a JWS with a JSON payload (a JWE,
 * an opaque token, ...).
 */
export function unverifiedIssuer(token: string): string | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const payload = parts[1] ?? "";
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    if (typeof claims !== "object" || claims === null) return undefined;
    const iss = (claims as Record<string, unknown>).iss;
    return typeof iss === "string" ? iss : undefined;
  } catch {
    return undefined;
  }
}

export interface ClaimMapping {
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim: string;
  groupsPrefix: string;
}

/** The user the verified claims name, or the reason they name none. */
export function userFromClaims(claims: Readonly<Record<string, unknown>>, mapping: ClaimMapping): UserInfo | string {
  const username = claims[mapping.usernameClaim];
  if (typeof username !== "string" || username === "") {
    return `username claim ${JSON.stringify(mapping.usernameClaim)} missing or not a non-empty string`;
  }
  // kube-apiserver: an email is a name only when the issuer vouches for it; email_verified may be
  // absent (issuers that only hand out verified emails), but when present it must be true.
  if (mapping.usernameClaim === "email" && Object.hasOwn(claims, "email_verified") && claims.email_verified !== true) {
    return "email not verified";
  }
  const groups = groupsFrom(claims, mapping.groupsClaim);
  if (typeof groups === "string") return groups;
  const prefixed = groups.map((group) => mapping.groupsPrefix + group);
  // As kube-apiserver's union does for every authenticated user, and as the x509 authenticator does.
  if (!prefixed.includes("system:authenticated")) prefixed.push("system:authenticated");
  return { name: mapping.usernamePrefix + username, uid: "", groups: prefixed, extra: {} };
}

/** A string or an array of strings (kubernetes/kubernetes#33290); absent or null: none. */
function groupsFrom(claims: Readonly<Record<string, unknown>>, claim: string): string[] | string {
  if (claim === "" || !Object.hasOwn(claims, claim)) return [];
  const value = claims[claim];
  if (value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value) && value.every((g) => typeof g === "string")) return [...value];
  return `groups claim ${JSON.stringify(claim)} is not a string or an array of strings`;
}
