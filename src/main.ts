// Entry point: flags -> configuration -> service; SIGTERM and SIGINT drain and exit 0.
// `kube-rbac-extauthz check ...` explains one decision instead of serving. With --workers N this
// process forks N workers (src/workers) that serve, and supervises them.
import cluster from "node:cluster";
import { type Command, CommanderError } from "commander";
import { checkCommand, runCheck } from "./adapters/cli/check.ts";
import { parseFlags } from "./config/flags.ts";
import { resolveConfig } from "./config/index.ts";
import { exampleFlags, printExample } from "./example.ts";
import { createLogger } from "./observability/logger.ts";
import { startService } from "./service.ts";
import type { WorkerMessage } from "./workers/messages.ts";
import { startWorkers } from "./workers/primary.ts";
import { workerLink } from "./workers/worker.ts";

function fail(message: string): never {
  process.stderr.write(`kube-rbac-extauthz: ${message}\n`);
  process.exit(2);
}

/** Start-up errors: one line on stderr, exit 2 (--help: exit 0). */
function failOn(e: unknown): never {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(0);
    fail(e.message.replace(/^error: /, "").split("\n")[0]);
  }
  fail((e as Error).message);
}
const quiet = (c: Command) => c.exitOverride().configureOutput({ writeErr: () => {} });

if (process.argv[2] === "check") {
  let code: number;
  try {
    const command = quiet(checkCommand());
    command.parse(process.argv.slice(3), { from: "user" });
    code = await runCheck(command.opts(), (line) => process.stdout.write(`${line}\n`));
  } catch (e) {
    failOn(e);
  }
  process.exit(code);
}

// No flags at all, and not in a cluster: the embedded example (static tokens and RBAC manifests
// from examples/), so a new user sees an allow and a deny without any cluster.
const example = process.argv.length === 2 && !process.env.KUBERNETES_SERVICE_HOST;
const argv = example ? exampleFlags() : process.argv.slice(2);

let config: ReturnType<typeof resolveConfig>;
try {
  config = resolveConfig(parseFlags(argv, quiet));
} catch (e) {
  failOn(e);
}

// A worker's lines name it, so that one process's story can be told apart from the others'.
const logger = cluster.isWorker
  ? createLogger(config.flags.logLevel).child({ worker: cluster.worker?.id })
  : createLogger(config.flags.logLevel);
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception; still serving"));
process.on("unhandledRejection", (error) => logger.error({ err: error }, "unhandled rejection; still serving"));

/** Whatever serves in this process; `stop` drains it and resolves to the exit code. */
interface Serving {
  grpcPort: number;
  stop(): Promise<number>;
}
const start = async (): Promise<Serving> => {
  if (config.flags.workers > 1 && cluster.isPrimary) return startWorkers(config.flags, argv, logger);
  const link = cluster.isWorker ? workerLink((message: WorkerMessage) => process.send?.(message)) : undefined;
  const running = await startService(config, logger, link);
  return { grpcPort: running.grpcPort, stop: () => running.stop().then(() => 0) };
};
const service = await start().catch((e: Error) => fail(`cannot start: ${e.message}`));
if (example && cluster.isPrimary) printExample(service.grpcPort);

let stopping = false;
const drain = (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "draining in-flight checks");
  // A drain that hangs past its grace period must not keep the pod from terminating.
  setTimeout(() => {
    logger.error("drain did not finish in time; exiting");
    logger.flush(() => process.exit(1));
  }, 15_000).unref();
  service.stop().then((code) => {
    logger.info("stopped");
    logger.flush(() => process.exit(code));
  });
};
for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => drain(signal));
// A worker whose primary is gone (its IPC channel closed) must not serve on unsupervised.
if (cluster.isWorker) process.on("disconnect", () => drain("primary gone"));
