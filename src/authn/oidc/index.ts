// OIDC ID-token authentication (--oidc-* flags): the public surface for wiring.
export { type OidcAuthenticator, type OidcDeps, oidcAuthenticator } from "./authenticator.ts";
export type { FetchLike, FetchResponse } from "./fetch.ts";
export { type FetchEvent, OidcUnavailableError, type WallClock } from "./issuer-keys.ts";
export { OIDC_DEFAULTS, type OidcOptions, parseSigningAlgs, SUPPORTED_SIGNING_ALGS } from "./options.ts";
