// Decision, latency, Kubernetes API and cache metrics, in one registry per service instance (so
// tests can run several instances in one process).
import { AggregatorRegistry, Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import type { CacheObserver } from "../cache/coalescing-cache.ts";
import type { CheckResult } from "../core/types.ts";

export interface Metrics {
  registry: Registry;
  recordDecision(result: CheckResult, seconds: number): void;
  recordReload(source: "policy" | "tls", result: "success" | "failure"): void;
  recordKubeApi(api: string, code: string): void;
  cacheObserver(cache: "token" | "decision"): CacheObserver;
}

/** With `dryRun`, decisions carry dry_run="true" (the label exists only in a dry run). */
export function createMetrics(options: { dryRun?: boolean } = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const decisions = new Counter({
    name: "kube_rbac_extauthz_decisions_total",
    help: "Checks answered, by decision and HTTP status.",
    labelNames: options.dryRun ? ["decision", "status", "dry_run"] : ["decision", "status"],
    registers: [registry],
  });
  const reloads = new Counter({
    name: "kube_rbac_extauthz_config_reloads_total",
    help: "Reloads of changed files: policy (config, token and client CA files) or tls (serving certificates).",
    labelNames: ["source", "result"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "kube_rbac_extauthz_check_duration_seconds",
    help: "Time to decide one Check.",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const kubeApi = new Counter({
    name: "kube_rbac_extauthz_kube_api_requests_total",
    help: "Calls to the Kubernetes API, by API and HTTP status or error.",
    labelNames: ["api", "code"] as const,
    registers: [registry],
  });
  // Cache look-ups happen several times per Check: they are counted in plain numbers and handed
  // to prom-client only when /metrics is read.
  const cacheCounts = new Map<string, { hit: number; miss: number; reportedHit: number; reportedMiss: number }>();
  new Counter({
    name: "kube_rbac_extauthz_cache_requests_total",
    help: "Cache look-ups, by cache and result (hit includes joining a look-up in flight).",
    labelNames: ["cache", "result"] as const,
    registers: [registry],
    collect() {
      for (const [name, c] of cacheCounts) {
        this.labels(name, "hit").inc(c.hit - c.reportedHit);
        this.labels(name, "miss").inc(c.miss - c.reportedMiss);
        c.reportedHit = c.hit;
        c.reportedMiss = c.miss;
      }
    },
  });
  // Children bound once: the hot path does no label look-up.
  const byStatus = new Map<number, Counter.Internal>();
  const decisionCounter = (result: CheckResult): Counter.Internal => {
    let child = byStatus.get(result.status);
    if (!child) {
      const labels = [result.allowed ? "allow" : "deny", String(result.status)];
      if (options.dryRun) labels.push("true");
      child = decisions.labels(...labels);
      byStatus.set(result.status, child);
    }
    return child;
  };
  return {
    registry,
    recordDecision(result, seconds) {
      decisionCounter(result).inc();
      duration.observe(seconds);
    },
    recordKubeApi: (api, code) => kubeApi.labels(api, code).inc(),
    recordReload: (source, result) => reloads.labels(source, result).inc(),
    cacheObserver(name) {
      const counts = { hit: 0, miss: 0, reportedHit: 0, reportedMiss: 0 };
      cacheCounts.set(name, counts);
      return {
        hit: () => {
          counts.hit++;
        },
        miss: () => {
          counts.miss++;
        },
      };
    },
  };
}

/** What the metrics listener serves: one registry, or the sum over worker processes. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

/**
 * In the primary of --workers: /metrics sums every worker's registry (prom-client asks each worker
 * over the cluster IPC channel; counters and histograms add up).
 */
export function workersMetrics(): MetricsSource {
  const aggregator = new AggregatorRegistry();
  return { contentType: aggregator.contentType, metrics: () => aggregator.clusterMetrics() };
}

/** In a worker: answer the primary's requests with this registry (constructing one installs the IPC listener). */
export function reportMetricsToPrimary(registry: Registry): void {
  AggregatorRegistry.setRegistries([registry]);
  new AggregatorRegistry();
}
