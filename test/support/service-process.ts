// Starts the real service as a user does (`node src/main.ts FLAGS`) on loopback ports, waits until
// it serves, and keeps everything it logs so tests can read (and search for leaked secrets in) it.
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../../src/main.ts", import.meta.url));

export interface ServiceProcess {
  grpcPort: number;
  metricsPort: number;
  /** Set when the service was started with --http-address. */
  httpPort?: number;
  child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** JSON log lines parsed. */
  logs(): Array<Record<string, unknown>>;
  metrics(): Promise<string>;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
}

/**
 * `flags` come after loopback listeners on free ports, unless `noDefaultFlags` (to run exactly what
 * a user types, e.g. no flags at all).
 */
export async function startService(
  flags: string[],
  env: NodeJS.ProcessEnv = {},
  options: { noDefaultFlags?: boolean } = {},
): Promise<ServiceProcess> {
  const defaults = options.noDefaultFlags ? [] : ["--grpc-address=127.0.0.1:0", "--metrics-address=127.0.0.1:0"];
  const child = spawn(process.execPath, [MAIN, ...defaults, ...flags], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const serving = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A service that never said it serves is not left running behind the failed test.
      clearInterval(poll);
      child.kill("SIGKILL");
      reject(new Error(`service did not start within 20s:\n${output}`));
    }, 20_000);
    const poll = setInterval(() => {
      const line = parseLines(output).find((l) => l.msg === "serving");
      if (line) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(line);
      }
    }, 20);
    exited.then((code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`service exited with ${code} before serving:\n${output}`));
    });
  });
  const metricsPort = serving.metricsPort as number;
  return {
    grpcPort: serving.grpcPort as number,
    metricsPort,
    httpPort: serving.httpPort as number | undefined,
    child,
    output: () => output,
    logs: () => parseLines(output),
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs the command to completion (for start-up errors): exit code and output. */
export function runService(flags: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...flags], { env: { PATH: process.env.PATH }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function parseLines(text: string): Array<Record<string, unknown>> {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      try {
        return JSON.parse(l);
      } catch {
        return {};
      }
    });
}
