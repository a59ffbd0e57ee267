// Flags and files -> one validated, typed configuration. Everything a user can get wrong is found
// here, at start-up, and reported as one line naming the flag or file.
import type { X509Certificate } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { loadTokenFile } from "../authn/token-file.ts";
import { newTokenHasher, type TokenHasher } from "../authn/token-hash.ts";
import type { TokenAuthenticator } from "../authn/types.ts";
import { loadCaBundle } from "../authn/x509.ts";
import { type AttributesBuilder, attributesBuilder } from "../core/attributes.ts";
import { compileGlobs, type PathMatcher } from "../core/glob.ts";
import { loadKubeConfig } from "../kube/client.ts";
import { type AuthorizationConfig, emptyAuthorization, loadConfigFile } from "./file.ts";
import type { Flags } from "./flags.ts";

export interface Config {
  flags: Flags;
  authorization: AuthorizationConfig;
  /** The attribute mapping compiled from `authorization:`. */
  attributes: AttributesBuilder;
  /** Keys every token cache and the static token table by the same per-process HMAC. */
  tokenHash: TokenHasher;
  staticTokens?: TokenAuthenticator;
  allowPaths?: PathMatcher;
  ignorePaths?: PathMatcher;
  clientCas?: X509Certificate[];
  /** Undefined when no API is configured: decisions that need it fail closed with 503. */
  kubeConfig?: KubeConfig;
}

export function resolveConfig(flags: Flags): Config {
  const authorization = flags.configFile ? loadConfigFile(flags.configFile) : emptyAuthorization;
  const tokenHash = newTokenHasher();
  const tokenFile = flags.tokenAuthFile;
  return {
    flags,
    authorization,
    attributes: named("--config-file", () => attributesBuilder(authorization.resourceAttributes, authorization.rewrites)),
    tokenHash,
    staticTokens: tokenFile ? named("--token-auth-file", () => loadTokenFile(tokenFile, tokenHash)) : undefined,
    allowPaths: globs("--allow-paths", flags.allowPaths),
    ignorePaths: globs("--ignore-paths", flags.ignorePaths),
    clientCas: flags.clientCaFile ? named("--client-ca-file", () => loadCaBundle(flags.clientCaFile as string)) : undefined,
    kubeConfig: named("--kubeconfig", () => loadKubeConfig(flags.kubeconfig)),
  };
}

function globs(flag: string, patterns: string[]): PathMatcher | undefined {
  return patterns.length === 0 ? undefined : named(flag, () => compileGlobs(patterns));
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
