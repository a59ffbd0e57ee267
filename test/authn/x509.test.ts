import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { AuthnResult } from "../../src/authn/types.ts";
import { loadCaBundle, x509Authenticator } from "../../src/authn/x509.ts";
import { type CertificateAuthority, createCA, type IssuedCert, issueCert } from "../support/pki.ts";

const DAY = 86_400_000;
const request = (pem: string, encode = true) => ({
  headers: new Map<string, string>(),
  peerCertificate: encode ? encodeURIComponent(pem) : pem,
});
const reason = (r: AuthnResult) => (r.kind === "rejected" ? r.reason : `not rejected: ${r.kind}`);

describe("x509Authenticator", () => {
  let dir: string;
  let ca: CertificateAuthority;
  let cas: X509Certificate[];
  let client: IssuedCert;
  let server: IssuedCert;
  let foreign: IssuedCert;
  let injected: IssuedCert;
  let longLived: IssuedCert;
  let otherCa: CertificateAuthority;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-x509-"));
    ca = await createCA(dir, "ca");
    otherCa = await createCA(dir, "other-ca");
    [client, server, foreign, injected, longLived] = await Promise.all([
      issueCert(dir, ca, "client", { commonName: "alice", organizations: ["dev", "ops"], usage: "client" }),
      issueCert(dir, ca, "server", { commonName: "server", organizations: ["dev"], usage: "server" }),
      issueCert(dir, otherCa, "foreign", { commonName: "mallory", organizations: ["system:masters"], usage: "client" }),
      issueCert(dir, ca, "injected", {
        commonName: "eve\nO=system:masters, O=x/O=system:masters",
        organizations: ["dev"],
        usage: "client",
      }),
      issueCert(dir, ca, "long-lived", { commonName: "bob", usage: "client", days: 4000 }),
    ]);
    cas = loadCaBundle(ca.certFile);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("authenticates a client certificate: user = CN, groups = O values + system:authenticated", async () => {
    assert.deepEqual(await x509Authenticator(cas).authenticate(request(client.certPem)), {
      kind: "authenticated",
      credential: "x509",
      user: { name: "alice", uid: "", groups: ["dev", "ops", "system:authenticated"], extra: {} },
    });
  });

  it("also reads PEM that was not URL-encoded", async () => {
    assert.equal((await x509Authenticator(cas).authenticate(request(client.certPem, false))).kind, "authenticated");
  });

  it("answers none when no certificate was passed", async () => {
    assert.deepEqual(await x509Authenticator(cas).authenticate(request("", false)), { kind: "none" });
  });

  it("rejects a certificate only valid for server authentication", async () => {
    assert.equal(
      reason(await x509Authenticator(cas).authenticate(request(server.certPem))),
      "client certificate not valid for client authentication",
    );
  });

  it("rejects a certificate from another CA", async () => {
    assert.equal(
      reason(await x509Authenticator(cas).authenticate(request(foreign.certPem))),
      "client certificate not signed by a trusted CA",
    );
  });

  it("rejects a self-signed CA certificate that is not in the bundle", async () => {
    assert.equal(
      reason(await x509Authenticator(cas).authenticate(request(otherCa.certPem))),
      "client certificate not signed by a trusted CA",
    );
  });

  it("rejects a valid certificate once its CA has expired", async () => {
    const caCert = new X509Certificate(ca.certPem);
    const clock = { now: () => caCert.validToDate.getTime() + 1 };
    assert.ok(new X509Certificate(longLived.certPem).validToDate.getTime() > clock.now(), "the leaf outlives its CA");
    assert.equal(
      reason(await x509Authenticator(cas, clock).authenticate(request(longLived.certPem))),
      "client CA certificate expired or not yet valid",
    );
  });

  it("accepts a certificate from any CA of the bundle", async () => {
    const both = [...cas, ...loadCaBundle(otherCa.certFile)];
    assert.equal((await x509Authenticator(both).authenticate(request(foreign.certPem))).kind, "authenticated");
  });

  it("rejects a certificate after it expired, by the injected wall clock", async () => {
    const leaf = new X509Certificate(client.certPem);
    const clock = { now: () => leaf.validToDate.getTime() + 1 };
    assert.equal(
      reason(await x509Authenticator(cas, clock).authenticate(request(client.certPem))),
      "client certificate expired or not yet valid",
    );
  });

  it("rejects a certificate far in the future", async () => {
    const clock = { now: () => Date.now() + 100 * 365 * DAY };
    assert.equal((await x509Authenticator(cas, clock).authenticate(request(client.certPem))).kind, "rejected");
  });

  it("rejects a certificate before its validity starts", async () => {
    const leaf = new X509Certificate(client.certPem);
    const clock = { now: () => leaf.validFromDate.getTime() - 1 };
    assert.equal(
      reason(await x509Authenticator(cas, clock).authenticate(request(client.certPem))),
      "client certificate expired or not yet valid",
    );
  });

  it("accepts a certificate on its last valid millisecond", async () => {
    const leaf = new X509Certificate(client.certPem);
    const clock = { now: () => leaf.validToDate.getTime() };
    assert.equal((await x509Authenticator(cas, clock).authenticate(request(client.certPem))).kind, "authenticated");
  });

  it("keeps a CN that spells other subject fields in the user name, never in the groups", async () => {
    const result = await x509Authenticator(cas).authenticate(request(injected.certPem));
    assert.equal(result.kind, "authenticated");
    if (result.kind !== "authenticated") return;
    assert.equal(result.user.name, "eve\nO=system:masters, O=x/O=system:masters");
    assert.deepEqual(result.user.groups, ["dev", "system:authenticated"]);
  });

  const unreadable: Array<[why: string, peerCertificate: string, reason: string]> = [
    ["garbage", "hello", "client certificate is not PEM"],
    ["a bad %-escape", "%zz-----BEGIN CERTIFICATE-----", "client certificate is not URL-encoded PEM"],
    [
      "a PEM block with a garbage body",
      encodeURIComponent("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"),
      "client certificate cannot be parsed",
    ],
    [
      "a private key",
      encodeURIComponent("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
      "client certificate is not PEM",
    ],
    ["more than 64 KiB", "a".repeat(64 * 1024 + 1), "client certificate too large"],
  ];
  for (const [why, peerCertificate, expected] of unreadable) {
    it(`rejects ${why}`, async () => {
      const result = await x509Authenticator(cas).authenticate({ headers: new Map(), peerCertificate });
      assert.deepEqual(result, { kind: "rejected", reason: expected });
    });
  }

  it("rejects any certificate when the bundle holds only a leaf, not a CA", async () => {
    const notACa = [new X509Certificate(client.certPem)];
    assert.equal((await x509Authenticator(notACa).authenticate(request(client.certPem))).kind, "rejected");
  });
});

describe("loadCaBundle", () => {
  let dir: string;
  let ca: CertificateAuthority;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-ca-bundle-"));
    ca = await createCA(dir, "ca");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads every certificate of a bundle", async () => {
    const other = await createCA(dir, "other");
    const path = join(dir, "bundle.pem");
    await writeFile(path, `comment\n${ca.certPem}\n${other.certPem}`);
    assert.deepEqual(
      loadCaBundle(path).map((c) => c.subject),
      [new X509Certificate(ca.certPem).subject, new X509Certificate(other.certPem).subject],
    );
  });

  it("throws naming the file when it holds no PEM certificate", async () => {
    const path = join(dir, "empty.pem");
    await writeFile(path, "not a certificate\n");
    assert.throws(() => loadCaBundle(path), { message: `${path}: no PEM certificate found` });
  });

  it("throws naming the file and the certificate when one is bad", async () => {
    const path = join(dir, "bad.pem");
    await writeFile(path, `${ca.certPem}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n`);
    assert.throws(
      () => loadCaBundle(path),
      (e: Error) => e.message.startsWith(`${path}: certificate 2: `),
    );
  });

  it("throws for a missing file", () => {
    assert.throws(() => loadCaBundle(join(dir, "missing.pem")), /ENOENT/);
  });
});
