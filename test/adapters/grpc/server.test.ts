import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ServerCredentials } from "@grpc/grpc-js";
import { startGrpcServer } from "../../../src/adapters/grpc/server.ts";
import type { Engine } from "../../../src/core/engine.ts";
import type { CheckResult } from "../../../src/core/types.ts";
import { envoyClient } from "../../support/envoy-client.ts";

const ALLOWED: CheckResult = {
  allowed: true,
  status: 200,
  reason: "",
  headersToSet: Object.freeze([]),
  headersToRemove: Object.freeze([]),
};
const after = (ms: number): Engine => ({ check: () => new Promise((resolve) => setTimeout(() => resolve(ALLOWED), ms)) });
const never: Engine = { check: () => new Promise(() => {}) };

/** Starts a Check, shuts down with `graceMs` 100 ms later; the Check's answer and how long the shutdown took. */
async function shutdownDuringCheck(engine: Engine, graceMs: number) {
  const listener = await startGrpcServer("127.0.0.1:0", ServerCredentials.createInsecure(), engine);
  const client = envoyClient(listener.port);
  try {
    const answer = client.check({ path: "/metrics" });
    answer.catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    const started = performance.now();
    await listener.shutdown(graceMs);
    return { answer, shutdownMs: performance.now() - started };
  } finally {
    client.close();
  }
}

describe("startGrpcServer", () => {
  it("lets an in-flight Check finish on shutdown, then resolves", async () => {
    const { answer, shutdownMs } = await shutdownDuringCheck(after(300), 5000);
    assert.equal((await answer).status?.code ?? 0, 0);
    assert.ok(shutdownMs < 4000, "did not wait for the grace period");
  });

  it("cuts a Check that outlives the grace period, and resolves", async () => {
    const { answer, shutdownMs } = await shutdownDuringCheck(never, 200);
    assert.ok(shutdownMs < 2000);
    await assert.rejects(answer);
  });

  it("with reusePort, shares its port with another listener", async () => {
    const first = await startGrpcServer("127.0.0.1:0", ServerCredentials.createInsecure(), after(0), true);
    const second = await startGrpcServer(`127.0.0.1:${first.port}`, ServerCredentials.createInsecure(), after(0), true);
    try {
      assert.equal(second.port, first.port);
    } finally {
      await Promise.all([first.shutdown(100), second.shutdown(100)]);
    }
  });

  it("without reusePort, refuses a port in use", async () => {
    const first = await startGrpcServer("127.0.0.1:0", ServerCredentials.createInsecure(), after(0));
    try {
      await assert.rejects(startGrpcServer(`127.0.0.1:${first.port}`, ServerCredentials.createInsecure(), after(0)), /EADDRINUSE/);
    } finally {
      await first.shutdown(100);
    }
  });
});
