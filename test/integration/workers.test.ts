// --workers N: N processes own a socket each on the gRPC port (SO_REUSEPORT), the primary serves
// the summed metrics and the readiness of all, replaces a worker that dies, and drains them all.
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import { listen } from "../../src/listen.ts";
import { envoyClient } from "../support/envoy-client.ts";
import { eventually } from "../support/eventually.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { isAlive, listeningInodes, listeningPids } from "../support/processes.ts";
import { runService, type ServiceProcess, startService } from "../support/service-process.ts";

const TOKEN = "workers-token";

/** One Check on a new connection each (the kernel spreads connections, not requests). */
async function checkOnNewConnections(port: number, n: number): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const client = envoyClient(port, undefined, true);
      try {
        const response = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${TOKEN}` } });
        return response.status?.code ?? 0;
      } finally {
        client.close();
      }
    }),
  );
}

describe("--workers 2", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${service.metricsPort}/readyz`);
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    api = await startFakeKubeApi();
    api.tokens.set(TOKEN, { user: { username: "system:serviceaccount:monitoring:prometheus" } });
    api.authorize = () => ({ allowed: true });
    service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--workers=2", "--http-address=127.0.0.1:0"]);
  });
  after(async () => {
    if (service.child.exitCode === null) service.child.kill("SIGKILL");
    await api.close();
  });

  it("serves the gRPC port from two worker processes, each with its own socket", async () => {
    const pids = listeningPids(service.grpcPort);
    assert.equal(pids.length, 2, `listening processes: ${pids}`);
    assert.ok(!pids.includes(service.child.pid ?? -1), "the primary itself does not serve Checks");
    await eventually("both workers ready", async () => (await readyz()).status === 200);
    assert.equal((await readyz()).text, "ok: 2/2 workers ready\n");
  });

  it("answers Checks in both workers, each with its own cache, and /metrics sums them", async () => {
    const codes = await checkOnNewConnections(service.grpcPort, 40);
    assert.deepEqual(new Set(codes), new Set([0]));
    // One TokenReview and one SAR per worker: both took connections (40 connections all landing
    // on one of two sockets has a chance of 2^-39), and neither shares the other's cache.
    assert.equal(api.calls.tokenreviews, 2);
    assert.equal(api.calls.subjectaccessreviews, 2);
    assert.match(await service.metrics(), /^kube_rbac_extauthz_decisions_total\{decision="allow",status="200"\} 40$/m);
  });

  it("serves the HTTP mode from both workers too", async () => {
    assert.ok(service.httpPort);
    assert.deepEqual(listeningPids(service.httpPort), listeningPids(service.grpcPort));
    const res = await fetch(`http://127.0.0.1:${service.httpPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
  });

  it("replaces a worker that dies, and keeps answering meanwhile", async () => {
    const [victim, survivor] = listeningPids(service.grpcPort);
    process.kill(victim, "SIGKILL");
    // Until its socket is closed, the kernel may still hand it connections (and then reset them).
    await eventually("the dead worker's socket is closed", () => listeningInodes(service.grpcPort).size === 1);
    assert.deepEqual(new Set(await checkOnNewConnections(service.grpcPort, 5)), new Set([0]));
    await eventually("a new worker takes its place", () => listeningPids(service.grpcPort).length === 2);
    assert.ok(listeningPids(service.grpcPort).includes(survivor));
    await eventually("ready again", async () => (await readyz()).status === 200);
    assert.match(service.output(), /"msg":"worker exited; starting another"/);
  });

  it("drains every worker on SIGTERM, exits 0 and leaves no process behind", async () => {
    const workers = listeningPids(service.grpcPort);
    assert.equal(await service.stop(), 0);
    await eventually("the workers are gone", () => workers.every((pid) => !isAlive(pid)));
  });
});

describe("--workers: failures", () => {
  it("a worker that cannot bind makes the primary exit 2 with the reason", async () => {
    const taken = createServer();
    const port = await listen(taken, "127.0.0.1:0");
    try {
      const result = await runService([`--grpc-address=127.0.0.1:${port}`, "--metrics-address=127.0.0.1:0", "--workers=2"]);
      assert.equal(result.code, 2);
      assert.match(result.stderr, /EADDRINUSE/);
      assert.match(result.stderr, /cannot start: a worker exited with code 2 before serving/);
    } finally {
      taken.close();
    }
  });

  it("the workers of a primary that is killed stop by themselves", async () => {
    const api = await startFakeKubeApi();
    const service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--workers=2"]);
    try {
      const workers = listeningPids(service.grpcPort);
      assert.equal(workers.length, 2);
      service.child.kill("SIGKILL");
      await eventually("the orphaned workers exit", () => workers.every((pid) => !isAlive(pid)));
    } finally {
      await api.close();
    }
  });
});
