// The composition root: configuration -> authenticators, authorizers, caches -> engine, and the
// listeners around it. The only place that knows how the pieces fit.
import { bearerAuthenticator } from "./authn/bearer.ts";
import { cachedTokenAuthenticator } from "./authn/cached-token.ts";
import { tokenReviewAuthenticator } from "./authn/token-review.ts";
import type { Authenticator, TokenAuthenticator } from "./authn/types.ts";
import { firstApplicable, tokenUnion } from "./authn/union.ts";
import { x509Authenticator } from "./authn/x509.ts";
import { cachedAuthorizer } from "./authz/cached.ts";
import { staticAuthorizer } from "./authz/static.ts";
import { subjectAccessReviewAuthorizer } from "./authz/subject-access-review.ts";
import { authorizerUnion, type NamedAuthorizer } from "./authz/union.ts";
import type { Clock } from "./cache/coalescing-cache.ts";
import type { Config } from "./config/index.ts";
import { createEngine, type Engine } from "./core/engine.ts";
import type { KubeClient } from "./kube/types.ts";
import type { Logger } from "./observability/logger.ts";
import type { Metrics } from "./observability/metrics.ts";

export interface EngineDependencies {
  kube: KubeClient;
  metrics: Metrics;
  logger: Logger;
  clock?: Clock;
}

export function buildEngine(config: Config, deps: EngineDependencies): Engine {
  const { flags } = config;
  const tokenAuthenticators: TokenAuthenticator[] = [];
  if (config.staticTokens) tokenAuthenticators.push(config.staticTokens);
  tokenAuthenticators.push(
    cachedTokenAuthenticator(tokenReviewAuthenticator(deps.kube, flags.authTokenAudiences), {
      ttlMs: flags.authenticationTokenWebhookCacheTtl,
      maxEntries: flags.cacheMaxEntries,
      hash: config.tokenHash,
      clock: deps.clock,
      observer: deps.metrics.cacheObserver("token"),
    }),
  );
  // Contract order: a client certificate when a CA is configured and one was passed, else the
  // bearer token (static file first, then TokenReview).
  const authenticators: Authenticator[] = [];
  if (config.clientCas) authenticators.push(x509Authenticator(config.clientCas));
  authenticators.push(bearerAuthenticator(tokenUnion(tokenAuthenticators)));

  const authorizers: NamedAuthorizer[] = [];
  if (config.authorization.static.length > 0) {
    authorizers.push({ name: "static", authorizer: staticAuthorizer(config.authorization.static) });
  }
  authorizers.push({
    name: "SubjectAccessReview",
    authorizer: cachedAuthorizer(subjectAccessReviewAuthorizer(deps.kube), {
      allowTtlMs: flags.authorizationWebhookCacheAuthorizedTtl,
      denyTtlMs: flags.authorizationWebhookCacheUnauthorizedTtl,
      maxEntries: flags.cacheMaxEntries,
      clock: deps.clock,
      observer: deps.metrics.cacheObserver("decision"),
    }),
  });

  const { resourceAttributes, rewrites } = config.authorization;
  if (rewrites && !resourceAttributes) {
    deps.logger.warn("config file: rewrites have no effect without resourceAttributes (as in kube-rbac-proxy)");
  }

  return createEngine({
    ignorePaths: config.ignorePaths,
    allowPaths: config.allowPaths,
    authenticator: firstApplicable(authenticators),
    attributes: config.attributes,
    authorizer: authorizerUnion(authorizers),
    identityHeaders: {
      enabled: flags.authHeaderFieldsEnabled,
      userHeader: flags.authHeaderUserFieldName,
      groupsHeader: flags.authHeaderGroupsFieldName,
      groupsSeparator: flags.authHeaderGroupsFieldSeparator,
    },
    onInternalError: (error) => deps.logger.error({ err: error }, "check failed unexpectedly; answered 503"),
  });
}
