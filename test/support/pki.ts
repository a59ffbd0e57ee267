// Throwaway PKI for the e2e control plane, made with the openssl CLI because
// node:crypto can make keys but not X.509 certificates. All keys are P-256
// ECDSA (fast to generate) except the ServiceAccount signing key, which is RSA
// like in most real clusters (tokens are RS256).
import { execFile } from "node:child_process";
import { generateKeyPair } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);
const OPENSSL = process.env.OPENSSL ?? "openssl";

export interface CertificateAuthority {
  name: string;
  certFile: string;
  keyFile: string;
  certPem: string;
}

export interface IssuedCert {
  certFile: string;
  keyFile: string;
  certPem: string;
  keyPem: string;
}

export interface IssueOptions {
  commonName: string;
  /** Subject O= values; Kubernetes maps them to groups for client certs. */
  organizations?: string[];
  usage: "client" | "server";
  /** subjectAltName entries for server certs, e.g. ['IP:127.0.0.1', 'DNS:localhost']. */
  altNames?: string[];
  days?: number;
}

// A minimal config so the result does not depend on the system openssl.cnf.
function opensslConfig(extensions: string[]): string {
  return ["[req]", "distinguished_name = dn", "prompt = no", "[dn]", "[ext]", ...extensions, ""].join("\n");
}

// -subj syntax: '/' separates RDNs and '\' escapes; several O= entries are allowed.
function subject(commonName: string, organizations: string[] = []): string {
  const esc = (v: string) => v.replace(/[\\/]/g, (c) => `\\${c}`);
  return ["", `CN=${esc(commonName)}`, ...organizations.map((o) => `O=${esc(o)}`)].join("/");
}

async function openssl(args: string[]): Promise<void> {
  try {
    await execFileAsync(OPENSSL, args);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/** Self-signed CA; files are <dir>/<name>.crt and <dir>/<name>.key. */
export async function createCA(dir: string, name: string, commonName = `kube-rbac-extauthz-e2e-${name}`): Promise<CertificateAuthority> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const configFile = join(dir, `${name}.cnf`);
  await writeFile(
    configFile,
    opensslConfig(["basicConstraints = critical, CA:TRUE", "keyUsage = critical, keyCertSign, cRLSign", "subjectKeyIdentifier = hash"]),
  );
  // biome-ignore format: one openssl option per line pair is easier to read
  await openssl([
    'req', '-x509', '-config', configFile, '-extensions', 'ext', '-utf8',
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', keyFile, '-out', certFile, '-days', '3650', '-subj', subject(commonName),
  ]);
  return { name, certFile, keyFile, certPem: await readFile(certFile, "utf8") };
}

/** Key pair + certificate signed by `ca`; files are <dir>/<name>.crt and <dir>/<name>.key. */
export async function issueCert(dir: string, ca: CertificateAuthority, name: string, opts: IssueOptions): Promise<IssuedCert> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const configFile = join(dir, `${name}.cnf`);
  const ext = [
    "basicConstraints = critical, CA:FALSE",
    "keyUsage = critical, digitalSignature, keyEncipherment",
    `extendedKeyUsage = ${opts.usage === "server" ? "serverAuth" : "clientAuth"}`,
    "authorityKeyIdentifier = keyid",
    "subjectKeyIdentifier = hash",
  ];
  if (opts.altNames?.length) ext.push(`subjectAltName = ${opts.altNames.join(", ")}`);
  await writeFile(configFile, opensslConfig(ext));
  // biome-ignore format: one openssl option per line pair is easier to read
  await openssl([
    'req', '-x509', '-config', configFile, '-extensions', 'ext', '-utf8',
    '-CA', ca.certFile, '-CAkey', ca.keyFile,
    '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
    '-keyout', keyFile, '-out', certFile, '-days', String(opts.days ?? 365),
    '-subj', subject(opts.commonName, opts.organizations),
  ]);
  const [certPem, keyPem] = await Promise.all([readFile(certFile, "utf8"), readFile(keyFile, "utf8")]);
  return { certFile, keyFile, certPem, keyPem };
}

/** RSA key pair for --service-account-signing-key-file / --service-account-key-file. */
export async function createServiceAccountKeys(dir: string): Promise<{ privateKeyFile: string; publicKeyFile: string }> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)("rsa", {
    modulusLength: 2048,
    privateKeyEncoding: { type: "pkcs8", format: "pem" },
    publicKeyEncoding: { type: "spki", format: "pem" },
  });
  const privateKeyFile = join(dir, "service-account.key");
  const publicKeyFile = join(dir, "service-account.pub");
  await Promise.all([writeFile(privateKeyFile, privateKey, { mode: 0o600 }), writeFile(publicKeyFile, publicKey)]);
  return { privateKeyFile, publicKeyFile };
}
