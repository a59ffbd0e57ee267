// `npm run bench`: the service under ghz load next to a no-op grpc-js baseline, in one run, on
// loopback. Writes bench/results/latest.json and latest.md. Never part of `npm test`.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";
import { checkRequest } from "../test/support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../test/support/fake-kube-api.ts";
import { listeningPids } from "../test/support/processes.ts";
import { type ServiceProcess, startService } from "../test/support/service-process.ts";
import { type EvaluatorFigures, measureRbacEvaluator } from "./rbac-evaluator.ts";
import { ensureGhz, GHZ_VERSION, type LoadResult, runGhz, startNoop } from "./tools.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const QUICK = process.env.BENCH_QUICK === "1";
const SECONDS = QUICK ? 3 : 10;
const MEMORY_IDENTITIES = QUICK ? 10_000 : 100_000;

const scrape = (token: string) =>
  checkRequest({
    path: "/metrics",
    headers: { authorization: `Bearer ${token}`, "user-agent": "Prometheus/3.0", accept: "text/plain;version=0.0.4" },
  });

async function main() {
  const ghz = ensureGhz();
  const dir = mkdtempSync(join(tmpdir(), "kre-bench-"));
  const api = await startFakeKubeApi();
  api.authorize = () => ({ allowed: true });
  const user = { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:serviceaccounts", "system:authenticated"] };
  const hotTokens = Array.from({ length: 4 }, (_, i) => `hot-token-${i}-${"x".repeat(900)}`);
  for (const t of hotTokens) api.tokens.set(t, { user });

  const results = {} as Results;
  const baseline = await startNoop();
  try {
    const bench: Bench = { ghz, dir, api, user, hotTokens, baseline };
    await singleProcess(bench, results);
    // 5. --workers: the hot and cold loads on 1 and on 2 worker processes sharing the port.
    results.workers = await workersScaling(bench);
    log("workers", results.workers);
  } finally {
    await baseline.stop();
  }

  // 6. local RBAC: the evaluator alone, and cold Checks with no API call at all (static tokens
  // and RBAC manifests, every Check a new identity).
  results.localEvaluator = measureRbacEvaluator();
  results.localCold = await localCold(ghz, dir);
  log("local", { evaluator: results.localEvaluator, cold: results.localCold });

  // 7. memory: RSS and heap per cached identity, and after the caches expire.
  api.delayMs = 0;
  results.memory = await memory(ghz, dir, api, user);
  log("memory", results.memory);
  await api.close();

  const meta = {
    date: new Date().toISOString(),
    commit: git(["rev-parse", "--short", "HEAD"]),
    node: process.version,
    cpu: `${cpus().length} x ${cpus()[0]?.model ?? "?"}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    ghz: GHZ_VERSION,
    quick: QUICK,
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(join(ROOT, "bench/results/latest.json"), `${JSON.stringify({ meta, results }, null, 2)}\n`);
  const md = markdown(meta, results);
  writeFileSync(join(ROOT, "bench/results/latest.md"), md);
  process.stdout.write(`\n${md}`);
}

/** What the scenarios share: the load generator, the fake API, its hot identity, the no-op baseline. */
interface Bench {
  ghz: string;
  dir: string;
  api: FakeKubeApi;
  user: { username: string; groups: string[] };
  hotTokens: string[];
  baseline: { port: number; pid: number };
}

/** Scenarios 1-4 on one service process, next to the no-op baseline. */
async function singleProcess({ ghz, dir, api, user, hotTokens, baseline }: Bench, results: Results): Promise<void> {
  const service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--log-level=info", "--allow-paths=/metrics"]);
  try {
    // 1. hot: a few tokens, every decision cached; alternate baseline and service, best of two.
    const hot = { requests: hotTokens.map(scrape), concurrency: 64, connections: 2, durationS: SECONDS };
    await runGhz(ghz, dir, { ...hot, port: service.grpcPort, durationS: 2 });
    await runGhz(ghz, dir, { ...hot, port: baseline.port, durationS: 2 });
    const rounds: Array<[LoadResult, LoadResult]> = [];
    for (let i = 0; i < 2; i++) {
      rounds.push([
        await runGhz(ghz, dir, { ...hot, port: baseline.port, serverPids: [baseline.pid] }),
        await runGhz(ghz, dir, { ...hot, port: service.grpcPort, serverPids: [service.child.pid as number] }),
      ]);
    }
    const best = (k: 0 | 1) => rounds.map((r) => r[k]).sort((a, b) => b.rps - a.rps)[0];
    results.hot = { baseline: best(0), service: best(1), ratio: best(1).rps / best(0).rps };
    log("hot", results.hot);

    // 2. fixed rates on the hot path: latency only, next to the baseline at the same rate.
    const fixed = (rps: number, port: number, serverPid: number) =>
      runGhz(ghz, dir, {
        requests: hotTokens.map(scrape),
        concurrency: 32,
        connections: 2,
        durationS: SECONDS,
        rps,
        port,
        serverPids: [serverPid],
      });
    results.fixed1000 = await fixed(1000, service.grpcPort, service.child.pid as number);
    results.fixed1000Baseline = await fixed(1000, baseline.port, baseline.pid);
    results.fixed5000 = await fixed(5000, service.grpcPort, service.child.pid as number);
    results.fixed5000Baseline = await fixed(5000, baseline.port, baseline.pid);
    log("fixed", { s1000: results.fixed1000, s5000: results.fixed5000 });

    // 3. cold: every Check a new token, the API answering after 2 ms.
    api.delayMs = 2;
    const coldN = QUICK ? 2000 : 10_000;
    const coldTokens = newTokens(api, "cold", coldN, user);
    const apiAlone = await fakeApiAlone(api, coldN, 64);
    const before = { ...api.calls };
    const cold = await runGhz(ghz, dir, {
      requests: coldTokens.map(scrape),
      concurrency: 64,
      connections: 2,
      total: coldN,
      port: service.grpcPort,
      serverPids: [service.child.pid as number],
    });
    results.cold = {
      service: cold,
      apiAloneChecksPerSecond: apiAlone,
      ratioToApiAlone: cold.rps / apiAlone,
      tokenReviewsPerCheck: (api.calls.tokenreviews - before.tokenreviews) / coldN,
      subjectAccessReviewsPerCheck: (api.calls.subjectaccessreviews - before.subjectaccessreviews) / coldN,
    };
    log("cold", results.cold);

    // 4. stampede: 500 concurrent Checks of one new token.
    const [stampedeToken] = newTokens(api, "stampede", 1, user);
    const beforeStampede = { ...api.calls };
    const stampede = await runGhz(ghz, dir, {
      requests: [scrape(stampedeToken)],
      concurrency: 500,
      connections: 5,
      total: 500,
      port: service.grpcPort,
    });
    results.stampede = {
      checks: stampede.count,
      errors: stampede.errors,
      tokenReviews: api.calls.tokenreviews - beforeStampede.tokenreviews,
      subjectAccessReviews: api.calls.subjectaccessreviews - beforeStampede.subjectaccessreviews,
    };
    log("stampede", results.stampede);
  } finally {
    await service.stop();
  }
}

function newTokens(api: FakeKubeApi, prefix: string, n: number, user: { username: string; groups: string[] }): string[] {
  const stamp = Date.now().toString(36);
  return Array.from({ length: n }, (_, i) => {
    const token = `${prefix}-${stamp}-${i}-${"y".repeat(900)}`;
    api.tokens.set(token, { user: { ...user, username: `${user.username}-${prefix}-${i}` } });
    return token;
  });
}

/** Checks per second the fake API alone serves: one TokenReview and one SAR per check, same concurrency. */
async function fakeApiAlone(api: FakeKubeApi, n: number, concurrency: number): Promise<number> {
  const kubeconfig = readFileSync(api.kubeconfigPath, "utf8");
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(kubeconfig)?.[1] ?? "", "base64").toString();
  const pool = new Pool(api.url, { connect: { ca }, connections: 8 });
  const post = async (path: string, body: object) => {
    const res = await pool.request({ method: "POST", path, body: JSON.stringify(body), headers: { "content-type": "application/json" } });
    await res.body.text();
  };
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        await post("/apis/authentication.k8s.io/v1/tokenreviews", { spec: { token: "unknown" } });
        await post("/apis/authorization.k8s.io/v1/subjectaccessreviews", {
          spec: { user: "u", nonResourceAttributes: { path: "/metrics", verb: "get" } },
        });
      }
    }),
  );
  const rate = n / ((performance.now() - started) / 1000);
  await pool.close();
  return rate;
}

/**
 * The same service with --workers 1 and --workers 2, under the hot load and a cold load. The
 * kernel spreads connections (not requests) over the workers' sockets, so the load uses 16
 * connections; the no-op baseline runs under the same load for the ratio.
 */
async function workersScaling({ ghz, dir, api, user, hotTokens, baseline }: Bench) {
  const connections = 16;
  const hotLoad = { requests: hotTokens.map(scrape), concurrency: 64, connections, durationS: SECONDS };
  const best = async (port: number, serverPids: number[]) => {
    await runGhz(ghz, dir, { ...hotLoad, port, durationS: 2 });
    const runs = [await runGhz(ghz, dir, { ...hotLoad, port, serverPids }), await runGhz(ghz, dir, { ...hotLoad, port, serverPids })];
    return runs.sort((a, b) => b.rps - a.rps)[0];
  };
  const baselineHot = await best(baseline.port, [baseline.pid]);
  const coldN = QUICK ? 2000 : 10_000;
  const run = async (workers: number) => {
    api.delayMs = 0;
    const service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      "--log-level=info",
      "--allow-paths=/metrics",
      `--workers=${workers}`,
    ]);
    try {
      // With one worker the serving process is the service itself; with more, the workers.
      const pids = workers === 1 ? [service.child.pid as number] : listeningPids(service.grpcPort);
      const hot = await best(service.grpcPort, pids);
      api.delayMs = 2;
      const tokens = newTokens(api, `cold-w${workers}`, coldN, user);
      const before = { ...api.calls };
      const cold = await runGhz(ghz, dir, {
        requests: tokens.map(scrape),
        concurrency: 64,
        connections,
        total: coldN,
        port: service.grpcPort,
        serverPids: pids,
      });
      return {
        workers,
        hot,
        hotRatioToBaseline: hot.rps / baselineHot.rps,
        cold,
        apiCallsPerCheck:
          (api.calls.tokenreviews - before.tokenreviews + api.calls.subjectaccessreviews - before.subjectaccessreviews) / coldN,
      };
    } finally {
      await service.stop();
      api.delayMs = 0;
    }
  };
  const one = await run(1);
  const two = await run(2);
  return { connections, baselineHot, one, two, hotScaling: two.hot.rps / one.hot.rps, coldScaling: two.cold.rps / one.cold.rps };
}

async function memory(ghz: string, dir: string, api: FakeKubeApi, user: { username: string; groups: string[] }) {
  // Longer than loading every identity takes (at a few hundred cold Checks/s), so that all of them
  // are cached at once when measured; then waited out (plus the 10 s purge) for the last figure.
  const ttlS = QUICK ? 60 : 240;
  const ttl = `${ttlS}s`;
  // Each figure is taken after a full garbage collection, asked for over the inspector protocol
  // (loopback, a port of its own): it is then of what is retained, not of garbage V8 has not
  // collected yet, and RSS shows what V8 gave back.
  const service = await startService(
    [
      `--kubeconfig=${api.kubeconfigPath}`,
      "--log-level=info",
      `--authentication-token-webhook-cache-ttl=${ttl}`,
      `--authorization-webhook-cache-authorized-ttl=${ttl}`,
      `--authorization-webhook-cache-unauthorized-ttl=${ttl}`,
    ],
    { NODE_OPTIONS: "--inspect=127.0.0.1:0" },
  );
  const inspector = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(service.output())?.[1];
  if (!inspector) throw new Error(`no inspector address in the service's output:\n${service.output()}`);
  const retained = async () => {
    await collectGarbage(inspector);
    // V8 hands freed pages back to the system shortly after a collection.
    await sleep(2000);
    return processMemory(service);
  };
  try {
    const warm = newTokens(api, "warm", 1000, user);
    await runGhz(ghz, dir, { requests: warm.map(scrape), concurrency: 32, total: warm.length, port: service.grpcPort });
    const idle = await retained();
    const tokens = newTokens(api, "memory", MEMORY_IDENTITIES, user);
    const loadStarted = Date.now();
    await runGhz(ghz, dir, { requests: tokens.map(scrape), concurrency: 64, connections: 2, total: tokens.length, port: service.grpcPort });
    const loadSeconds = (Date.now() - loadStarted) / 1000;
    if (loadSeconds > ttlS)
      throw new Error(`loading took ${loadSeconds} s, longer than the ${ttlS} s TTL: the figure would not hold every identity`);
    const full = await retained();
    // The last identity was cached when the load ended: wait for its TTL and one purge.
    await sleep(Math.max(0, loadStarted + (loadSeconds + ttlS + 12) * 1000 - Date.now()));
    const expired = await retained();
    return {
      identities: MEMORY_IDENTITIES,
      idle,
      full,
      expired,
      rssBytesPerIdentity: (full.rss - idle.rss) / MEMORY_IDENTITIES,
      // Same process, same load behind it; the only difference is whether the entries are held.
      rssBytesHeldPerIdentity: (full.rss - expired.rss) / MEMORY_IDENTITIES,
      heapBytesPerIdentity: (full.heapUsed - idle.heapUsed) / MEMORY_IDENTITIES,
    };
  } finally {
    await service.stop();
  }
}

async function localCold(ghz: string, dir: string): Promise<{ service: LoadResult; apiCalls: number }> {
  const n = QUICK ? 2000 : 10_000;
  const tokens = Array.from({ length: n }, (_, i) => `local-${i}-${"z".repeat(900)}`);
  writeFileSync(join(dir, "tokens.csv"), tokens.map((t, i) => `${t},scraper-${i},${i},"scrapers"`).join("\n"));
  writeFileSync(
    join(dir, "rbac.yaml"),
    `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules: [{nonResourceURLs: ["/metrics"], verbs: ["get"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: scrapers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader}
subjects: [{kind: Group, name: scrapers, apiGroup: rbac.authorization.k8s.io}]
`,
  );
  const service = await startService([
    "--authorization-mode=local",
    `--rbac-manifests=${join(dir, "rbac.yaml")}`,
    `--token-auth-file=${join(dir, "tokens.csv")}`,
  ]);
  try {
    const result = await runGhz(ghz, dir, {
      requests: tokens.map(scrape),
      concurrency: 64,
      connections: 2,
      total: n,
      port: service.grpcPort,
      serverPids: [service.child.pid as number],
    });
    const metrics = await service.metrics();
    const apiCalls = [...metrics.matchAll(/^kube_rbac_extauthz_kube_api_requests_total\{[^}]*\} (\d+)/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    );
    return { service: result, apiCalls };
  } finally {
    await service.stop();
  }
}

/** A full garbage collection in the process behind `inspector` (HeapProfiler.collectGarbage). */
async function collectGarbage(inspector: string): Promise<void> {
  const socket = new WebSocket(inspector);
  try {
    await new Promise((resolve, reject) => {
      socket.addEventListener("open", resolve, { once: true });
      socket.addEventListener("error", () => reject(new Error(`cannot reach the inspector at ${inspector}`)), { once: true });
    });
    for (let id = 1; id <= 2; id++) {
      const answered = new Promise<void>((resolve) =>
        socket.addEventListener("message", function onMessage(event) {
          if (JSON.parse(String(event.data)).id !== id) return;
          socket.removeEventListener("message", onMessage);
          resolve();
        }),
      );
      socket.send(JSON.stringify({ id, method: "HeapProfiler.collectGarbage" }));
      await answered;
    }
  } finally {
    socket.close();
  }
}

async function processMemory(service: ServiceProcess): Promise<{ rss: number; heapUsed: number }> {
  // A fresh connection each time: a kept-alive one may have been closed by the server meanwhile.
  const res = await fetch(`http://127.0.0.1:${service.metricsPort}/metrics`, { headers: { connection: "close" } });
  const text = await res.text();
  const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)`, "m").exec(text)?.[1]);
  return { rss: metric("process_resident_memory_bytes"), heapUsed: metric("nodejs_heap_size_used_bytes") };
}

interface Results {
  hot: { baseline: LoadResult; service: LoadResult; ratio: number };
  fixed1000: LoadResult;
  fixed1000Baseline: LoadResult;
  fixed5000: LoadResult;
  fixed5000Baseline: LoadResult;
  localEvaluator: EvaluatorFigures;
  localCold: { service: LoadResult; apiCalls: number };
  cold: {
    service: LoadResult;
    apiAloneChecksPerSecond: number;
    ratioToApiAlone: number;
    tokenReviewsPerCheck: number;
    subjectAccessReviewsPerCheck: number;
  };
  stampede: { checks: number; errors: number; tokenReviews: number; subjectAccessReviews: number };
  memory: Awaited<ReturnType<typeof memory>>;
  workers: Awaited<ReturnType<typeof workersScaling>>;
}

function markdown(meta: Record<string, unknown>, r: Results): string {
  const ms = (x: number) => x.toFixed(3);
  const row = (name: string, l: LoadResult) =>
    `| ${name} | ${Math.round(l.rps)} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.p999)} | ${l.errors} |`;
  const mib = (b: number) => (b / 2 ** 20).toFixed(1);
  const us = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(0));
  return [
    `Machine: ${meta.cpu}, ${meta.memoryGiB} GiB; Node ${meta.node}; commit ${meta.commit}; ghz ${meta.ghz}; ${meta.date}${meta.quick ? " (quick run)" : ""}`,
    "",
    "| scenario | Checks/s | p50 ms | p90 ms | p99 ms | p99.9 ms | errors |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    row("no-op grpc-js baseline (hot load)", r.hot.baseline),
    row("hot: 4 tokens, cached", r.hot.service),
    row("fixed 1,000/s, hot", r.fixed1000),
    row("fixed 1,000/s, no-op baseline", r.fixed1000Baseline),
    row("fixed 5,000/s, hot", r.fixed5000),
    row("fixed 5,000/s, no-op baseline", r.fixed5000Baseline),
    row("cold: new token per Check, API 2 ms", r.cold.service),
    row("cold, local RBAC + static tokens", r.localCold.service),
    row(`no-op baseline, ${r.workers.connections} connections`, r.workers.baselineHot),
    row(`hot, --workers 1, ${r.workers.connections} connections`, r.workers.one.hot),
    row(`hot, --workers 2, ${r.workers.connections} connections`, r.workers.two.hot),
    row(`cold, --workers 1, ${r.workers.connections} connections`, r.workers.one.cold),
    row(`cold, --workers 2, ${r.workers.connections} connections`, r.workers.two.cold),
    "",
    "- errors in the timed runs (hot, fixed rates) are the Checks still in flight when ghz stops at the end of the duration; the no-op baseline has them too",
    `- hot throughput / baseline: **${r.hot.ratio.toFixed(2)}**; server CPU per Check: ${us(r.hot.service.serverCpuUs)} µs against ${us(r.hot.baseline.serverCpuUs)} µs for the no-op baseline`,
    `- workers 1 -> 2: hot ${Math.round(r.workers.one.hot.rps)} -> ${Math.round(r.workers.two.hot.rps)} Checks/s (**x${r.workers.hotScaling.toFixed(2)}**; ${r.workers.one.hotRatioToBaseline.toFixed(2)} -> **${r.workers.two.hotRatioToBaseline.toFixed(2)}** of the no-op baseline under the same load), server CPU per Check ${us(r.workers.one.hot.serverCpuUs)} -> ${us(r.workers.two.hot.serverCpuUs)} µs; cold ${Math.round(r.workers.one.cold.rps)} -> ${Math.round(r.workers.two.cold.rps)} Checks/s (x${r.workers.coldScaling.toFixed(2)}), ${r.workers.two.apiCallsPerCheck.toFixed(3)} API calls per Check with 2 workers`,
    `- local RBAC: ${r.localEvaluator.bindings} bindings indexed in ${r.localEvaluator.buildMs.toFixed(0)} ms; ${r.localEvaluator.perDecisionUs.toFixed(2)} µs per decision (allowed ${r.localEvaluator.allowedUs.toFixed(2)}, not allowed ${r.localEvaluator.notAllowedUs.toFixed(2)}); cold local Checks made ${r.localCold.apiCalls} Kubernetes API calls`,
    `- cold: ${r.cold.tokenReviewsPerCheck.toFixed(3)} TokenReview and ${r.cold.subjectAccessReviewsPerCheck.toFixed(3)} SubjectAccessReview per Check; ${Math.round(r.cold.service.rps)} Checks/s against ${Math.round(r.cold.apiAloneChecksPerSecond)}/s for the fake API alone: **${r.cold.ratioToApiAlone.toFixed(2)}**; server CPU per cold Check ${us(r.cold.service.serverCpuUs)} µs`,
    `- stampede: ${r.stampede.checks} concurrent Checks of one new token -> ${r.stampede.tokenReviews} TokenReview + ${r.stampede.subjectAccessReviews} SubjectAccessReview, ${r.stampede.errors} errors`,
    `- memory, every figure after a full GC: ${r.memory.identities} cached identities: heap ${mib(r.memory.idle.heapUsed)} -> ${mib(r.memory.full.heapUsed)} MiB (**${Math.round(r.memory.heapBytesPerIdentity)} B/identity**); RSS ${mib(r.memory.idle.rss)} -> ${mib(r.memory.full.rss)} MiB (${Math.round(r.memory.rssBytesPerIdentity)} B/identity, with what the load itself grew); once every entry expired and was purged: heap ${mib(r.memory.expired.heapUsed)} MiB, RSS ${mib(r.memory.expired.rss)} MiB, so the entries themselves held **${Math.round(r.memory.rssBytesHeldPerIdentity)} B of RSS each**`,
    "",
  ].join("\n");
}

function log(name: string, value: unknown) {
  process.stderr.write(`${name}: ${JSON.stringify(value)}\n`);
}

function git(args: string[]): string {
  try {
    return execFileSync("git", args, { cwd: ROOT }).toString().trim();
  } catch {
    return "unknown";
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

await main();
