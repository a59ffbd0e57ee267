// Issue 7's paths against the real kube-apiserver: egress tokens minted by the TokenRequest API
// for one audience, accepted only where that audience is required; and Istio's SPIFFE peer
// identity decided by real RBAC.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkRequest, envoyClient, okHeaders } from "../support/envoy-client.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";
import {
  assertOutcome,
  bearer,
  METRICS_READER_RULES,
  nonResourceSpec,
  rbac,
  SUITE_TIMEOUT,
  saUser,
  subjects,
  useControlPlane,
  waitForRbac,
} from "./support.ts";

const SA_GROUPS = (ns: string) => ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"];

describe("e2e: egress tokens and mesh identity", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();
  let egress: ServiceProcess;

  before(async () => {
    const { cp } = e2e;
    await cp.createServiceAccount("monitoring", "prometheus");
    await cp.createServiceAccount("monitoring", "egress-agent");
    // The RBAC the egress mode needs, and nothing more: tokens of one ServiceAccount.
    await cp.apply(
      rbac.role("monitoring", "prometheus-token-minter", [
        { apiGroups: [""], resources: ["serviceaccounts/token"], resourceNames: ["prometheus"], verbs: ["create"] },
      ]),
    );
    await cp.apply(
      rbac.roleBinding("monitoring", "egress-agent-mints", { kind: "Role", name: "prometheus-token-minter" }, [
        subjects.serviceAccount("monitoring", "egress-agent"),
      ]),
    );
    await cp.apply(rbac.clusterRole("metrics-reader", METRICS_READER_RULES));
    await cp.apply(rbac.clusterRoleBinding("prometheus-metrics", "metrics-reader", [subjects.serviceAccount("monitoring", "prometheus")]));
    await waitForRbac(cp, nonResourceSpec(saUser("monitoring", "prometheus"), SA_GROUPS("monitoring"), "/metrics"), true);
    const agentToken = await cp.createToken("monitoring", "egress-agent", { expirationSeconds: 3600 });
    const kubeconfig = await cp.writeKubeconfig(`${e2e.dir}/egress-agent.kubeconfig`, { token: agentToken });
    egress = await startService([
      `--kubeconfig=${kubeconfig}`,
      "--egress-service-account=monitoring/prometheus",
      "--egress-token-expiration=10m",
    ]);
  });
  after(async () => {
    await egress?.stop();
  });

  const mint = async (host: string): Promise<string> => {
    const client = envoyClient(egress.grpcPort);
    try {
      const res = await client.check({ path: "/metrics", host });
      assert.equal(res.status?.code, 0, JSON.stringify(res));
      return (okHeaders(res).authorization ?? "").replace(/^Bearer /, "");
    } finally {
      client.close();
    }
  };

  it("mints a token of the ServiceAccount for the destination's audience", async () => {
    const token = await mint("service-a.monitoring.svc:8443");
    const review = await e2e.cp.tokenReview(token, ["service-a.monitoring.svc"]);
    assert.equal(review.authenticated, true);
    assert.equal(review.user?.username, saUser("monitoring", "prometheus"));
    assert.deepEqual(review.audiences, ["service-a.monitoring.svc"]);
  });

  it("is accepted by a service that requires that audience and rejected (401) by one that requires another", async () => {
    const token = await mint("service-a.monitoring.svc");
    const a = await e2e.startService(["--auth-token-audiences=service-a.monitoring.svc"]);
    const b = await e2e.startService(["--auth-token-audiences=service-b.monitoring.svc"]);
    assertOutcome(await a.check({ path: "/metrics", headers: bearer(token) }), 200);
    assertOutcome(await b.check({ path: "/metrics", headers: bearer(token) }), 401);
  });

  it("cannot mint tokens of another ServiceAccount: the RBAC names one", async () => {
    const other = await startService([
      `--kubeconfig=${e2e.dir}/egress-agent.kubeconfig`,
      "--egress-service-account=monitoring/egress-agent",
    ]);
    const client = envoyClient(other.grpcPort);
    try {
      assertOutcome(await client.check({ path: "/", host: "anything" }), 503);
    } finally {
      client.close();
      await other.stop();
    }
  });

  it("authenticates Istio's peer identity (source.principal) and decides by the real RBAC", async () => {
    const svc = await e2e.startService(["--trust-spiffe-principal=cluster.local"]);
    const check = (principal: string) => {
      const request = checkRequest({ path: "/metrics" }) as { attributes: { source: Record<string, unknown> } };
      request.attributes.source.principal = principal;
      return svc.client.checkRaw(request);
    };
    assertOutcome(await check("spiffe://cluster.local/ns/monitoring/sa/prometheus"), 200);
    assertOutcome(await check("spiffe://cluster.local/ns/monitoring/sa/egress-agent"), 403);
    assertOutcome(await check("spiffe://other.domain/ns/monitoring/sa/prometheus"), 401);
  });
});
