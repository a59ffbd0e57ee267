// The primary of --workers: forks the worker processes, gives them one set of ports, serves the
// metrics listener for all of them, replaces a worker that dies, and drains them all on stop.
import cluster, { type Worker } from "node:cluster";
import type { Flags } from "../config/flags.ts";
import { joinAddress, splitAddress } from "../listen.ts";
import { startMetricsServer } from "../observability/http-server.ts";
import type { Logger } from "../observability/logger.ts";
import { workersMetrics } from "../observability/metrics.ts";
import { isWorkerMessage } from "./messages.ts";

export interface RunningWorkers {
  grpcPort: number;
  metricsPort: number;
  httpPort?: number;
  /** SIGTERM to every worker (each drains its Checks), then the metrics listener; resolves to the exit code. */
  stop(): Promise<number>;
}

// A worker that crashes is replaced after this pause, so that a crash loop does not spin.
const RESTART_DELAY_MS = 1000;

/** `argv` are the flags the workers run with (the primary's own, as given). */
export async function startWorkers(flags: Flags, argv: readonly string[], logger: Logger): Promise<RunningWorkers> {
  const readiness = new Map<Worker, { ready: boolean; detail: string }>();
  let stopping = false;
  const fork = (args: readonly string[]): Worker => {
    cluster.setupPrimary({ args: [...args] });
    const worker = cluster.fork();
    readiness.set(worker, { ready: false, detail: "starting" });
    worker.on("message", (message: unknown) => {
      if (isWorkerMessage(message) && message.kre === "readiness") readiness.set(worker, { ready: message.ready, detail: message.detail });
    });
    return worker;
  };

  // The first worker binds the addresses as given; the others are told its real ports (with port
  // 0, each socket would otherwise get a different free port).
  const first = fork(argv);
  const ports = await listening(first);
  const pinned = [...argv, `--grpc-address=${withPort(flags.grpcAddress, ports.grpcPort)}`];
  if (flags.httpAddress && ports.httpPort) pinned.push(`--http-address=${withPort(flags.httpAddress, ports.httpPort)}`);
  try {
    await Promise.all(Array.from({ length: flags.workers - 1 }, () => listening(fork(pinned))));
  } catch (e) {
    for (const worker of readiness.keys()) worker.kill("SIGKILL");
    throw e;
  }

  cluster.on("exit", (worker, code, signal) => {
    readiness.delete(worker);
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, "worker exited; starting another");
    setTimeout(() => stopping || fork(pinned), RESTART_DELAY_MS);
  });

  const metricsListener = await startMetricsServer(flags.metricsAddress, workersMetrics());
  metricsListener.setReadiness(() => {
    if (stopping) return { ready: false, detail: "draining" };
    const states = [...readiness.values()];
    const ready = states.filter((s) => s.ready).length;
    const waiting = states.find((s) => !s.ready);
    return {
      ready: ready === flags.workers,
      detail: `${ready}/${flags.workers} workers ready${waiting ? ` (${waiting.detail})` : ""}`,
    };
  });
  logger.info({ ...ports, metricsPort: metricsListener.port, workers: flags.workers }, "serving");

  return {
    ...ports,
    metricsPort: metricsListener.port,
    async stop() {
      stopping = true;
      const exits = [...readiness.keys()].map(
        (worker) =>
          new Promise<number>((resolve) => {
            if (worker.isDead()) return resolve(worker.process.exitCode ?? 1);
            worker.once("exit", (code) => resolve(code ?? 1));
            worker.process.kill("SIGTERM");
          }),
      );
      const codes = await Promise.all(exits);
      await metricsListener.close();
      return codes.every((c) => c === 0) ? 0 : 1;
    },
  };
}

/** Resolves with the worker's ports once it serves; rejects if it exits first. */
function listening(worker: Worker): Promise<{ grpcPort: number; httpPort?: number }> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => {
      worker.off("message", onMessage);
      reject(new Error(`a worker exited with code ${code} before serving`));
    };
    const onMessage = (message: unknown) => {
      if (!isWorkerMessage(message) || message.kre !== "listening") return;
      worker.off("exit", onExit);
      worker.off("message", onMessage);
      resolve({ grpcPort: message.grpcPort, httpPort: message.httpPort });
    };
    worker.once("exit", onExit);
    worker.on("message", onMessage);
  });
}

function withPort(address: string, port: number): string {
  return joinAddress(splitAddress(address).host, port);
}
