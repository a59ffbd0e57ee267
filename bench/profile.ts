// `npm run bench:profile`: where the service's CPU per Check goes, next to the no-op baseline.
// Both run under the same hot load with `node --cpu-prof`; printed is the self time per Check of
// every function (µs), service minus baseline, largest first. `-- --cold` profiles the cold path
// instead (a new token per Check, the fake API answering after 2 ms; no baseline).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { checkRequest } from "../test/support/envoy-client.ts";
import { startFakeKubeApi } from "../test/support/fake-kube-api.ts";
import { startService } from "../test/support/service-process.ts";
import { ensureGhz, runGhz, startNoop } from "./tools.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const COLD = process.argv.includes("--cold");
const CHECKS = COLD ? 6000 : 60_000;
const TOP = 30;

const ghz = ensureGhz();
const dir = mkdtempSync(join(tmpdir(), "kre-profile-"));
const api = await startFakeKubeApi();
api.authorize = () => ({ allowed: true });
const user = { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:serviceaccounts", "system:authenticated"] };
const tokens = Array.from({ length: COLD ? CHECKS : 4 }, (_, i) => `profile-${i}-${"x".repeat(900)}`);
for (const [i, token] of tokens.entries()) api.tokens.set(token, { user: { ...user, username: `${user.username}-${i}` } });
const requests = tokens.map((t) =>
  checkRequest({ path: "/metrics", headers: { authorization: `Bearer ${t}`, "user-agent": "Prometheus/3.0" } }),
);
const load = { requests, concurrency: 64, connections: 2, total: CHECKS };

const profiles = { service: join(dir, "service"), baseline: join(dir, "baseline") };
for (const d of Object.values(profiles)) mkdirSync(d);
try {
  const service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--allow-paths=/metrics"], {
    NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profiles.service}`,
  });
  if (COLD) api.delayMs = 2;
  else await runGhz(ghz, dir, { ...load, total: 5000, port: service.grpcPort });
  const measured = await runGhz(ghz, dir, { ...load, port: service.grpcPort, serverPids: [service.child.pid as number] });
  await service.stop();
  process.stdout.write(`service: ${Math.round(measured.rps)} Checks/s, ${measured.serverCpuUs?.toFixed(0)} µs CPU per Check\n`);
  let baseline: Map<string, number> | undefined;
  if (!COLD) {
    const noop = await startNoop(["--cpu-prof", `--cpu-prof-dir=${profiles.baseline}`]);
    await runGhz(ghz, dir, { ...load, total: 5000, port: noop.port });
    const noopRun = await runGhz(ghz, dir, { ...load, port: noop.port, serverPids: [noop.pid] });
    process.stdout.write(`no-op baseline: ${Math.round(noopRun.rps)} Checks/s, ${noopRun.serverCpuUs?.toFixed(0)} µs CPU per Check\n`);
    await noop.stop();
    baseline = selfTimes(profiles.baseline);
  }
  report(selfTimes(profiles.service), baseline);
} finally {
  await api.close();
  rmSync(dir, { recursive: true, force: true });
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** Self time (µs) per function of the profile in `folder`, idle time left out. */
function selfTimes(folder: string): Map<string, number> {
  const file = readdirSync(folder).find((f) => f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no profile written in ${folder}`);
  const profile = JSON.parse(readFileSync(join(folder, file), "utf8")) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] };
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)") return;
    const where = frame.url.includes("node_modules/") ? frame.url.split("node_modules/").pop() : frame.url.replace(`file://${ROOT}`, "");
    const name = `${frame.functionName || "(anonymous)"} ${where}:${frame.lineNumber + 1}`;
    times.set(name, (times.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return times;
}

function report(service: Map<string, number>, baseline: Map<string, number> | undefined): void {
  const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0) / CHECKS;
  const names = new Set([...service.keys(), ...(baseline?.keys() ?? [])]);
  const rows = [...names]
    .map((name) => [name, ((service.get(name) ?? 0) - (baseline?.get(name) ?? 0)) / CHECKS] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  process.stdout.write(
    `\nprofiled CPU per Check: service ${total(service).toFixed(1)} µs${baseline ? `, no-op baseline ${total(baseline).toFixed(1)} µs` : ""} (start-up included)\n`,
  );
  process.stdout.write(`self time per Check${baseline ? ", service minus baseline" : ""}:\n`);
  for (const [name, us] of rows) process.stdout.write(`${us.toFixed(2).padStart(8)} µs  ${name}\n`);
}
