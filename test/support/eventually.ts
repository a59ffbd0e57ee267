// Waiting for something another process does (a reload, a watch, a restart): poll, bounded.
import assert from "node:assert/strict";

/** Polls `probe` every 50 ms until it holds; fails the test naming `what` after `timeoutMs`. */
export async function eventually(what: string, probe: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: not within ${timeoutMs} ms`);
}
