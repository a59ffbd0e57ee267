// Entry point: flags -> configuration -> service; SIGTERM and SIGINT drain and exit 0.
import { CommanderError } from "commander";
import { parseFlags } from "./config/flags.ts";
import { resolveConfig } from "./config/index.ts";
import { createLogger } from "./observability/logger.ts";
import { startService } from "./service.ts";

function fail(message: string): never {
  process.stderr.write(`kube-rbac-extauthz: ${message}\n`);
  process.exit(2);
}

let config: ReturnType<typeof resolveConfig>;
try {
  const flags = parseFlags(process.argv.slice(2), (c) => c.exitOverride().configureOutput({ writeErr: () => {} }));
  config = resolveConfig(flags);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.exitCode === 0) process.exit(0); // --help
    fail(e.message.replace(/^error: /, "").split("\n")[0]);
  }
  fail((e as Error).message);
}

const logger = createLogger(config.flags.logLevel);
process.on("uncaughtException", (error) => logger.error({ err: error }, "uncaught exception; still serving"));
process.on("unhandledRejection", (error) => logger.error({ err: error }, "unhandled rejection; still serving"));

const service = await startService(config, logger).catch((e: Error) => fail(`cannot start: ${e.message}`));

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "draining in-flight checks");
    service.stop().then(() => {
      logger.info("stopped");
      logger.flush(() => process.exit(0));
    });
  });
}
