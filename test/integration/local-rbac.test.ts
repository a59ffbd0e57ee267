// --authorization-mode with RBAC manifests: decisions with no SubjectAccessReview (and no cluster),
// local-then-sar asking the API only when RBAC alone does not allow, and the embedded example of
// `npm start` with no flags.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deniedStatus, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { runService, startService } from "../support/service-process.ts";

const RBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics-reader}
rules: [{nonResourceURLs: ["/metrics"], verbs: ["get"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: scrapers}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics-reader}
subjects: [{kind: Group, name: scrapers, apiGroup: rbac.authorization.k8s.io}]
`;

describe("local RBAC", () => {
  let dir: string;
  let api: FakeKubeApi;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-local-rbac-"));
    await writeFile(join(dir, "rbac.yaml"), RBAC);
    await writeFile(join(dir, "tokens.csv"), 'scraper-token,carol,1,"scrapers"\nother-token,dave,2,"others"\n');
    api = await startFakeKubeApi();
    api.tokens.set("webhook-user", { user: { username: "erin", groups: [] } });
    api.authorize = (spec) => ({ allowed: spec.user === "erin" });
  });
  after(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("local: decides from the manifests, with no cluster at all", async () => {
    const service = await startService([
      "--authorization-mode=local",
      `--rbac-manifests=${join(dir, "rbac.yaml")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
    ]);
    const client = envoyClient(service.grpcPort);
    try {
      assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer scraper-token" } })).status?.code, 0);
      const denied = await client.check({ path: "/metrics", headers: { authorization: "Bearer other-token" } });
      assert.equal(deniedStatus(denied), 403);
      assert.match(await (await fetch(`http://127.0.0.1:${service.metricsPort}/readyz`)).text(), /^ok: RBAC manifests read \d+s ago/);
    } finally {
      client.close();
      await service.stop();
    }
  });

  it("local-then-sar: RBAC allows without the API; otherwise one SubjectAccessReview may still allow", async () => {
    const service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      "--authorization-mode=local-then-sar",
      `--rbac-manifests=${join(dir, "rbac.yaml")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
    ]);
    const client = envoyClient(service.grpcPort);
    try {
      const sars = api.calls.subjectaccessreviews;
      assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer scraper-token" } })).status?.code, 0);
      assert.equal(api.calls.subjectaccessreviews, sars, "allowed locally");
      assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer webhook-user" } })).status?.code, 0);
      assert.equal(api.calls.subjectaccessreviews, sars + 1, "asked the API");
      assert.equal(deniedStatus(await client.check({ path: "/metrics", headers: { authorization: "Bearer other-token" } })), 403);
    } finally {
      client.close();
      await service.stop();
    }
  });

  it("refuses --rbac-manifests in sar mode, a broken manifest, and a local mode with no RBAC source", async () => {
    await writeFile(join(dir, "broken.yaml"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {}\nrules: 7\n");
    const sarMode = await runService([`--rbac-manifests=${join(dir, "rbac.yaml")}`]);
    assert.notEqual(sarMode.code, 0);
    assert.match(sarMode.stderr, /--rbac-manifests: needs --authorization-mode/);
    const broken = await runService(["--authorization-mode=local", `--rbac-manifests=${join(dir, "broken.yaml")}`]);
    assert.notEqual(broken.code, 0);
    assert.match(broken.stderr, /--rbac-manifests: .*broken\.yaml/);
    const noSource = await runService(["--authorization-mode=local", "--grpc-address=127.0.0.1:0", "--metrics-address=127.0.0.1:0"]);
    assert.notEqual(noSource.code, 0);
    assert.match(noSource.stderr, /needs --rbac-manifests or a Kubernetes API/);
  });

  it("npm start with no flags runs the embedded example and prints an allow and a deny to try", async () => {
    const service = await startService([], {}, { noDefaultFlags: true });
    const client = envoyClient(9000);
    try {
      assert.match(service.output(), /embedded example/);
      assert.match(service.output(), /grpcurl -plaintext .*prometheus-demo-token/);
      assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer prometheus-demo-token" } })).status?.code, 0);
      assert.equal(deniedStatus(await client.check({ path: "/metrics", headers: { authorization: "Bearer alice-demo-token" } })), 403);
    } finally {
      client.close();
      await service.stop();
    }
  });
});
