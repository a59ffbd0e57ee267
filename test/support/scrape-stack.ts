// Debian's real nginx, Prometheus and node-exporter, started on loopback for the scrape test:
// Prometheus scrapes node-exporter through nginx, and nginx asks kube-rbac-extauthz (HTTP mode,
// auth_request) about every scrape. Each program runs in the foreground with its files in a temp
// dir and is killed when the test ends.
import { type ChildProcess, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";

export const BINARIES = { nginx: "/usr/sbin/nginx", prometheus: "/usr/bin/prometheus", nodeExporter: "/usr/bin/prometheus-node-exporter" };

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Program {
  name: string;
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

function run(name: string, port: number, command: string, args: string[]): Program {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    name,
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Waits until `url` answers at all (any status), or fails with the program's output. */
export async function waitForHttp(program: Program, url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (program.child.exitCode !== null) throw new Error(`${program.name} exited:\n${program.output()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${program.name} did not answer ${url} within ${timeoutMs} ms:\n${program.output()}`);
}

export async function startNodeExporter(): Promise<Program> {
  const port = await freePort();
  const program = run("node-exporter", port, BINARIES.nodeExporter, [
    `--web.listen-address=127.0.0.1:${port}`,
    // A few cheap collectors are enough to prove samples arrive.
    "--collector.disable-defaults",
    "--collector.loadavg",
    "--collector.meminfo",
  ]);
  await waitForHttp(program, `http://127.0.0.1:${port}/metrics`);
  return program;
}

/**
 * nginx in front of node-exporter: /metrics only after an auth_request to the service's HTTP
 * mode, with the original URI and method; the caller's token is not passed upstream.
 */
export async function startNginx(dir: string, upstreamPort: number, authzPort: number): Promise<Program> {
  const port = await freePort();
  const conf = join(dir, "nginx.conf");
  await writeFile(
    conf,
    `
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/nginx-error.log info;
events { worker_connections 64; }
http {
  access_log ${dir}/nginx-access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / {
      auth_request /_kube_rbac_extauthz;
      proxy_set_header Authorization "";
      proxy_pass http://127.0.0.1:${upstreamPort};
    }
    location = /_kube_rbac_extauthz {
      internal;
      proxy_pass http://127.0.0.1:${authzPort}/auth;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Original-Method $request_method;
    }
  }
}
`,
  );
  const program = run("nginx", port, BINARIES.nginx, ["-p", dir, "-c", conf]);
  await waitForHttp(program, `http://127.0.0.1:${port}/`);
  return program;
}

/** Prometheus scraping `target` every second with the bearer token in `tokenFile`. */
export async function startPrometheus(dir: string, target: string, tokenFile: string): Promise<Program> {
  const port = await freePort();
  const conf = join(dir, "prometheus.yml");
  await writeFile(
    conf,
    `
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: node
    authorization:
      type: Bearer
      credentials_file: ${tokenFile}
    static_configs:
      - targets: ["${target}"]
`,
  );
  const program = run("prometheus", port, BINARIES.prometheus, [
    `--config.file=${conf}`,
    `--storage.tsdb.path=${join(dir, "tsdb")}`,
    `--web.listen-address=127.0.0.1:${port}`,
  ]);
  await waitForHttp(program, `http://127.0.0.1:${port}/-/ready`, 60_000);
  return program;
}

export interface TargetState {
  health: string;
  lastError: string;
}

export async function scrapeTarget(prometheusPort: number): Promise<TargetState | undefined> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/targets`);
  const body = (await res.json()) as { data: { activeTargets: Array<{ health: string; lastError: string }> } };
  return body.data.activeTargets[0];
}

/** The instant vector of `query`, as [labels, value] pairs. */
export async function query(
  prometheusPort: number,
  promql: string,
): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}
