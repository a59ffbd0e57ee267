// Entry point: flags -> configuration -> service; SIGTERM and SIGINT drain and exit 0.
// `kube-rbac-extauthz check ...` explains one decision instead of serving.
import { type Command, CommanderError } from "commander";
import { checkCommand, runCheck } from "./adapters/cli/check.ts";
import { parseFlags } from "./config/flags.ts";
import { resolveConfig } from "./config/index.ts";
import { exampleFlags, printExample } from "./example.ts";
import { createLogger } from "./observability/logger.ts";
import { startService } from "./service.ts";

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

const logger = createLogger(config.flags.logLevel);
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception; still serving"));
process.on("unhandledRejection", (error) => logger.error({ err: error }, "unhandled rejection; still serving"));

const service = await startService(config, logger).catch((e: Error) => fail(`cannot start: ${e.message}`));
if (example) printExample(service.grpcPort);

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining in-flight checks");
    // A drain that hangs past its grace period must not keep the pod from terminating.
    setTimeout(() => {
      logger.error("drain did not finish in time; exiting");
      logger.flush(() => process.exit(1));
    }, 15_000).unref();
    service.stop().then(() => {
      logger.info("stopped");
      logger.flush(() => process.exit(0));
    });
  });
}
