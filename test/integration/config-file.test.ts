// kube-rbac-proxy's `authorization:` section, end to end: static rules, resource attributes and
// rewrites by query parameter and header.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

const CONFIG = `
authorization:
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: services
    subresource: proxy
    name: kube-state-metrics
  rewrites:
    byQueryParameter:
      name: namespace
    byHttpHeader:
      name: x-namespace
  static:
    - user:
        name: system:serviceaccount:monitoring:prometheus
      resourceRequest: true
      resource: services
      subresource: proxy
      namespace: default
      verb: get
    - user:
        groups: ["auditors"]
      resourceRequest: true
      resource: services
      verb: get
      namespace: audit
`;

describe("--config-file authorization", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;
  let dir: string;
  const check = (query: string, token: string, headers: Record<string, string> = {}) =>
    client.check({ path: `/metrics${query}`, headers: { authorization: `Bearer ${token}`, ...headers } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-config-"));
    await writeFile(join(dir, "config.yaml"), CONFIG);
    api = await startFakeKubeApi();
    api.tokens.set("prom", { user: { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:authenticated"] } });
    api.tokens.set("auditor", { user: { username: "carol", groups: ["auditors"] } });
    api.tokens.set("mallory", { user: { username: "mallory", groups: ["other"] } });
    // RBAC in the fake: prometheus may get services/proxy in "monitoring" only.
    api.authorize = (spec) => ({
      allowed:
        spec.user === "system:serviceaccount:monitoring:prometheus" &&
        spec.resourceAttributes?.namespace === "monitoring" &&
        spec.resourceAttributes?.resource === "services" &&
        spec.resourceAttributes?.subresource === "proxy" &&
        spec.resourceAttributes?.name === "kube-state-metrics",
    });
    service = await startService([`--kubeconfig=${api.kubeconfigPath}`, `--config-file=${join(dir, "config.yaml")}`]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("allows by a static rule with no SubjectAccessReview (namespace=default)", async () => {
    const sars = api.calls.subjectaccessreviews;
    const res = await check("?namespace=default", "prom");
    assert.equal(res.status?.code, 0);
    assert.equal(api.calls.subjectaccessreviews, sars);
  });

  it("asks RBAC for a namespace no static rule covers, with the templated resource attributes", async () => {
    const res = await check("?namespace=monitoring", "prom");
    assert.equal(res.status?.code, 0);
    assert.deepEqual(api.sars.at(-1)?.resourceAttributes, {
      verb: "get",
      namespace: "monitoring",
      group: "",
      version: "v1",
      resource: "services",
      subresource: "proxy",
      name: "kube-state-metrics",
    });
  });

  it("denies 403 a namespace RBAC does not allow (namespace=forbidden)", async () => {
    const res = await check("?namespace=forbidden", "prom");
    assert.equal(deniedStatus(res), 403);
    assert.match(res.denied_response?.body ?? "", /namespace=forbidden/);
  });

  it("requires every value to be allowed: one forbidden among allowed values denies", async () => {
    assert.equal((await check("?namespace=monitoring&namespace=default", "prom")).status?.code, 0);
    assert.equal(deniedStatus(await check("?namespace=monitoring&namespace=forbidden", "prom")), 403);
    assert.equal(deniedStatus(await check("?namespace=monitoring", "prom", { "x-namespace": "forbidden" })), 403);
  });

  it("takes the value from the header too", async () => {
    assert.equal((await check("", "prom", { "x-namespace": "monitoring" })).status?.code, 0);
  });

  it("answers 400 when the request carries no rewrite value", async () => {
    const res = await check("?other=1", "prom");
    assert.equal(res.status?.code, 3);
    assert.equal(deniedStatus(res), 400);
  });

  it("honours a static rule's user.groups: a member matches, a non-member does not", async () => {
    assert.equal((await check("?namespace=audit", "auditor")).status?.code, 0);
    assert.equal(deniedStatus(await check("?namespace=audit", "mallory")), 403);
  });
});
