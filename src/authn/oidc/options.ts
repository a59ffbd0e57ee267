// The OIDC settings, with the names and defaults of kube-rbac-proxy's (and kube-apiserver's) --oidc-*
// flags, and their validation. Every error names the flag it is about, for the one-line start-up
// failure the contract asks for.
import { loadCaBundle } from "../x509.ts";

/** What the --oidc-* flags say. Only `issuer` and `clientId` are required. */
export interface OidcOptions {
  /** --oidc-issuer: the issuer URL; must be https. Tokens whose `iss` is exactly this are ours. */
  issuer: string;
  /** --oidc-client-id: the audience a token must carry in `aud`. */
  clientId: string;
  /** --oidc-ca-file: PEM bundle that replaces the system roots for the issuer's TLS. */
  caFile?: string | undefined;
  /** --oidc-username-claim, default `email`. */
  usernameClaim?: string | undefined;
  /** --oidc-username-prefix, default none (as in kube-rbac-proxy; there is no `issuer#` default). */
  usernamePrefix?: string | undefined;
  /** --oidc-groups-claim, default `groups`; "" takes no groups from the token. */
  groupsClaim?: string | undefined;
  /** --oidc-groups-prefix, default none. */
  groupsPrefix?: string | undefined;
  /** --oidc-sign-alg: the accepted JWS algorithms, a list or a comma list; default RS256. */
  signingAlgs?: string | readonly string[] | undefined;
  /** Clock skew allowed on exp, nbf and iat, in seconds (default 60, as kube-apiserver's own tokens). */
  leewaySeconds?: number | undefined;
  /** Least time between two fetches of the key set after a successful one (default 10 s). */
  minRefreshIntervalMs?: number | undefined;
  /** Least time before trying again after a failed fetch (default 1 s). */
  retryAfterFailureMs?: number | undefined;
  /** Keys older than this are refreshed in the background on use (default 10 min). */
  maxKeyAgeMs?: number | undefined;
  /** Timeout of one discovery or JWKS fetch (default 5 s). */
  fetchTimeoutMs?: number | undefined;
}

/** The options once checked and defaulted. */
export interface OidcConfig {
  issuer: string;
  clientId: string;
  /** PEM certificates of --oidc-ca-file; undefined: the system roots. */
  caPems: string[] | undefined;
  usernameClaim: string;
  usernamePrefix: string;
  groupsClaim: string;
  groupsPrefix: string;
  signingAlgs: readonly string[];
  leewaySeconds: number;
  minRefreshIntervalMs: number;
  retryAfterFailureMs: number;
  maxKeyAgeMs: number;
  fetchTimeoutMs: number;
}

export const OIDC_DEFAULTS = {
  usernameClaim: "email",
  groupsClaim: "groups",
  signingAlgs: ["RS256"],
  leewaySeconds: 60,
  minRefreshIntervalMs: 10_000,
  retryAfterFailureMs: 1_000,
  maxKeyAgeMs: 10 * 60_000,
  fetchTimeoutMs: 5_000,
} as const;

/**
 * The asymmetric algorithms kube-apiserver accepts for OIDC. `none` is never a signature, and an
 * HS* token would be "signed" with a key the verifier must hold: with a public JWKS that is the
 * classic key-confusion forgery, so neither can be configured.
 */
export const SUPPORTED_SIGNING_ALGS: readonly string[] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"];

/** The --oidc-sign-alg value as a list; throws naming the flag on an unsupported algorithm. */
export function parseSigningAlgs(value: string | readonly string[]): string[] {
  const items = (typeof value === "string" ? value.split(",") : [...value]).map((a) => a.trim()).filter((a) => a !== "");
  if (items.length === 0) throw new Error("--oidc-sign-alg: no algorithm given");
  for (const alg of items) {
    if (alg.toLowerCase() === "none") throw new Error("--oidc-sign-alg: none is not allowed (unsigned tokens)");
    if (/^HS\d+$/i.test(alg)) throw new Error(`--oidc-sign-alg: ${alg} is not allowed (symmetric keys cannot come from a public JWKS)`);
    if (!SUPPORTED_SIGNING_ALGS.includes(alg)) {
      throw new Error(`--oidc-sign-alg: unsupported algorithm ${JSON.stringify(alg)} (supported: ${SUPPORTED_SIGNING_ALGS.join(", ")})`);
    }
  }
  return [...new Set(items)];
}

/** Checks the issuer URL as kube-apiserver does; returns the reason it is unusable, or undefined. */
export function issuerProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return "not a URL";
  }
  if (url.protocol !== "https:") return "must be an https URL";
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password";
  if (url.search !== "" || issuer.includes("?")) return "must not contain a query";
  if (url.hash !== "" || issuer.includes("#")) return "must not contain a fragment";
  return undefined;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new Error(`oidc: ${name} must be a non-negative number`);
  return value;
}

function readCaFile(path: string): string[] {
  try {
    // X509Certificate#toString() is the PEM again, one certificate at a time.
    return loadCaBundle(path).map((cert) => cert.toString());
  } catch (e) {
    throw new Error(`--oidc-ca-file: ${(e as Error).message}`);
  }
}

/** Checks and defaults the options; throws one line naming the flag or file at fault. */
export function resolveOidcOptions(options: OidcOptions): OidcConfig {
  const problem = issuerProblem(options.issuer);
  if (problem) throw new Error(`--oidc-issuer: ${problem}`);
  if (!options.clientId) throw new Error("--oidc-client-id: required with --oidc-issuer");
  const usernameClaim = options.usernameClaim ?? OIDC_DEFAULTS.usernameClaim;
  if (usernameClaim === "") throw new Error("--oidc-username-claim: must not be empty");
  return {
    issuer: options.issuer,
    clientId: options.clientId,
    caPems: options.caFile ? readCaFile(options.caFile) : undefined,
    usernameClaim,
    usernamePrefix: options.usernamePrefix ?? "",
    groupsClaim: options.groupsClaim ?? OIDC_DEFAULTS.groupsClaim,
    groupsPrefix: options.groupsPrefix ?? "",
    signingAlgs: parseSigningAlgs(options.signingAlgs ?? OIDC_DEFAULTS.signingAlgs),
    leewaySeconds: nonNegative("leewaySeconds", options.leewaySeconds, OIDC_DEFAULTS.leewaySeconds),
    minRefreshIntervalMs: nonNegative("minRefreshIntervalMs", options.minRefreshIntervalMs, OIDC_DEFAULTS.minRefreshIntervalMs),
    retryAfterFailureMs: nonNegative("retryAfterFailureMs", options.retryAfterFailureMs, OIDC_DEFAULTS.retryAfterFailureMs),
    maxKeyAgeMs: nonNegative("maxKeyAgeMs", options.maxKeyAgeMs, OIDC_DEFAULTS.maxKeyAgeMs),
    fetchTimeoutMs: nonNegative("fetchTimeoutMs", options.fetchTimeoutMs, OIDC_DEFAULTS.fetchTimeoutMs),
  };
}
