import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWorkerMessage, type WorkerMessage } from "../../src/workers/messages.ts";
import { workerLink } from "../../src/workers/worker.ts";

describe("workerLink", () => {
  it("reports the ports once and readiness only when it flips", () => {
    const sent: WorkerMessage[] = [];
    const link = workerLink((m) => sent.push(m));
    link.listening({ grpcPort: 9000 });
    link.readiness({ ready: false, detail: "RBAC not synced yet" });
    link.readiness({ ready: false, detail: "RBAC not synced yet" });
    link.readiness({ ready: true, detail: "RBAC synced 0s ago" });
    link.readiness({ ready: true, detail: "RBAC synced 1s ago" });
    link.readiness({ ready: false, detail: "draining" });
    assert.deepEqual(sent, [
      { kre: "listening", grpcPort: 9000 },
      { kre: "readiness", ready: false, detail: "RBAC not synced yet" },
      { kre: "readiness", ready: true, detail: "RBAC synced 0s ago" },
      { kre: "readiness", ready: false, detail: "draining" },
    ]);
  });

  it("tells its messages apart from prom-client's on the same channel", () => {
    assert.ok(isWorkerMessage({ kre: "listening", grpcPort: 1 }));
    assert.ok(!isWorkerMessage({ type: "prom-client:getMetricsReq", requestId: 1 }));
    assert.ok(!isWorkerMessage(null));
    assert.ok(!isWorkerMessage("kre"));
  });
});
