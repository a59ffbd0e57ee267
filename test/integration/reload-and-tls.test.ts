// Files change while the service runs: the config and token files (swapped the way Kubernetes
// swaps a mounted ConfigMap: a symlink to a new directory), broken files (rejected, the last good
// policy stays), and the gRPC listener's TLS certificates.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "node:tls";
import { credentials } from "@grpc/grpc-js";
import { deniedStatus, envoyClient } from "../support/envoy-client.ts";
import { eventually } from "../support/eventually.ts";
import { createCA, issueCert } from "../support/pki.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

/** A mounted ConfigMap: `dir/<file>` -> `..data/<file>`, `..data` -> a versioned directory. */
async function mountedConfigMap(dir: string, files: Record<string, string>): Promise<(files: Record<string, string>) => Promise<void>> {
  let version = 0;
  const swap = async (next: Record<string, string>) => {
    const versioned = join(dir, `..v${++version}`);
    await mkdir(versioned);
    for (const [name, text] of Object.entries(next)) await writeFile(join(versioned, name), text);
    await symlink(versioned, join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  };
  await swap(files);
  for (const name of Object.keys(files)) await symlink(join("..data", name), join(dir, name));
  return swap;
}

const staticRule = (path: string) => `authorization:\n  static:\n    - user: {name: alice}\n      path: ${path}\n      verb: get\n`;

describe("hot reload of the config and token files", () => {
  let dir: string;
  let service: ServiceProcess;
  let swap: (files: Record<string, string>) => Promise<void>;
  const check = (path: string, token: string) =>
    envoyClient(service.grpcPort).check({ path, headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-reload-"));
    swap = await mountedConfigMap(dir, { "config.yaml": staticRule("/metrics"), "tokens.csv": "alice-1,alice,1\n" });
    service = await startService([
      `--config-file=${join(dir, "config.yaml")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--reload-interval=200ms",
    ]);
  });
  after(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("decides by the first version", async () => {
    assert.equal((await check("/metrics", "alice-1")).status?.code, 0);
    assert.equal(deniedStatus(await check("/other", "alice-1")), 503, "no static rule, and no API for a SubjectAccessReview");
  });

  it("follows a ConfigMap-style symlink swap of both files", async () => {
    await swap({ "config.yaml": staticRule("/other"), "tokens.csv": "alice-2,alice,1\n" });
    await eventually("the new policy", async () => (await check("/other", "alice-2")).status?.code === 0);
    assert.equal(deniedStatus(await check("/other", "alice-1")), 503, "the old token is gone (not in the file; TokenReview unavailable)");
    assert.match(await service.metrics(), /kube_rbac_extauthz_config_reloads_total\{source="policy",result="success"\} [1-9]/);
  });

  it("rejects a broken new file, logs and counts it, and keeps the last good policy", async () => {
    await swap({ "config.yaml": "authorization:\n  static: [\n", "tokens.csv": "alice-3,alice,1\n" });
    await eventually("the failed reload", async () =>
      /config_reloads_total\{source="policy",result="failure"\} 1/.test(await service.metrics()),
    );
    assert.equal((await check("/other", "alice-2")).status?.code, 0, "still the last good policy");
    assert.ok(service.logs().some((l) => l.level === "error" && /--config-file .*invalid YAML/.test(String(l.error))));
  });
});

describe("TLS on the gRPC listener", () => {
  let dir: string;
  let service: ServiceProcess;
  let caPem: string;
  let envoyCert: { certPem: string; keyPem: string };

  const peerCommonName = (minVersion?: "TLSv1.2", maxVersion?: "TLSv1.2") =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: "127.0.0.1",
        port: service.grpcPort,
        ca: caPem,
        cert: envoyCert.certPem,
        key: envoyCert.keyPem,
        ALPNProtocols: ["h2"],
        minVersion,
        maxVersion,
      });
      socket.once("secureConnect", () => {
        resolve(String(socket.getPeerCertificate().subject.CN));
        socket.end();
      });
      socket.once("error", reject);
    });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-tls-"));
    const ca = await createCA(dir, "ca");
    caPem = ca.certPem;
    await issueCert(dir, ca, "serving", { commonName: "serving-1", usage: "server", altNames: ["IP:127.0.0.1"] });
    envoyCert = await issueCert(dir, ca, "envoy", { commonName: "envoy", usage: "client" });
    service = await startService([
      `--tls-cert-file=${join(dir, "serving.crt")}`,
      `--tls-private-key-file=${join(dir, "serving.key")}`,
      `--tls-client-ca-file=${ca.certFile}`,
      "--tls-min-version=VersionTLS13",
      "--ignore-paths=/healthz",
      "--reload-interval=200ms",
    ]);
  });
  after(async () => {
    await service?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("answers Check over TLS to a client with a certificate from the client CA", async () => {
    const client = envoyClient(
      service.grpcPort,
      credentials.createSsl(Buffer.from(caPem), Buffer.from(envoyCert.keyPem), Buffer.from(envoyCert.certPem)),
    );
    try {
      assert.equal((await client.check({ path: "/healthz" })).status?.code, 0);
    } finally {
      client.close();
    }
  });

  it("refuses a client without a certificate, and a plaintext client", async () => {
    const noCert = envoyClient(service.grpcPort, credentials.createSsl(Buffer.from(caPem)));
    const plain = envoyClient(service.grpcPort);
    try {
      await assert.rejects(noCert.check({ path: "/healthz" }));
      await assert.rejects(plain.check({ path: "/healthz" }));
    } finally {
      noCert.close();
      plain.close();
    }
  });

  it("refuses TLS 1.2 when --tls-min-version=VersionTLS13", async () => {
    await assert.rejects(peerCommonName("TLSv1.2", "TLSv1.2"));
  });

  it("serves a renewed certificate to new connections without a restart", async () => {
    assert.equal(await peerCommonName(), "serving-1");
    const ca = { name: "ca", certFile: join(dir, "ca.crt"), keyFile: join(dir, "ca.key"), certPem: caPem };
    const renewed = await issueCert(dir, ca, "renewed", { commonName: "serving-2", usage: "server", altNames: ["IP:127.0.0.1"] });
    // Replace both files the way a Secret update lands: new content under the same names.
    await writeFile(join(dir, "serving.key.next"), renewed.keyPem);
    await writeFile(join(dir, "serving.crt.next"), renewed.certPem);
    await rename(join(dir, "serving.key.next"), join(dir, "serving.key"));
    await rename(join(dir, "serving.crt.next"), join(dir, "serving.crt"));
    await eventually("the renewed certificate", async () => (await peerCommonName()) === "serving-2");
    assert.match(await service.metrics(), /kube_rbac_extauthz_config_reloads_total\{source="tls",result="success"\} [1-9]/);
  });
});
