// The command line. Flag names and defaults follow kube-rbac-proxy and kube-apiserver so users can
// carry their flags over; `--help` lists every one.
import { Command, InvalidArgumentError, Option } from "commander";
import { parseDuration } from "./duration.ts";

export interface Flags {
  grpcAddress: string;
  metricsAddress: string;
  httpAddress?: string;
  httpPathPrefix: string;
  kubeconfig?: string;
  kubeApiTimeout: number;
  cacheMaxEntries: number;
  configFile?: string;
  authTokenAudiences: string[];
  clientCaFile?: string;
  tokenAuthFile?: string;
  allowPaths: string[];
  ignorePaths: string[];
  authHeaderFieldsEnabled: boolean;
  authHeaderUserFieldName: string;
  authHeaderGroupsFieldName: string;
  authHeaderGroupsFieldSeparator: string;
  authenticationTokenWebhookCacheTtl: number;
  authorizationWebhookCacheAuthorizedTtl: number;
  authorizationWebhookCacheUnauthorizedTtl: number;
  logLevel: string;
  dryRun: boolean;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  tlsClientCaFile?: string;
  tlsMinVersion: keyof typeof TLS_VERSIONS;
  reloadInterval: number;
  egressServiceAccount?: { namespace: string; name: string };
  egressTokenExpiration: number;
  oidcIssuer?: string;
  oidcClientId?: string;
  oidcCaFile?: string;
  oidcUsernameClaim: string;
  oidcUsernamePrefix?: string;
  oidcGroupsClaim: string;
  oidcGroupsPrefix?: string;
  oidcSignAlg: string;
  trustSpiffePrincipal?: string;
  authorizationMode: AuthorizationMode;
  rbacManifests?: string;
  workers: number;
}

/** Who decides what static rules leave open: the API server, local RBAC, or local RBAC first. */
export const AUTHORIZATION_MODES = ["sar", "local", "local-then-sar"] as const;
export type AuthorizationMode = (typeof AUTHORIZATION_MODES)[number];

/** Go's names for TLS versions, which kube-rbac-proxy's --tls-min-version takes. */
export const TLS_VERSIONS = { VersionTLS12: "TLSv1.2", VersionTLS13: "TLSv1.3" } as const;

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

const duration = (value: string): number => {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};
const positiveDuration = (value: string): number => {
  const ms = duration(value);
  if (ms < 100) throw new InvalidArgumentError("want at least 100ms");
  return ms;
};
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const namespacedName = (value: string): { namespace: string; name: string } => {
  const [namespace, name, ...rest] = value.split("/");
  if (rest.length > 0 || !DNS_LABEL.test(namespace ?? "") || !DNS_SUBDOMAIN.test(name ?? "")) {
    throw new InvalidArgumentError("want namespace/name of a ServiceAccount, e.g. monitoring/prometheus");
  }
  return { namespace, name };
};
const atLeastTenMinutes = (value: string): number => {
  const ms = duration(value);
  if (ms < 600_000) throw new InvalidArgumentError("want at least 10m");
  return ms;
};
const list = (value: string): string[] =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
const positiveInt = (value: string): number => {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("want a whole number of at least 1");
  return Number(value);
};
// More processes than a node has cores only adds contention; 64 also catches a typo'd count.
export const MAX_WORKERS = 64;
const workerCount = (value: string): number => {
  const n = positiveInt(value);
  if (n > MAX_WORKERS) throw new InvalidArgumentError(`want at most ${MAX_WORKERS}`);
  return n;
};
// pflag booleans: `--flag`, `--flag=true`, `--flag=false`.
const bool = (value: string): boolean => {
  if (/^(true|1|t)$/i.test(value)) return true;
  if (/^(false|0|f)$/i.test(value)) return false;
  throw new InvalidArgumentError("want true or false");
};
const address = (value: string): string => {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^:[\]]*):\d{1,5}$/.test(value) || Number(value.slice(value.lastIndexOf(":") + 1)) > 65535) {
    throw new InvalidArgumentError("want host:port, e.g. 0.0.0.0:9000 or 127.0.0.1:0");
  }
  return value;
};
const pathPrefix = (value: string): string => {
  if (value !== "" && (!value.startsWith("/") || value.endsWith("/")))
    throw new InvalidArgumentError("want a path like /authz, starting and not ending with /");
  return value;
};
const nonEmpty = (value: string): string => {
  if (value === "") throw new InvalidArgumentError("must not be empty");
  return value;
};

