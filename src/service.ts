// Starts the service from a resolved configuration: the Kubernetes client, the engine, and the
// listeners. Returns a handle to stop it; signal handling stays in main.ts.
import { startGrpcServer } from "./adapters/grpc/server.ts";
import { startHttpServer } from "./adapters/http/server.ts";
import { buildEngine } from "./app.ts";
import type { Config } from "./config/index.ts";
import type { CheckInput, CheckResult } from "./core/types.ts";
import { createKubeClient, unconfiguredKubeClient } from "./kube/client.ts";
import { startMetricsServer } from "./observability/http-server.ts";
import type { Logger } from "./observability/logger.ts";
import { createMetrics } from "./observability/metrics.ts";

export interface RunningService {
  grpcPort: number;
  metricsPort: number;
  /** Undefined when --http-address is not set. */
  httpPort?: number;
  /** Stops taking Checks, drains those in flight (up to `graceMs`), closes everything. */
  stop(graceMs?: number): Promise<void>;
}

export async function startService(config: Config, logger: Logger): Promise<RunningService> {
  const metrics = createMetrics();
  const kube = config.kubeConfig
    ? await createKubeClient(config.kubeConfig, {
        timeoutMs: config.flags.kubeApiTimeout,
        observe: (api, code) => metrics.recordKubeApi(api, code),
      })
    : unconfiguredKubeClient;
  if (!config.kubeConfig) {
    logger.warn(
      "no Kubernetes API configured (--kubeconfig, or in-cluster): TokenReview and SubjectAccessReview will fail closed with 503",
    );
  }
  const engine = buildEngine(config, { kube, metrics, logger });
  const logDecision = decisionLogger(logger);

  const metricsListener = await startMetricsServer(config.flags.metricsAddress, metrics.registry);
  const onDecision = (result: CheckResult, input: CheckInput | undefined, seconds: number) => {
    metrics.recordDecision(result, seconds);
    logDecision(result, input);
  };
  const grpc = await startGrpcServer(config.flags.grpcAddress, { engine, onDecision });
  const http = config.flags.httpAddress
    ? await startHttpServer(config.flags.httpAddress, { engine, pathPrefix: config.flags.httpPathPrefix, onDecision })
    : undefined;
  grpc.setServing(true);
  metricsListener.setReady(true);
  logger.info({ grpcPort: grpc.port, metricsPort: metricsListener.port, httpPort: http?.port }, "serving");

  return {
    grpcPort: grpc.port,
    metricsPort: metricsListener.port,
    httpPort: http?.port,
    async stop(graceMs = 10_000) {
      metricsListener.setReady(false);
      await Promise.all([grpc.shutdown(graceMs), http?.close()]);
      await metricsListener.close();
      await kube.close();
    },
  };
}

/** Denies at info with who, what and why; allows at debug (they are the hot path). */
function decisionLogger(logger: Logger) {
  return (result: CheckResult, input: CheckInput | undefined) => {
    const level = result.allowed ? "debug" : "info";
    if (!logger.isLevelEnabled(level)) return;
    logger[level](
      {
        decision: result.allowed ? "allow" : "deny",
        status: result.status,
        user: result.user?.name,
        method: input?.method,
        path: input ? input.target.split("?")[0] : undefined,
        requestId: input?.requestId || undefined,
        reason: result.reason,
      },
      "decision",
    );
  };
}
