// Flags and files -> one validated, typed configuration. Everything a user can get wrong is found
// here, at start-up (or at a reload), and reported as one line naming the flag or file.
import type { X509Certificate } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { type OidcAuthenticator, oidcAuthenticator } from "../authn/oidc/index.ts";
import { spiffeAuthenticator } from "../authn/spiffe.ts";
import { loadTokenFile } from "../authn/token-file.ts";
import { newTokenHasher, type TokenHasher } from "../authn/token-hash.ts";
import type { Authenticator, TokenAuthenticator } from "../authn/types.ts";
import { loadCaBundle } from "../authn/x509.ts";
import type { RbacStore } from "../authz/rbac/authorizer.ts";
import { manifestStore } from "../authz/rbac/manifest-store.ts";
import { type AttributesBuilder, attributesBuilder } from "../core/attributes.ts";
import { compileGlobs, type PathMatcher } from "../core/glob.ts";
import { loadKubeConfig } from "../kube/client.ts";
import { type AuthorizationConfig, emptyConfigFile, loadConfigFile } from "./file.ts";
import { type Flags, TLS_VERSIONS } from "./flags.ts";

/** How one profile decides: its paths and its `authorization:` section, compiled. */
export interface ProfilePolicy {
  name: string;
  /** Hosts (without port) that select this profile; undefined for the default profile. */
  hosts?: PathMatcher;
  allowPaths?: PathMatcher;
  ignorePaths?: PathMatcher;
  authorization: AuthorizationConfig;
  attributes: AttributesBuilder;
}

/** Everything that decides and can be reloaded from its files while the service runs. */
export interface Policy {
  /** The top-level `authorization:` with --allow-paths and --ignore-paths. */
  defaultProfile: ProfilePolicy;
  /** Named profiles of the config file, in file order. */
  profiles: ProfilePolicy[];
  clientCas?: X509Certificate[];
  staticTokens?: TokenAuthenticator;
  /** RBAC from --rbac-manifests, read with the other policy files. */
  rbacManifests?: RbacStore;
}

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  /** When set, Envoy must present a client certificate signed by one of these CAs. */
  clientCaFile?: string;
  minVersion: "TLSv1.2" | "TLSv1.3";
}

export interface Config {
  flags: Flags;
  /** OIDC ID tokens (--oidc-issuer); its key cache lives as long as the process. */
  oidc?: OidcAuthenticator;
  /** Mesh identity from Envoy's source.principal (--trust-spiffe-principal). */
  spiffe?: Authenticator;
  /** TLS of the gRPC listener; undefined for plaintext. */
  tls?: TlsFiles;
  policy: Policy;
  /** Keys every token cache and the static token table by the same per-process keyed hash. */
  tokenHash: TokenHasher;
  /** Undefined when no API is configured: decisions that need it fail closed with 503. */
  kubeConfig?: KubeConfig;
}

export function resolveConfig(flags: Flags): Config {
  const tokenHash = newTokenHasher();
  return {
    flags,
    oidc: oidcOf(flags),
    spiffe: flags.trustSpiffePrincipal !== undefined ? spiffeAuthenticator(flags.trustSpiffePrincipal) : undefined,
    tls: tlsFiles(flags),
    tokenHash,
    policy: resolvePolicy(flags, tokenHash),
    kubeConfig: named("--kubeconfig", () => loadKubeConfig(flags.kubeconfig)),
  };
}

/** Reads the config file, the token file and the client CA; throws one line naming the culprit. */
export function resolvePolicy(flags: Flags, tokenHash: TokenHasher): Policy {
  const file = flags.configFile ? loadConfigFile(flags.configFile) : emptyConfigFile;
  const tokenFile = flags.tokenAuthFile;
  const caFile = flags.clientCaFile;
  const rbacFile = flags.rbacManifests;
  if (rbacFile && flags.authorizationMode === "sar")
    throw new Error("--rbac-manifests: needs --authorization-mode local or local-then-sar");
  return {
    defaultProfile: profile("default", file.authorization, flags.allowPaths, flags.ignorePaths, "--allow-paths", "--ignore-paths"),
    profiles: file.profiles.map((p) => {
      const where = `--config-file: profiles.${p.name}`;
      return {
        ...profile(p.name, p.authorization, p.allowPaths, p.ignorePaths, `${where}.allowPaths`, `${where}.ignorePaths`),
        hosts: globs(`${where}.hosts`, p.hosts),
      };
    }),
    clientCas: caFile ? named("--client-ca-file", () => loadCaBundle(caFile)) : undefined,
    staticTokens: tokenFile ? named("--token-auth-file", () => loadTokenFile(tokenFile, tokenHash)) : undefined,
    rbacManifests: rbacFile ? named("--rbac-manifests", () => manifestStore(rbacFile)) : undefined,
  };
}

function oidcOf(flags: Flags): OidcAuthenticator | undefined {
  if (flags.oidcIssuer === undefined) {
    if (flags.oidcClientId !== undefined) throw new Error("--oidc-client-id: needs --oidc-issuer");
    return undefined;
  }
  if (!flags.oidcClientId) throw new Error("--oidc-client-id: needed with --oidc-issuer");
  return oidcAuthenticator({
    issuer: flags.oidcIssuer,
    clientId: flags.oidcClientId,
    caFile: flags.oidcCaFile,
    usernameClaim: flags.oidcUsernameClaim,
    usernamePrefix: flags.oidcUsernamePrefix,
    groupsClaim: flags.oidcGroupsClaim,
    groupsPrefix: flags.oidcGroupsPrefix,
    signingAlgs: flags.oidcSignAlg,
  });
}

function tlsFiles(flags: Flags): TlsFiles | undefined {
  const { tlsCertFile: certFile, tlsPrivateKeyFile: keyFile, tlsClientCaFile: clientCaFile } = flags;
  if (!certFile && !keyFile) {
    if (clientCaFile) throw new Error("--tls-client-ca-file: needs --tls-cert-file and --tls-private-key-file");
    return undefined;
  }
  if (!certFile || !keyFile)
    throw new Error(
      `${certFile ? "--tls-private-key-file" : "--tls-cert-file"}: needed together with ${certFile ? "--tls-cert-file" : "--tls-private-key-file"}`,
    );
  return { certFile, keyFile, clientCaFile, minVersion: TLS_VERSIONS[flags.tlsMinVersion] };
}

function profile(
  name: string,
  authorization: AuthorizationConfig,
  allow: string[],
  ignore: string[],
  allowWhere: string,
  ignoreWhere: string,
): ProfilePolicy {
  return {
    name,
    authorization,
    attributes: named("--config-file", () => attributesBuilder(authorization.resourceAttributes, authorization.rewrites)),
    allowPaths: globs(allowWhere, allow),
    ignorePaths: globs(ignoreWhere, ignore),
  };
}

function globs(where: string, patterns: string[]): PathMatcher | undefined {
  return patterns.length === 0 ? undefined : named(where, () => compileGlobs(patterns));
}

/** Runs `load`, prefixing any error with the flag it came from (unless it names it already). */
export function named<T>(flag: string, load: () => T): T {
  try {
    return load();
  } catch (e) {
    const message = ((e as Error).message ?? String(e)).split("\n")[0];
    throw new Error(message.startsWith(flag) ? message : `${flag}: ${message}`);
  }
}
