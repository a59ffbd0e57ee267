// The real service, started as a user starts it, against the in-process fake Kubernetes API;
// Check is called through a real gRPC client built from Envoy's official protos.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

const PROMETHEUS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.prometheus-token.signature";
const OTHER_TOKEN = "eyJhbGciOiJSUzI1NiJ9.other-token.signature";
const PROMETHEUS = {
  username: "system:serviceaccount:monitoring:prometheus",
  uid: "uid-1",
  groups: ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"],
};

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe("Check against the fake Kubernetes API", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;
  let dir: string;

  before(async () => {
    api = await startFakeKubeApi();
    api.tokens.set(PROMETHEUS_TOKEN, { user: PROMETHEUS });
    api.tokens.set(OTHER_TOKEN, { user: { username: "system:serviceaccount:default:other", groups: ["system:authenticated"] } });
    api.authorize = (spec) => ({
      allowed:
        spec.user === PROMETHEUS.username && spec.nonResourceAttributes?.path === "/metrics" && spec.nonResourceAttributes.verb === "get",
      reason: "fake RBAC",
    });
    dir = await mkdtemp(join(tmpdir(), "kre-check-"));
    await writeFile(join(dir, "tokens.csv"), 'static-token-1,alice,uid-alice,"dev,ops"\n');
    service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--ignore-paths=/healthz,/ready*",
      "--allow-paths=/metrics,/healthz,/ready*,/api/*",
      "--log-level=trace",
    ]);
    client = envoyClient(service.grpcPort);
  });

  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("allows a ServiceAccount that RBAC lets get /metrics, and strips its token upstream", async () => {
    const res = await client.check({ path: "/metrics", headers: bearer(PROMETHEUS_TOKEN) });
    assert.equal(res.status?.code, 0);
    assert.ok(res.ok_response);
    assert.deepEqual([...(res.ok_response.headers_to_remove ?? [])].sort(), ["authorization", "x-remote-groups", "x-remote-user"]);
  });

  it("sends the SubjectAccessReview with the authenticated user, uid, groups and non-resource attributes", async () => {
    await client.check({ path: "/metrics?name[]=up", headers: bearer(PROMETHEUS_TOKEN) });
    const sar = api.sars.find((s) => s.user === PROMETHEUS.username);
    assert.deepEqual(sar, {
      user: PROMETHEUS.username,
      uid: "uid-1",
      groups: PROMETHEUS.groups,
      extra: {},
      nonResourceAttributes: { path: "/metrics", verb: "get" },
    });
  });

  const table: Array<{ name: string; check: Parameters<EnvoyClient["check"]>[0]; rpc: number; http?: number }> = [
    { name: "a dot segment", check: { path: "/api/../metrics", headers: bearer(PROMETHEUS_TOKEN) }, rpc: 3, http: 400 },
    { name: "an encoded slash", check: { path: "/api%2Fmetrics", headers: bearer(PROMETHEUS_TOKEN) }, rpc: 3, http: 400 },
    { name: "no credentials", check: { path: "/metrics" }, rpc: 16, http: 401 },
    { name: "an unknown token", check: { path: "/metrics", headers: bearer("not-a-known-token") }, rpc: 16, http: 401 },
    { name: "a token RBAC does not allow", check: { path: "/metrics", headers: bearer(OTHER_TOKEN) }, rpc: 7, http: 403 },
    {
      name: "a POST where only get is allowed",
      check: { method: "POST", path: "/metrics", headers: bearer(PROMETHEUS_TOKEN) },
      rpc: 7,
      http: 403,
    },
    { name: "a path outside --allow-paths", check: { path: "/debug/pprof", headers: bearer(PROMETHEUS_TOKEN) }, rpc: 5, http: 404 },
    { name: "an ignored path, without credentials", check: { path: "/readyz" }, rpc: 0 },
  ];
  for (const row of table) {
    it(`answers ${row.http ?? "OK"} (rpc ${row.rpc}) for ${row.name}`, async () => {
      const res = await client.check(row.check);
      assert.equal(res.status?.code ?? 0, row.rpc);
      assert.equal(deniedStatus(res), row.http);
      if (row.http) assert.doesNotMatch(res.denied_response?.body ?? "", /token/i);
    });
  }

  it("names the user and verb in a 403 body", async () => {
    const res = await client.check({ path: "/metrics", headers: bearer(OTHER_TOKEN) });
    assert.match(
      res.denied_response?.body ?? "",
      /^Forbidden \(user=system:serviceaccount:default:other, verb=get, path=\/metrics\)\ndecision id: 1\n$/,
    );
  });

  it("returns the decision id (Envoy's x-request-id) in dynamic_metadata, the deny body and the log", async () => {
    const res = await client.check({ path: "/metrics", headers: { "x-request-id": "rid-7f3a" } });
    assert.equal(res.dynamic_metadata?.fields?.decision_id?.stringValue, "rid-7f3a");
    assert.match(res.denied_response?.body ?? "", /decision id: rid-7f3a/);
    const allowed = await client.check({ path: "/metrics", headers: { ...bearer(PROMETHEUS_TOKEN), "x-request-id": "rid-allow" } });
    assert.equal(allowed.dynamic_metadata?.fields?.decision_id?.stringValue, "rid-allow");
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(service.logs().some((l) => l.msg === "decision" && l.decisionId === "rid-7f3a" && l.status === 401));
  });

  it("makes up a decision id when the proxy sent none", async () => {
    const res = await client.checkRaw({ attributes: { request: { http: { method: "GET", path: "/metrics" } } } });
    assert.match(res.dynamic_metadata?.fields?.decision_id?.stringValue ?? "", /^[0-9a-f-]{36}$/);
  });

  it("authenticates a static token from --token-auth-file without a TokenReview", async () => {
    const before = api.calls.tokenreviews;
    api.authorize = (spec) => ({ allowed: spec.user === "alice" || spec.user === PROMETHEUS.username });
    const res = await client.check({ path: "/metrics", headers: { authorization: "bEaReR static-token-1" } });
    assert.equal(res.status?.code, 0);
    assert.equal(api.calls.tokenreviews, before);
    const sar = api.sars.findLast((s) => s.user === "alice");
    assert.deepEqual(sar?.groups, ["dev", "ops"]);
    assert.equal(sar?.uid, "uid-alice");
  });

  it("does not call the API for an ignored path", async () => {
    const calls = { ...api.calls };
    await client.check({ path: "/healthz", headers: bearer("whatever") });
    assert.deepEqual(api.calls, calls);
  });

  it("counts decisions and API calls in /metrics", async () => {
    const text = await service.metrics();
    assert.match(text, /kube_rbac_extauthz_decisions_total\{decision="allow",status="200"\} \d+/);
    assert.match(text, /kube_rbac_extauthz_decisions_total\{decision="deny",status="401"\} \d+/);
    assert.match(text, /kube_rbac_extauthz_kube_api_requests_total\{api="tokenreviews",code="201"\} \d+/);
    assert.match(text, /kube_rbac_extauthz_kube_api_requests_total\{api="subjectaccessreviews",code="201"\} \d+/);
    assert.match(text, /kube_rbac_extauthz_check_duration_seconds_bucket/);
    assert.match(text, /kube_rbac_extauthz_cache_requests_total\{cache="token",result="hit"\} \d+/);
  });

  it("logs denies with user, status and reason, and never a token, even at trace", async () => {
    await client.check({ path: "/metrics", headers: bearer(OTHER_TOKEN) });
    await new Promise((r) => setTimeout(r, 200));
    const deny = service.logs().find((l) => l.msg === "decision" && l.status === 403);
    assert.equal(deny?.user, "system:serviceaccount:default:other");
    assert.equal(deny?.level, "info");
    for (const secret of [PROMETHEUS_TOKEN, OTHER_TOKEN, "static-token-1", "not-a-known-token", "fake-api-service-account-token"]) {
      assert.ok(!service.output().includes(secret), `log holds ${secret.slice(0, 12)}…`);
    }
  });

  it("serves /healthz, /readyz and gRPC health", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await fetch(`http://127.0.0.1:${service.metricsPort}${path}`);
      assert.equal(res.status, 200);
    }
  });
});
