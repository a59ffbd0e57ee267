// Waiting for something another process does (a reload, a watch, a restart): poll, bounded.
import assert from "node:assert/strict";

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Describes the state when it fails, for the failure message. */
  lastState?: () => Promise<string>;
}

/** Polls `probe` until it holds; fails the test naming `what` after `timeoutMs` (default 10 s). */
export async function eventually(
  what: string,
  probe: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 50, lastState }: EventuallyOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  assert.fail(`${what}: not within ${timeoutMs} ms${lastState ? `; last state: ${await lastState()}` : ""}`);
}
