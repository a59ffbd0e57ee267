// Caching, coalescing and failing closed, counted at the fake API server.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

const USER = { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:authenticated"] };
let serial = 0;
/** A token the fake API knows and RBAC allows, never seen before by the service. */
function freshToken(api: FakeKubeApi): string {
  const token = `fresh-token-${++serial}-${Date.now()}`;
  api.tokens.set(token, { user: USER });
  return token;
}

describe("caching and failing closed", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;

  before(async () => {
    api = await startFakeKubeApi();
    api.authorize = () => ({ allowed: true });
    service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--kube-api-timeout=300ms"]);
    client = envoyClient(service.grpcPort);
  });
  beforeEach(() => {
    api.failWith = undefined;
    api.delayMs = 0;
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
  });

  it("merges 50 concurrent identical Checks into one TokenReview and one SubjectAccessReview", async () => {
    const token = freshToken(api);
    const calls = { ...api.calls };
    api.delayMs = 50;
    const results = await Promise.all(
      Array.from({ length: 50 }, () => client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } })),
    );
    assert.ok(results.every((r) => r.status?.code === 0));
    assert.equal(api.calls.tokenreviews - calls.tokenreviews, 1);
    assert.equal(api.calls.subjectaccessreviews - calls.subjectaccessreviews, 1);
  });

  it("answers repeated Checks from the caches within the TTLs", async () => {
    const token = freshToken(api);
    await client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } });
    const calls = { ...api.calls };
    for (let i = 0; i < 20; i++) await client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } });
    assert.deepEqual(api.calls, calls);
  });

  it("asks again for a distinct path (one SAR per distinct attributes)", async () => {
    const token = freshToken(api);
    await client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } });
    const sars = api.calls.subjectaccessreviews;
    await client.check({ path: "/metrics/cadvisor", headers: { authorization: `Bearer ${token}` } });
    assert.equal(api.calls.subjectaccessreviews, sars + 1);
  });

  it("fails closed with 503 when the API fails, still serves cached answers, and caches no error", async () => {
    const cached = freshToken(api);
    await client.check({ path: "/metrics", headers: { authorization: `Bearer ${cached}` } });
    api.failWith = 500;
    const uncached = freshToken(api);
    const failed = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${uncached}` } });
    assert.equal(failed.status?.code, 14);
    assert.equal(deniedStatus(failed), 503);
    const stillCached = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${cached}` } });
    assert.equal(stillCached.status?.code, 0);
    api.failWith = undefined;
    const calls = api.calls.tokenreviews;
    const recovered = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${uncached}` } });
    assert.equal(recovered.status?.code, 0);
    assert.equal(api.calls.tokenreviews, calls + 1, "the failed TokenReview was not cached");
  });

  it("fails closed with 503 when a SubjectAccessReview errs after authentication succeeded", async () => {
    const token = freshToken(api);
    await client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } });
    api.failWith = 503;
    const res = await client.check({ path: "/metrics/other", headers: { authorization: `Bearer ${token}` } });
    assert.equal(deniedStatus(res), 503);
  });

  it("answers 503 when the API is slower than --kube-api-timeout", async () => {
    api.delayMs = 1500;
    const started = Date.now();
    const res = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${freshToken(api)}` } });
    assert.equal(deniedStatus(res), 503);
    assert.ok(Date.now() - started < 1400, "the Check did not wait for the slow API");
    const text = await service.metrics();
    assert.match(text, /kube_rbac_extauthz_kube_api_requests_total\{api="tokenreviews",code="timeout"\} [1-9]/);
  });

  it("reuses its connections to the API instead of a TLS handshake per call", async () => {
    api.delayMs = 0;
    const before = api.tlsConnections;
    for (let i = 0; i < 30; i++) await client.check({ path: "/metrics", headers: { authorization: `Bearer ${freshToken(api)}` } });
    // 30 TokenReviews and 30 SARs, sequential: one kept-alive connection serves them all.
    assert.ok(api.tlsConnections - before <= 1, `${api.tlsConnections - before} new TLS connections for 60 calls`);
  });
});
