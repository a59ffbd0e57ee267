// The composition root: configuration -> authenticators, authorizers, caches -> engine. The only
// place that knows how the pieces fit. What talks to the Kubernetes API (and its caches) is built
// once; what a policy file decides is built again on every reload, around the same caches.
import { bearerAuthenticator } from "./authn/bearer.ts";
import { cachedTokenAuthenticator } from "./authn/cached-token.ts";
import { tokenReviewAuthenticator } from "./authn/token-review.ts";
import type { Authenticator, TokenAuthenticator } from "./authn/types.ts";
import { firstApplicable, tokenUnion } from "./authn/union.ts";
import { x509Authenticator } from "./authn/x509.ts";
import { cachedAuthorizer } from "./authz/cached.ts";
import { rbacAuthorizer } from "./authz/rbac/authorizer.ts";
import { staticAuthorizer } from "./authz/static.ts";
import { subjectAccessReviewAuthorizer } from "./authz/subject-access-review.ts";
import type { Authorizer } from "./authz/types.ts";
import { authorizerUnion, type NamedAuthorizer } from "./authz/union.ts";
import type { Clock } from "./cache/coalescing-cache.ts";
import type { Config, Policy, ProfilePolicy } from "./config/index.ts";
import { createEngine, type Engine, type Tracer } from "./core/engine.ts";
import { profileRouter } from "./core/profiles.ts";
import type { IdentityHeaders } from "./core/response.ts";
import type { UserInfo } from "./core/types.ts";
import { type RbacInformerStore, rbacInformerStore } from "./kube/rbac-informer.ts";
import type { KubeClient } from "./kube/types.ts";
import type { Logger } from "./observability/logger.ts";
import type { Metrics } from "./observability/metrics.ts";

export interface EngineDependencies {
  kube: KubeClient;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
}

/** The parts that call the Kubernetes API, with their caches: built once, kept across reloads. */
export interface ApiParts {
  tokenReview: TokenAuthenticator;
  subjectAccessReview: Authorizer;
  /** The cluster's RBAC, listed and watched, when a local mode reads it from the cluster. */
  rbacInformer?: RbacInformerStore;
}

export function buildApiParts(config: Config, deps: EngineDependencies): ApiParts {
  const { flags } = config;
  return {
    tokenReview: cachedTokenAuthenticator(tokenReviewAuthenticator(deps.kube, flags.authTokenAudiences), {
      ttlMs: flags.authenticationTokenWebhookCacheTtl,
      maxEntries: flags.cacheMaxEntries,
      hash: config.tokenHash,
      clock: deps.clock,
      observer: deps.metrics.cacheObserver("token"),
    }),
    subjectAccessReview: cachedAuthorizer(subjectAccessReviewAuthorizer(deps.kube), {
      allowTtlMs: flags.authorizationWebhookCacheAuthorizedTtl,
      denyTtlMs: flags.authorizationWebhookCacheUnauthorizedTtl,
      maxEntries: flags.cacheMaxEntries,
      clock: deps.clock,
      observer: deps.metrics.cacheObserver("decision"),
    }),
    rbacInformer: clusterRbac(config, deps.logger),
  };
}

/**
 * A local authorization mode without --rbac-manifests reads the cluster's RBAC: list and watch.
 * The caller starts it (the service without waiting, the CLI waiting for the first sync).
 */
function clusterRbac(config: Config, logger: Logger): RbacInformerStore | undefined {
  const { flags } = config;
  if (flags.authorizationMode === "sar" || flags.rbacManifests) return undefined;
  if (!config.kubeConfig)
    throw new Error(`--authorization-mode ${flags.authorizationMode}: needs --rbac-manifests or a Kubernetes API to read RBAC from`);
  const store = rbacInformerStore(config.kubeConfig, {
    observe: (event) =>
      event.type === "retrying" || event.type === "invalidObject"
        ? logger.warn(event, "RBAC informer")
        : logger.info(event, "RBAC informer"),
  });
  return store;
}

export interface BuildOptions {
  trace?: Tracer;
  /** Replaces authentication with this identity (`check --as`). */
  assertedUser?: UserInfo;
}

/** One engine per profile behind a router; the default profile alone when there are none. */
export function buildEngine(config: Config, policy: Policy, api: ApiParts, logger: Logger, options: BuildOptions = {}): Engine {
  const { flags } = config;
  // Order: the mesh identity Envoy established (when trusted), then a client certificate (when a
  // CA is configured and one was passed), then the bearer token: static file, OIDC, TokenReview,
  // as kube-apiserver orders its token authenticators. SPIFFE comes before x509 because an Istio
  // workload certificate passed with include_peer_certificate would otherwise be rejected by a
  // client CA that is not the mesh's.
  const authenticators: Authenticator[] = [];
  if (config.spiffe) authenticators.push(config.spiffe);
  if (policy.clientCas) authenticators.push(x509Authenticator(policy.clientCas));
  const tokens: TokenAuthenticator[] = [];
  if (policy.staticTokens) tokens.push(policy.staticTokens);
  if (config.oidc) tokens.push(config.oidc);
  tokens.push(api.tokenReview);
  authenticators.push(bearerAuthenticator(tokenUnion(tokens)));
  const asserted = options.assertedUser;
  const authenticator: Authenticator = asserted
    ? { authenticate: async () => ({ kind: "authenticated", user: asserted, credential: "asserted" }) }
    : firstApplicable(authenticators);
  const identityHeaders: IdentityHeaders = {
    enabled: flags.authHeaderFieldsEnabled,
    userHeader: flags.authHeaderUserFieldName,
    groupsHeader: flags.authHeaderGroupsFieldName,
    groupsSeparator: flags.authHeaderGroupsFieldSeparator,
  };

  const engineOf = (profile: ProfilePolicy): Engine => {
    const { authorization } = profile;
    if (authorization.rewrites && !authorization.resourceAttributes) {
      logger.warn({ profile: profile.name }, "config file: rewrites have no effect without resourceAttributes (as in kube-rbac-proxy)");
    }
    const authorizers: NamedAuthorizer[] = [];
    if (authorization.static.length > 0) authorizers.push({ name: "static", authorizer: staticAuthorizer(authorization.static) });
    // --authorization-mode: which of local RBAC and the SubjectAccessReview decide what static
    // rules leave open, in that order (a local "no opinion" lets the API's other authorizers,
    // such as webhooks, still allow).
    const rbac = policy.rbacManifests ?? api.rbacInformer;
    if (flags.authorizationMode !== "sar" && rbac) authorizers.push({ name: "RBAC", authorizer: rbacAuthorizer(rbac) });
    if (flags.authorizationMode !== "local") authorizers.push({ name: "SubjectAccessReview", authorizer: api.subjectAccessReview });
    return createEngine({
      ignorePaths: profile.ignorePaths,
      allowPaths: profile.allowPaths,
      authenticator,
      attributes: profile.attributes,
      authorizer: authorizerUnion(authorizers),
      identityHeaders,
      trace: options.trace,
      onInternalError: (error) => logger.error({ err: error, profile: profile.name }, "check failed unexpectedly; answered 503"),
    });
  };

  return profileRouter(
    engineOf(policy.defaultProfile),
    policy.profiles.map((p) => ({ name: p.name, hosts: p.hosts, engine: engineOf(p) })),
  );
}
