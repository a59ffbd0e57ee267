// The first user's path, for real: Debian's Prometheus scrapes Debian's node-exporter through
// nginx, nginx asks kube-rbac-extauthz (auth_request, HTTP mode), and the service asks the real
// kube-apiserver. The scrape is up only while Prometheus's ServiceAccount is bound by RBAC to
// `get /metrics`; without the binding the target is down with 403 and no sample arrives.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ControlPlane, startControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/eventually.ts";
import { type Program, query, scrapeTarget, startNginx, startNodeExporter, startPrometheus } from "../support/scrape-stack.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

const BINDING = "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/prometheus-metrics-reader";

describe("Prometheus scrapes node-exporter through nginx and kube-rbac-extauthz", { timeout: 50 * 60_000 }, () => {
  let cp: ControlPlane;
  let dir: string;
  let service: ServiceProcess;
  const programs: Program[] = [];
  let prometheusPort = 0;

  const up = async () => (await query(prometheusPort, 'up{job="node"}'))[0]?.value[1];
  const samples = async () => (await query(prometheusPort, "node_memory_MemTotal_bytes")).length;
  const state = async () => JSON.stringify({ target: await scrapeTarget(prometheusPort), up: await up(), samples: await samples() });

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), "kre-scrape-"));
      cp = await startControlPlane();
      await cp.createServiceAccount("monitoring", "prometheus");
      await cp.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "metrics-reader" },
        rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
      });
      const tokenFile = join(dir, "prometheus-token");
      await writeFile(tokenFile, await cp.createToken("monitoring", "prometheus", { expirationSeconds: 3600 }), { mode: 0o600 });
      service = await startService([
        `--kubeconfig=${cp.serviceKubeconfigPath}`,
        "--http-address=127.0.0.1:0",
        "--allow-paths=/metrics",
        "--authorization-webhook-cache-authorized-ttl=1s",
        "--authorization-webhook-cache-unauthorized-ttl=1s",
      ]);
      const nodeExporter = await startNodeExporter();
      programs.push(nodeExporter);
      const nginx = await startNginx(dir, nodeExporter.port, service.httpPort as number);
      programs.push(nginx);
      const prometheus = await startPrometheus(dir, `127.0.0.1:${nginx.port}`, tokenFile);
      programs.push(prometheus);
      prometheusPort = prometheus.port;
    },
    { timeout: 45 * 60_000 },
  );

  after(async () => {
    for (const p of programs.reverse()) await p.stop();
    await service?.stop();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("is down with 403 and collects no sample while the ServiceAccount has no binding", async () => {
    // A first scrape may fail otherwise (a slow start); what counts is a 403 from nginx.
    await eventually(
      "a scrape refused with 403",
      async () => {
        const target = await scrapeTarget(prometheusPort);
        return target?.health === "down" && /403/.test(target.lastError);
      },
      { timeoutMs: 30_000, intervalMs: 250, lastState: state },
    );
    assert.equal(await up(), "0");
    assert.equal(await samples(), 0, "node-exporter's samples never reached Prometheus");
  });

  it("is up with node-exporter's samples once RBAC binds the ServiceAccount to get /metrics", async () => {
    await cp.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "prometheus-metrics-reader" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "metrics-reader" },
      subjects: [{ kind: "ServiceAccount", name: "prometheus", namespace: "monitoring" }],
    });
    await eventually("up == 1 with samples", async () => (await up()) === "1" && (await samples()) > 0, {
      timeoutMs: 30_000,
      intervalMs: 250,
      lastState: state,
    });
  });

  it("goes down with 403 again when the binding is deleted", async () => {
    assert.ok(await cp.delete(BINDING));
    await eventually(
      "a 403 scrape after revocation",
      async () => {
        const target = await scrapeTarget(prometheusPort);
        return target?.health === "down" && /403/.test(target.lastError) && (await up()) === "0";
      },
      { timeoutMs: 30_000, intervalMs: 250, lastState: state },
    );
  });

  it("decided every scrape in the service: allows and 403 denies are counted", async () => {
    const metrics = await service.metrics();
    assert.match(metrics, /kube_rbac_extauthz_decisions_total\{decision="allow",status="200"\} [1-9]/);
    assert.match(metrics, /kube_rbac_extauthz_decisions_total\{decision="deny",status="403"\} [1-9]/);
  });
});
