// Client certificates as Envoy forwards them, and the identity headers set upstream.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deniedStatus, type EnvoyClient, envoyClient, okHeaders } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type CertificateAuthority, createCA, issueCert } from "../support/pki.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

describe("client certificates and identity headers", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;
  let dir: string;
  let clientCa: CertificateAuthority;
  let otherCa: CertificateAuthority;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-x509-"));
    [clientCa, otherCa] = await Promise.all([createCA(dir, "client-ca"), createCA(dir, "other-ca")]);
    api = await startFakeKubeApi();
    api.tokens.set("token-of-bob", { user: { username: "bob", uid: "b-1", groups: ["readers", "system:authenticated"] } });
    api.authorize = (spec) => ({ allowed: spec.user === "bob" || (spec.groups ?? []).includes("metrics-readers") });
    service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      `--client-ca-file=${clientCa.certFile}`,
      "--auth-header-fields-enabled",
      "--auth-header-groups-field-separator=,",
    ]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const certificate = async (ca: CertificateAuthority, cn: string, orgs: string[], usage: "client" | "server" = "client") =>
    encodeURIComponent((await issueCert(dir, ca, `${cn}-${usage}-${ca.name}`, { commonName: cn, organizations: orgs, usage })).certPem);

  it("authenticates a certificate from the client CA as CN with O groups plus system:authenticated", async () => {
    const res = await client.check({
      path: "/metrics",
      certificate: await certificate(clientCa, "scraper", ["metrics-readers", "team-a"]),
    });
    assert.equal(res.status?.code, 0);
    const sar = api.sars.findLast((s) => s.user === "scraper");
    assert.deepEqual(sar?.groups, ["metrics-readers", "team-a", "system:authenticated"]);
    assert.deepEqual(okHeaders(res), { "x-remote-user": "scraper", "x-remote-groups": "metrics-readers,team-a,system:authenticated" });
    assert.deepEqual(
      res.ok_response?.headers_to_remove ?? [],
      [],
      "headers that are set overwrite, a certificate leaves authorization alone",
    );
  });

  it("denies 403 a valid certificate whose user RBAC does not allow", async () => {
    const res = await client.check({ path: "/metrics", certificate: await certificate(clientCa, "stranger", []) });
    assert.equal(deniedStatus(res), 403);
  });

  it("denies 401 a certificate signed by another CA, with no API call", async () => {
    const calls = { ...api.calls };
    const res = await client.check({ path: "/metrics", certificate: await certificate(otherCa, "scraper", ["metrics-readers"]) });
    assert.equal(deniedStatus(res), 401);
    assert.deepEqual(api.calls, calls);
  });

  it("denies 401 a certificate not meant for client authentication", async () => {
    const res = await client.check({
      path: "/metrics",
      certificate: await certificate(clientCa, "scraper", ["metrics-readers"], "server"),
    });
    assert.equal(deniedStatus(res), 401);
  });

  it("denies 401 garbage in source.certificate", async () => {
    const res = await client.check({ path: "/metrics", certificate: "%E0%A4%A-not-pem" });
    assert.equal(deniedStatus(res), 401);
  });

  it("falls back to the bearer token when no certificate is passed, and sets headers overwriting spoofed ones", async () => {
    const res = await client.check({
      path: "/metrics",
      headers: { authorization: "Bearer token-of-bob", "x-remote-user": "admin", "x-remote-groups": "system:masters" },
    });
    assert.equal(res.status?.code, 0);
    const set = res.ok_response?.headers ?? [];
    assert.deepEqual(okHeaders(res), { "x-remote-user": "bob", "x-remote-groups": "readers,system:authenticated" });
    assert.ok(set.every((h) => h.append_action === "OVERWRITE_IF_EXISTS_OR_ADD"));
    assert.deepEqual(res.ok_response?.headers_to_remove, ["authorization"]);
  });
});
