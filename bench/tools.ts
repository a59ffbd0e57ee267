// Load generator for the benchmark: ghz, built from the Go module proxy at a pinned version and
// cached outside the repository.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const GHZ_VERSION = "v0.120.0";
const CACHE = process.env.KRE_CACHE_DIR ?? join(homedir(), ".cache", "kube-rbac-extauthz");
const ROOT = fileURLToPath(new URL("..", import.meta.url));

export function ensureGhz(): string {
  const dir = join(CACHE, "tools", `ghz-${GHZ_VERSION}`);
  const bin = join(dir, "ghz");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`building ghz ${GHZ_VERSION} (first run only)\n`);
  execFileSync("go", ["install", `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], {
    env: { ...process.env, GOBIN: dir },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return bin;
}

export interface GhzOptions {
  port: number;
  /** CheckRequests, sent round-robin. */
  requests: object[];
  concurrency: number;
  total?: number;
  durationS?: number;
  rps?: number;
  connections?: number;
  /** The server's processes: their CPU time per Check is reported (user + system, from /proc). */
  serverPids?: number[];
}

export interface LoadResult {
  count: number;
  rps: number;
  errors: number;
  /** CPU time the server spent per Check, in µs (when serverPid was given). */
  serverCpuUs?: number;
  /** Latency percentiles in ms. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export async function runGhz(ghz: string, dir: string, o: GhzOptions): Promise<LoadResult> {
  const dataFile = join(dir, `requests-${o.port}-${o.requests.length}.json`);
  writeFileSync(dataFile, JSON.stringify(o.requests));
  const args = [
    "--insecure",
    "--proto",
    join(ROOT, "proto/envoy/service/auth/v3/external_auth.proto"),
    "--import-paths",
    join(ROOT, "proto"),
    "--call",
    "envoy.service.auth.v3.Authorization.Check",
    "--data-file",
    dataFile,
    "--concurrency",
    String(o.concurrency),
    "--connections",
    String(o.connections ?? 1),
    "--format",
    "json",
    "--skipFirst",
    "0",
  ];
  if (o.total !== undefined) args.push("--total", String(o.total));
  if (o.durationS !== undefined) args.push("--duration", `${o.durationS}s`, "--total", "0");
  if (o.rps !== undefined) args.push("--rps", String(o.rps));
  args.push(`127.0.0.1:${o.port}`);
  const pids = o.serverPids ?? [];
  const cpuBefore = cpuSeconds(pids);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(ghz, args, { stdio: ["ignore", "pipe", "inherit"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => chunks.push(c));
    child.once("exit", (code) => (code === 0 ? resolve(Buffer.concat(chunks).toString()) : reject(new Error(`ghz exited ${code}`))));
  });
  const result = summarise(JSON.parse(out));
  if (pids.length > 0) result.serverCpuUs = ((cpuSeconds(pids) - cpuBefore) / result.count) * 1e6;
  return result;
}

/** User + system CPU seconds of processes so far (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

interface GhzReport {
  count: number;
  rps: number;
  details?: Array<{ latency: number; error?: string; status: string }>;
  statusCodeDistribution?: Record<string, number>;
}

function summarise(report: GhzReport): LoadResult {
  const latencies = (report.details ?? []).map((d) => d.latency / 1e6).sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const ok = report.statusCodeDistribution?.OK ?? 0;
  return {
    count: report.count,
    rps: report.rps,
    errors: report.count - ok,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
  };
}

export interface NoopServer {
  port: number;
  pid: number;
  /** SIGTERM; resolves once it exited (and wrote whatever `nodeArgs` asked for, e.g. a CPU profile). */
  stop(): Promise<void>;
}

/** The no-op baseline (bench/noop-server.ts) in a process of its own, run with `nodeArgs`. */
export async function startNoop(nodeArgs: string[] = []): Promise<NoopServer> {
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, "bench/noop-server.ts")], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<number>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(Number(d.toString().trim()))));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    port,
    pid: child.pid as number,
    stop() {
      child.kill("SIGTERM");
      return exited;
    },
  };
}
