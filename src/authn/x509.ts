// Authenticates the client certificate Envoy forwards in attributes.source.certificate
// (URL-encoded PEM, with `include_peer_certificate: true`), as kube-apiserver's --client-ca-file
// does: the certificate must be issued by one of the CAs, be within its validity period, and be
// usable for client authentication. User = CN, groups = O values.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Clock } from "../cache/coalescing-cache.ts";
import type { Authenticator, AuthnRequest, AuthnResult } from "./types.ts";

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";
// A PEM certificate of a few KiB is normal; a huge one is refused before it is parsed.
const MAX_CERT_BYTES = 64 * 1024;
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Reads a PEM bundle of CA certificates; throws naming the file when it holds none or a bad one. */
export function loadCaBundle(path: string): X509Certificate[] {
  const pem = readFileSync(path, "utf8");
  const blocks = pem.match(PEM_BLOCK) ?? [];
  if (blocks.length === 0) throw new Error(`${path}: no PEM certificate found`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (e) {
      throw new Error(`${path}: certificate ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** Wall-clock time in ms; certificates expire in real time, not in the caches' clock. */
export type WallClock = Pick<Clock, "now">;
const wallClock: WallClock = { now: () => Date.now() };

export function x509Authenticator(cas: readonly X509Certificate[], clock: WallClock = wallClock): Authenticator {
  return {
    async authenticate(request: AuthnRequest): Promise<AuthnResult> {
      if (request.peerCertificate === "") return { kind: "none" };
      const leaf = parsePeerCertificate(request.peerCertificate);
      if (typeof leaf === "string") return { kind: "rejected", reason: leaf };
      const problem = verify(leaf, cas, clock.now());
      if (problem) return { kind: "rejected", reason: problem };
      const subject = subjectOf(leaf);
      if (!subject.cn) return { kind: "rejected", reason: "client certificate has no common name" };
      return {
        kind: "authenticated",
        credential: "x509",
        user: { name: subject.cn, uid: "", groups: [...subject.o, "system:authenticated"], extra: {} },
      };
    },
  };
}

/** The certificate, or the reason it cannot be read. */
function parsePeerCertificate(encoded: string): X509Certificate | string {
  if (encoded.length > MAX_CERT_BYTES) return "client certificate too large";
  let pem: string;
  try {
    pem = decodeURIComponent(encoded);
  } catch {
    return "client certificate is not URL-encoded PEM";
  }
  const blocks = pem.match(PEM_BLOCK);
  if (!blocks) return "client certificate is not PEM";
  try {
    return new X509Certificate(blocks[0]);
  } catch {
    return "client certificate cannot be parsed";
  }
}

function verify(leaf: X509Certificate, cas: readonly X509Certificate[], now: number): string | undefined {
  if (!withinValidity(leaf, now)) return "client certificate expired or not yet valid";
  if (!allowsClientAuth(leaf)) return "client certificate not valid for client authentication";
  const issuer = cas.find((ca) => ca.ca && leaf.checkIssued(ca) && leaf.verify(ca.publicKey));
  if (!issuer) return "client certificate not signed by a trusted CA";
  if (!withinValidity(issuer, now)) return "client CA certificate expired or not yet valid";
  if (!allowsClientAuth(issuer)) return "client CA certificate not valid for client authentication";
  return undefined;
}

function withinValidity(cert: X509Certificate, now: number): boolean {
  return cert.validFromDate.getTime() <= now && now <= cert.validToDate.getTime();
}

// As Go's x509 verification with ExtKeyUsageClientAuth: no extended key usage extension means any
// usage; otherwise clientAuth (or anyExtendedKeyUsage) must be listed.
function allowsClientAuth(cert: X509Certificate): boolean {
  const usages = cert.keyUsage;
  return usages === undefined || usages.includes(CLIENT_AUTH) || usages.includes(ANY_EXTENDED_KEY_USAGE);
}

/** CN and O values of the subject, read from the structured form so no value can inject another. */
function subjectOf(cert: X509Certificate): { cn: string; o: string[] } {
  const subject = cert.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>;
  const all = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const cns = all(subject.CN);
  return { cn: cns[cns.length - 1] ?? "", o: all(subject.O) };
}
