// Starts the service from a resolved configuration: the Kubernetes client, the engine, the
// listeners, and the watches that reload changed files. Returns a handle to stop it; signal
// handling stays in main.ts.
import { startGrpcServer } from "./adapters/grpc/server.ts";
import { grpcCredentials } from "./adapters/grpc/tls.ts";
import { startHttpServer } from "./adapters/http/server.ts";
import { type ApiParts, buildApiParts, buildEngine } from "./app.ts";
import type { RbacStore } from "./authz/rbac/authorizer.ts";
import { type Config, type Policy, resolvePolicy } from "./config/index.ts";
import { type FileWatch, watchFiles } from "./config/watch.ts";
import { dryRunEngine } from "./core/dry-run.ts";
import type { Engine } from "./core/engine.ts";
import { egressEngine } from "./egress/engine.ts";
import { createKubeClient, unconfiguredKubeClient } from "./kube/client.ts";
import { startMetricsServer } from "./observability/http-server.ts";
import type { Logger } from "./observability/logger.ts";
import { createMetrics, type Metrics, reportMetricsToPrimary } from "./observability/metrics.ts";
import { observedEngine } from "./observability/observed-engine.ts";
import type { WorkerLink } from "./workers/worker.ts";

export interface RunningService {
  grpcPort: number;
  /** Undefined in a worker of --workers (the primary serves the metrics). */
  metricsPort?: number;
  /** Undefined when --http-address is not set. */
  httpPort?: number;
  /** Stops taking Checks, drains those in flight (up to `graceMs`), closes everything. */
  stop(graceMs?: number): Promise<void>;
}

/** With `worker`, this process is one of --workers: listeners shared, metrics and readiness reported. */
export async function startService(config: Config, logger: Logger, worker?: WorkerLink): Promise<RunningService> {
  const { flags } = config;
  const metrics = createMetrics({ dryRun: flags.dryRun });
  const kube = config.kubeConfig
    ? await createKubeClient(config.kubeConfig, {
        timeoutMs: flags.kubeApiTimeout,
        observe: (api, code) => metrics.recordKubeApi(api, code),
      })
    : unconfiguredKubeClient;
  if (!config.kubeConfig) {
    logger.warn(
      "no Kubernetes API configured (--kubeconfig, or in-cluster): TokenReview and SubjectAccessReview will fail closed with 503",
    );
  }
  const api = buildApiParts(config, { kube, metrics, logger });
  // Not awaited: until the first full sync the service is not ready (see readiness below).
  api.rbacInformer?.start().catch((e: Error) => logger.warn({ error: e.message }, "RBAC informer stopped before its first sync"));
  // Fetching the issuer's keys early only saves the first OIDC request a wait; a failure here is
  // not fatal (those requests fail closed until the issuer answers).
  config.oidc?.warmUp().catch((e: Error) => logger.warn({ error: e.message }, "OIDC issuer not reachable yet"));
  const policy = reloadablePolicy(config, api, metrics, logger);
  const egress = flags.egressServiceAccount;
  const decider = egress
    ? egressEngine(kube, {
        namespace: egress.namespace,
        serviceAccount: egress.name,
        expirationSeconds: Math.round(flags.egressTokenExpiration / 1000),
        maxEntries: flags.cacheMaxEntries,
      })
    : policy.engine;
  if (egress)
    logger.info({ serviceAccount: `${egress.namespace}/${egress.name}` }, "egress mode: every Check gets an audience-bound token");
  let engine: Engine = observedEngine(decider, metrics, logger);
  if (flags.dryRun) {
    engine = dryRunEngine(engine, [flags.authHeaderUserFieldName, flags.authHeaderGroupsFieldName]);
    logger.warn("--dry-run: every Check is answered allow; the decisions are only logged and counted");
  }

  const grpcTls = grpcCredentials(config.tls);
  const watches: FileWatch[] = [policy.watch];
  if (grpcTls.files.length > 0) {
    watches.push(watchFiles(grpcTls.files, flags.reloadInterval, () => reload(metrics, logger, "tls", grpcTls.reload)));
  }

  const shared = worker !== undefined;
  if (shared) reportMetricsToPrimary(metrics.registry);
  const metricsListener = shared ? undefined : await startMetricsServer(flags.metricsAddress, metrics.registry);
  const grpc = await startGrpcServer(flags.grpcAddress, grpcTls.credentials, engine, shared);
  const http = flags.httpAddress ? await startHttpServer(flags.httpAddress, flags.httpPathPrefix, engine, shared) : undefined;
  let draining = false;
  const readiness = (): { ready: boolean; detail: string } => {
    if (draining) return { ready: false, detail: "draining" };
    return rbacReadiness(api.rbacInformer ?? policy.current().rbacManifests, api.rbacInformer !== undefined);
  };
  metricsListener?.setReadiness(readiness);
  // gRPC health (and a worker's report to the primary) follows readiness: SERVING once the
  // service can decide.
  const followReadiness = () => {
    const state = readiness();
    grpc.setServing(state.ready);
    worker?.readiness(state);
  };
  const health = setInterval(followReadiness, 500);
  health.unref();
  followReadiness();
  const ports = { grpcPort: grpc.port, metricsPort: metricsListener?.port, httpPort: http?.port };
  logger.info({ ...ports, tls: config.tls !== undefined }, shared ? "worker serving" : "serving");
  worker?.listening(ports);

  return {
    ...ports,
    async stop(graceMs = 10_000) {
      for (const w of watches) w.stop();
      clearInterval(health);
      draining = true;
      api.rbacInformer?.stop();
      await Promise.all([grpc.shutdown(graceMs), http?.close()]);
      await metricsListener?.close();
      await Promise.all([kube.close(), config.oidc?.close()]);
    },
  };
}

