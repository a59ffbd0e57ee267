// Wraps the engine so that every decision is timed, counted and logged in one place, whichever
// adapter asked.
import type { Engine } from "../core/engine.ts";
import type { CheckInput, CheckResult } from "../core/types.ts";
import type { Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

export function observedEngine(engine: Engine, metrics: Metrics, logger: Logger): Engine {
  return {
    async check(input) {
      const started = performance.now();
      const result = await engine.check(input);
      metrics.recordDecision(result, (performance.now() - started) / 1000);
      logDecision(logger, result, input);
      return result;
    },
  };
}

/** Denies at info with who, what and why; allows at debug (they are the hot path). */
function logDecision(logger: Logger, result: CheckResult, input: CheckInput): void {
  const level = result.allowed ? "debug" : "info";
  if (!logger.isLevelEnabled(level)) return;
  logger[level](
    {
      decision: result.allowed ? "allow" : "deny",
      status: result.status,
      decisionId: input.requestId,
      profile: result.profile,
      user: result.user?.name,
      method: input.method || undefined,
      // The query is left out: it may carry secrets of its own.
      path: input.target.split("?")[0] || undefined,
      reason: result.reason,
    },
    "decision",
  );
}
