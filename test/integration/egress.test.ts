// Egress mode against the fake API: the client's Envoy gets a TokenRequest token bound to the
// destination's audience, per audience, cached, and never logged.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkRequest, deniedStatus, type EnvoyClient, envoyClient, okHeaders } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

describe("egress mode (--egress-service-account)", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;

  before(async () => {
    api = await startFakeKubeApi();
    service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      "--egress-service-account=monitoring/prometheus",
      "--egress-token-expiration=10m",
    ]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
  });

  it("sets a token of the ServiceAccount for the destination host's audience", async () => {
    const res = await client.check({ path: "/api/v1/query", host: "thanos-query.monitoring.svc:9090" });
    assert.equal(res.status?.code, 0);
    assert.deepEqual(okHeaders(res), { authorization: "Bearer minted.prometheus.thanos-query.monitoring.svc.1" });
    assert.deepEqual(api.tokenRequests.at(-1), {
      namespace: "monitoring",
      serviceAccount: "prometheus",
      audiences: ["thanos-query.monitoring.svc"],
      expirationSeconds: 600,
    });
  });

  it('uses context_extensions["audience"] when the route sets it, and one token per audience', async () => {
    const request = checkRequest({ path: "/", host: "x:1" }) as { attributes: Record<string, unknown> };
    request.attributes.context_extensions = { audience: "https://alertmanager.example" };
    const first = await client.checkRaw(request);
    const again = await client.checkRaw(request);
    assert.equal(okHeaders(first).authorization, okHeaders(again).authorization);
    assert.equal(api.tokenRequests.filter((r) => r.audiences[0] === "https://alertmanager.example").length, 1);
  });

  it("fails closed with 503 when the API issues no token", async () => {
    api.failWith = 403;
    try {
      assert.equal(deniedStatus(await client.check({ path: "/", host: "new-destination" })), 503);
    } finally {
      api.failWith = undefined;
    }
  });

  it("never logs a minted token", async () => {
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!service.output().includes("minted."));
  });
});