export function flagsCommand(): Command {
  return new Command("kube-rbac-extauthz")
    .description("Envoy external authorization with Kubernetes TokenReview, client certificates and RBAC")
    .addOption(
      new Option("--grpc-address <host:port>", "Envoy ext_authz v3 gRPC Check, gRPC health and reflection")
        .default("0.0.0.0:9000")
        .argParser(address),
    )
    .addOption(new Option("--metrics-address <host:port>", "/metrics, /healthz and /readyz").default("0.0.0.0:9090").argParser(address))
    .addOption(
      new Option(
        "--http-address <host:port>",
        "HTTP authorization service (Envoy http_service, nginx auth_request, Traefik forwardAuth); off when unset",
      ).argParser(address),
    )
    .addOption(
      new Option("--http-path-prefix <prefix>", "with --http-address: prefix stripped from the path of Envoy http_service checks")
        .default("")
        .argParser(pathPrefix),
    )
    .addOption(new Option("--kubeconfig <file>", "kubeconfig of the Kubernetes API; default: in-cluster service account"))
    .addOption(
      new Option("--kube-api-timeout <duration>", "timeout of one call to the Kubernetes API").default(5000, "5s").argParser(duration),
    )
    .addOption(
      new Option(
        "--workers <n>",
        "processes serving Checks, sharing the gRPC and HTTP ports (SO_REUSEPORT); each keeps its own caches. 1: this process serves",
      )
        .default(1)
        .argParser(workerCount),
    )
    .addOption(new Option("--cache-max-entries <n>", "bound of each cache").default(100_000).argParser(positiveInt))
    .addOption(new Option("--config-file <file>", "YAML with kube-rbac-proxy's authorization: section"))
    .addOption(
      new Option("--auth-token-audiences <list>", "comma list; a token must be valid for one of them (TokenReview spec.audiences)")
        .default([], "none")
        .argParser(list),
    )
    .addOption(new Option("--client-ca-file <file>", "authenticate client certificates (Envoy's source.certificate) signed by these CAs"))
    .addOption(new Option("--token-auth-file <file>", 'static tokens, kube-apiserver CSV format: token,user,uid,"group1,group2"'))
    .addOption(
      new Option("--allow-paths <globs>", "comma list of path globs; any other path is denied with 404")
        .default([], "none")
        .argParser(list),
    )
    .addOption(
      new Option("--ignore-paths <globs>", "comma list of path globs allowed with no authentication").default([], "none").argParser(list),
    )
    .addOption(
      new Option("--auth-header-fields-enabled [bool]", "on allow, set the user and groups headers upstream")
        .default(false)
        .preset(true)
        .argParser(bool),
    )
    .addOption(new Option("--auth-header-user-field-name <name>", "header for the user name").default("x-remote-user").argParser(nonEmpty))
    .addOption(new Option("--auth-header-groups-field-name <name>", "header for the groups").default("x-remote-groups").argParser(nonEmpty))
    .addOption(new Option("--auth-header-groups-field-separator <sep>", "separator of the groups").default("|"))
    .addOption(
      new Option("--authentication-token-webhook-cache-ttl <duration>", "how long TokenReview results are cached")
        .default(120_000, "2m")
        .argParser(duration),
    )
    .addOption(
      new Option("--authorization-webhook-cache-authorized-ttl <duration>", "how long SubjectAccessReview allows are cached")
        .default(300_000, "5m")
        .argParser(duration),
    )
    .addOption(
      new Option("--authorization-webhook-cache-unauthorized-ttl <duration>", "how long SubjectAccessReview denies are cached")
        .default(30_000, "30s")
        .argParser(duration),
    )
    .addOption(new Option("--log-level <level>", "log level").default("info").choices(LOG_LEVELS))
    .addOption(
      new Option(
        "--authorization-mode <mode>",
        "sar: a SubjectAccessReview; local: RBAC evaluated here; local-then-sar: here, then the API when RBAC alone does not allow",
      )
        .default("sar")
        .choices(AUTHORIZATION_MODES),
    )
    .addOption(
      new Option("--rbac-manifests <path>", "with a local mode: RBAC YAML (file or folder) instead of the cluster's Roles and bindings"),
    )
    .addOption(
      new Option("--dry-run [bool]", "decide, log and count every Check, but answer allow").default(false).preset(true).argParser(bool),
    )
    .addOption(new Option("--tls-cert-file <file>", "serve gRPC over TLS with this certificate (reloaded on change)"))
    .addOption(new Option("--tls-private-key-file <file>", "private key of --tls-cert-file"))
    .addOption(new Option("--tls-client-ca-file <file>", "require a client certificate (Envoy's) signed by these CAs on the gRPC listener"))
    .addOption(
      new Option("--tls-min-version <version>", "minimum TLS version of the gRPC listener")
        .default("VersionTLS12")
        .choices(Object.keys(TLS_VERSIONS)),
    )
    .addOption(new Option("--oidc-issuer <url>", "authenticate OIDC ID tokens from this issuer (https); keys from its discovery document"))
    .addOption(new Option("--oidc-client-id <id>", "the audience an OIDC token must carry"))
    .addOption(new Option("--oidc-ca-file <file>", "CA bundle for the issuer's TLS (replaces the system roots)"))
    .addOption(new Option("--oidc-username-claim <claim>", "claim holding the user name").default("email"))
    .addOption(new Option("--oidc-username-prefix <prefix>", "prefix of OIDC user names"))
    .addOption(new Option("--oidc-groups-claim <claim>", "claim holding the groups").default("groups"))
    .addOption(new Option("--oidc-groups-prefix <prefix>", "prefix of OIDC groups"))
    .addOption(new Option("--oidc-sign-alg <algs>", "accepted signing algorithms, comma list (RS*, PS*, ES*)").default("RS256"))
    .addOption(
      new Option(
        "--trust-spiffe-principal <trust domain>",
        "authenticate a peer whose Envoy source.principal is spiffe://<trust domain>/ns/<ns>/sa/<sa> as that ServiceAccount (only behind mTLS)",
      ),
    )
    .addOption(
      new Option(
        "--egress-service-account <namespace/name>",
        'egress mode: answer every Check with a token of this ServiceAccount bound to the request\'s audience (context_extensions["audience"], else the host)',
      ).argParser(namespacedName),
    )
    .addOption(
      new Option("--egress-token-expiration <duration>", "lifetime asked for egress tokens (at least 10m, the TokenRequest minimum)")
        .default(3_600_000, "1h")
        .argParser(atLeastTenMinutes),
    )
    .addOption(
      new Option("--reload-interval <duration>", "how often the config, token, CA and TLS files are checked for changes")
        .default(2000, "2s")
        .argParser(positiveDuration),
    )
    .helpOption("-h, --help", "list every flag")
    .allowExcessArguments(false)
    .showSuggestionAfterError(true);
}

/** Parses argv (without node and script); throws CommanderError on bad input. */
export function parseFlags(argv: readonly string[], configure?: (c: Command) => void): Flags {
  const command = flagsCommand();
  configure?.(command);
  command.parse(argv as string[], { from: "user" });
  return command.opts<Flags>();
}
