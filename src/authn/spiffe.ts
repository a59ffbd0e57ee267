// Authenticates the peer identity a service mesh established (--trust-spiffe-principal): Envoy's
// `source.principal` is the URI SAN of the client certificate of the downstream mTLS connection,
// which in Istio is `spiffe://<trust domain>/ns/<namespace>/sa/<service account>`. Such a principal
// in the trusted domain authenticates as that ServiceAccount, with the groups kube-apiserver gives
// ServiceAccounts. Anything else is not an identity here ("none"), never an error: the principal
// may be a certificate subject, another mesh's ID, or absent (plain-text or PERMISSIVE traffic).
//
// The match is exact, on the string as Envoy passes it: no percent-decoding, no case folding, no
// normalisation. A SPIFFE ID that would need any of those is not a valid one (SPIFFE ID spec §2),
// and a check that normalised would be one that a crafted SAN could get around.
import type { AuthnResult } from "./types.ts";

/** What this authenticator reads of a request; AuthnRequest carries it as `sourcePrincipal`. */
export interface PrincipalRequest {
  /** Envoy's attributes.source.principal; empty or absent when the peer presented no certificate. */
  sourcePrincipal?: string | undefined;
}

export interface SpiffeAuthenticator {
  authenticate(request: PrincipalRequest): Promise<AuthnResult>;
}

// SPIFFE ID spec: the whole ID is at most 2048 bytes; trust domains are lower case letters,
// digits, '.', '-' and '_'.
const MAX_SPIFFE_ID = 2048;
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
// Kubernetes: namespaces are DNS-1123 labels, ServiceAccount names DNS-1123 subdomains.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/** Why a --trust-spiffe-principal value is not a trust domain, or undefined when it is one. */
export function trustDomainProblem(trustDomain: string): string | undefined {
  if (trustDomain === "") return "empty trust domain";
  if (trustDomain.includes("://"))
    return `a trust domain, not a URI: write ${JSON.stringify(trustDomain.replace(/^.*:\/\//, "").replace(/\/.*$/, ""))}`;
  if (trustDomain.length > 255 || !TRUST_DOMAIN.test(trustDomain)) {
    return "a trust domain has only lower case letters, digits, '.', '-' and '_'";
  }
  return undefined;
}

/** The namespace and ServiceAccount a principal names in the trust domain, or undefined. */
export function parseServiceAccountPrincipal(principal: string, trustDomain: string): { namespace: string; name: string } | undefined {
  if (principal.length > MAX_SPIFFE_ID) return undefined;
  const prefix = `spiffe://${trustDomain}/`;
  if (!principal.startsWith(prefix)) return undefined;
  const segments = principal.slice(prefix.length).split("/");
  if (segments.length !== 4) return undefined;
  const [ns, namespace = "", sa, name = ""] = segments;
  if (ns !== "ns" || sa !== "sa") return undefined;
  // These character sets exclude '%', '?', '#', '@', ':', upper case and whitespace: nothing to decode.
  if (!isDns1123Label(namespace) || !isDns1123Subdomain(name)) return undefined;
  return { namespace, name };
}

/** Throws when the trust domain is not one (for the flag's start-up error). */
export function spiffeAuthenticator(trustDomain: string): SpiffeAuthenticator {
  const problem = trustDomainProblem(trustDomain);
  if (problem) throw new Error(`--trust-spiffe-principal: ${problem}`);
  return {
    async authenticate(request: PrincipalRequest): Promise<AuthnResult> {
      const principal = request.sourcePrincipal ?? "";
      if (principal === "") return { kind: "none" };
      const sa = parseServiceAccountPrincipal(principal, trustDomain);
      if (!sa) return { kind: "none" };
      return {
        kind: "authenticated",
        // The mTLS connection is the credential; there is no bearer token to strip upstream.
        credential: "spiffe",
        user: {
          name: `system:serviceaccount:${sa.namespace}:${sa.name}`,
          uid: "",
          groups: ["system:serviceaccounts", `system:serviceaccounts:${sa.namespace}`, "system:authenticated"],
          extra: {},
        },
      };
    },
  };
}
