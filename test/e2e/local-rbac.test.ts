// --authorization-mode=local against the real kube-apiserver: RBAC listed and watched, decided
// here with no SubjectAccessReview, changes followed through the watch, and decisions kept from
// the last synced state while the API is down (with /readyz saying how old it is).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { IssuedCert } from "../support/controlplane.ts";
import {
  assertOutcome,
  certificate,
  METRICS_READER_RULES,
  metricValue,
  pollUntil,
  type RunningService,
  rbac,
  SUITE_TIMEOUT,
  subjects,
  useControlPlane,
} from "./support.ts";

describe("e2e: local RBAC from the cluster", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();
  let svc: RunningService;
  let reader: IssuedCert;
  let stranger: IssuedCert;
  const readyz = async () => {
    const res = await fetch(`http://127.0.0.1:${svc.service.metricsPort}/readyz`);
    return { status: res.status, text: await res.text() };
  };

  before(async () => {
    const { cp } = e2e;
    // The read-only RBAC permissions the local mode needs, exactly as the opt-in overlay ships them.
    for (const doc of parseAllDocuments(
      readFileSync(fileURLToPath(new URL("../../deploy/overlays/local-rbac/rbac-reader.yaml", import.meta.url)), "utf8"),
    )) {
      await cp.apply(doc.toJS());
    }
    await cp.apply(rbac.clusterRole("metrics-reader", METRICS_READER_RULES));
    await cp.apply(rbac.clusterRoleBinding("metrics-readers", "metrics-reader", [subjects.group("metrics-readers")]));
    reader = await cp.signClientCert("scraper", ["metrics-readers"]);
    stranger = await cp.signClientCert("stranger", []);
    svc = await e2e.startService(["--authorization-mode=local", `--client-ca-file=${cp.clientCaFile}`]);
    await pollUntil("ready after the first sync", readyz, (r) => r.status === 200);
  });

  it("decides by the cluster's RBAC with no SubjectAccessReview", async () => {
    assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(reader) }), 200);
    assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(stranger) }), 403);
    assertOutcome(await svc.check({ path: "/metrics", method: "POST", certificate: certificate(reader) }), 403);
    const metrics = await svc.service.metrics();
    assert.equal(metricValue(metrics, "kube_rbac_extauthz_kube_api_requests_total", { api: "subjectaccessreviews" }), 0);
  });

  it("follows a new binding through the watch", async () => {
    await e2e.cp.apply(rbac.clusterRoleBinding("stranger-reads", "metrics-reader", [subjects.user("stranger")]));
    await pollUntil(
      "the new binding applies",
      async () => (await svc.check({ path: "/metrics", certificate: certificate(stranger) })).status?.code ?? 0,
      (code) => code === 0,
    );
  });

  it("keeps deciding from the last synced state while the API is down, and says how old it is", async () => {
    await e2e.cp.stopApiserver();
    try {
      await pollUntil("the watch notices", readyz, (r) => /synced \d+s ago/.test(r.text) && !/synced 0s ago/.test(r.text), {
        timeoutMs: 20_000,
      });
      assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(reader) }), 200);
      assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(stranger) }), 200);
      assertOutcome(await svc.check({ path: "/other", certificate: certificate(reader) }), 403);
      const stale = await readyz();
      assert.equal(stale.status, 200, "stale RBAC still decides");
      assert.match(stale.text, /RBAC synced \d+s ago/);
    } finally {
      await e2e.cp.startApiserver();
    }
    await pollUntil("resynced after the restart", readyz, (r) => /synced [01]s ago/.test(r.text), { timeoutMs: 30_000 });
  });
});
