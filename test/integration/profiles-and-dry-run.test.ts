// One service for many workloads: profiles chosen per route (context_extensions) or per host, and
// --dry-run, which decides and counts but lets everything through.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { checkRequest, deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

const CONFIG = `
authorization:
  static:
    - user: {name: alice}
      path: /metrics
      verb: get
profiles:
  grafana:
    hosts: ["grafana.example.com", "*.grafana.internal"]
    allowPaths: ["/api/*"]
    authorization:
      static:
        - user: {name: alice}
          path: /api/dashboards
          verb: get
  kube-state-metrics:
    ignorePaths: ["/healthz"]
    authorization:
      resourceAttributes:
        namespace: monitoring
        resource: services
        subresource: proxy
        name: kube-state-metrics
`;

describe("profiles", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;
  let dir: string;
  const aliceCheck = (path: string, more: { host?: string; profile?: string } = {}) => {
    const request = checkRequest({ path, host: more.host, headers: { authorization: "Bearer alice-token" } }) as {
      attributes: Record<string, unknown>;
    };
    if (more.profile !== undefined) request.attributes.context_extensions = { profile: more.profile };
    return client.checkRaw(request);
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-profiles-"));
    await writeFile(join(dir, "config.yaml"), CONFIG);
    api = await startFakeKubeApi();
    api.tokens.set("alice-token", { user: { username: "alice", groups: ["system:authenticated"] } });
    api.authorize = (spec) => ({ allowed: spec.resourceAttributes?.name === "kube-state-metrics" });
    service = await startService([`--kubeconfig=${api.kubeconfigPath}`, `--config-file=${join(dir, "config.yaml")}`]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("uses the top-level section for a request no profile claims", async () => {
    assert.equal((await aliceCheck("/metrics")).status?.code, 0);
    assert.equal(deniedStatus(await aliceCheck("/api/dashboards")), 403);
  });

  it('selects a profile by context_extensions["profile"], with its own allowPaths and rules', async () => {
    assert.equal((await aliceCheck("/api/dashboards", { profile: "grafana" })).status?.code, 0);
    assert.equal(deniedStatus(await aliceCheck("/metrics", { profile: "grafana" })), 404, "outside the profile's allowPaths");
  });

  it("selects a profile by host glob, ignoring the port", async () => {
    assert.equal((await aliceCheck("/api/dashboards", { host: "grafana.example.com:443" })).status?.code, 0);
    assert.equal((await aliceCheck("/api/dashboards", { host: "eu.grafana.internal" })).status?.code, 0);
  });

  it("lets the route's profile win over the host", async () => {
    const res = await aliceCheck("/metrics", { host: "grafana.example.com", profile: "kube-state-metrics" });
    assert.equal(res.status?.code, 0);
    assert.deepEqual(api.sars.at(-1)?.resourceAttributes?.name, "kube-state-metrics");
  });

  it("denies an unknown profile name with a clear reason instead of falling back", async () => {
    const res = await aliceCheck("/metrics", { profile: "typo" });
    assert.equal(deniedStatus(res), 403);
    assert.match(res.denied_response?.body ?? "", /unknown profile/);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(service.logs().some((l) => l.msg === "decision" && /unknown profile "typo"/.test(String(l.reason))));
  });

  it("applies a profile's ignorePaths", async () => {
    const res = await client.checkRaw({
      attributes: { context_extensions: { profile: "kube-state-metrics" }, request: { http: { method: "GET", path: "/healthz" } } },
    });
    assert.equal(res.status?.code, 0);
  });
});

describe("--dry-run", () => {
  it('answers allow, but logs and counts what it would have decided with dry_run="true"', async () => {
    const api = await startFakeKubeApi();
    api.tokens.set("t", { user: { username: "bob" } });
    const service = await startService([`--kubeconfig=${api.kubeconfigPath}`, "--dry-run", "--allow-paths=/metrics"]);
    const client = envoyClient(service.grpcPort);
    try {
      const forbidden = await client.check({ path: "/metrics", headers: { authorization: "Bearer t", "x-remote-user": "admin" } });
      assert.equal(forbidden.status?.code, 0);
      assert.deepEqual(
        forbidden.ok_response?.headers_to_remove,
        ["x-remote-user", "x-remote-groups"],
        "spoofed identity is still stripped",
      );
      assert.equal((await client.check({ path: "/elsewhere" })).status?.code, 0);
      const metrics = await service.metrics();
      assert.match(metrics, /kube_rbac_extauthz_decisions_total\{decision="deny",status="403",dry_run="true"\} 1/);
      assert.match(metrics, /kube_rbac_extauthz_decisions_total\{decision="deny",status="404",dry_run="true"\} 1/);
      await new Promise((r) => setTimeout(r, 200));
      assert.ok(service.logs().some((l) => l.msg === "decision" && l.status === 403 && l.user === "bob"));
    } finally {
      client.close();
      await service.stop();
      await api.close();
    }
  });
});