/** Ready when there is no local RBAC to wait for, or once its first complete state is in. */
function rbacReadiness(store: RbacStore | undefined, fromCluster: boolean): { ready: boolean; detail: string } {
  if (!store) return { ready: true, detail: "deciding" };
  if (!store.ready || !store.syncedAt) return { ready: false, detail: "RBAC not synced yet" };
  const age = Math.round((Date.now() - store.syncedAt.getTime()) / 1000);
  return {
    ready: true,
    detail: fromCluster ? `RBAC synced ${age}s ago (${store.syncedAt.toISOString()})` : `RBAC manifests read ${age}s ago`,
  };
}

/**
 * The engine of the current policy files. When the config, token or client CA file changes, the
 * policy is read and built again around the same API caches; a broken file is rejected, logged
 * and counted, and the last good policy stays in force.
 */
function reloadablePolicy(
  config: Config,
  api: ApiParts,
  metrics: Metrics,
  logger: Logger,
): { engine: Engine; watch: FileWatch; current(): Policy } {
  const { flags } = config;
  let policy = config.policy;
  let current = buildEngine(config, policy, api, logger);
  const files = [flags.configFile, flags.tokenAuthFile, flags.clientCaFile, flags.rbacManifests].filter(
    (f): f is string => f !== undefined,
  );
  const watch = watchFiles(files, flags.reloadInterval, () =>
    reload(metrics, logger, "policy", () => {
      const next = resolvePolicy(flags, config.tokenHash);
      current = buildEngine(config, next, api, logger);
      policy = next;
    }),
  );
  return { engine: { check: (input) => current.check(input) }, watch, current: () => policy };
}

function reload(metrics: Metrics, logger: Logger, source: "policy" | "tls", apply: () => void): void {
  try {
    apply();
    metrics.recordReload(source, "success");
    logger.info({ source }, "reloaded changed files");
  } catch (e) {
    metrics.recordReload(source, "failure");
    logger.error({ source, error: (e as Error).message }, "rejected changed files; the last good ones stay in force");
  }
}
