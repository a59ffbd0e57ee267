// A local OpenID Connect issuer for tests: HTTPS on 127.0.0.1 with its own CA, serving the
// discovery document and the JWKS, signing tokens with keys it can add and rotate, counting
// fetches, and able to be down or to serve a wrong discovery document.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";
import { createCA, issueCert } from "./pki.ts";

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export interface SignOptions {
  /** Default: the current key. */
  key?: SigningKey;
  /** Header alg; default the key's. */
  alg?: string;
  /** Header kid; default the key's; null: no kid. */
  kid?: string | null;
}

/** Claims to set; a claim set to undefined is left out of the token. */
export type ClaimOverrides = Record<string, unknown>;

export interface OidcIssuer {
  /** The issuer URL (https://127.0.0.1:<port><path>), which tokens carry in `iss`. */
  url: string;
  /** PEM file of the CA that signed the server certificate (for --oidc-ca-file). */
  caFile: string;
  /** The audience tokens carry by default. */
  clientId: string;
  fetches: { discovery: number; jwks: number };
  /** false: every request is answered 503. */
  available: boolean;
  /** Merged into the discovery document (e.g. a different `issuer`). */
  discoveryOverrides: Record<string, unknown>;
  /** Keys published in the JWKS. */
  published: SigningKey[];
  /** The key sign() uses by default. */
  current: SigningKey;
  /** A new key, not published unless `publish`. */
  newKey(options?: { alg?: string; kid?: string; publish?: boolean }): Promise<SigningKey>;
  /** A new current key; the old ones are unpublished unless `keepOld`. */
  rotate(options?: { alg?: string; kid?: string; keepOld?: boolean }): Promise<SigningKey>;
  /** The claims sign() starts from: iss, aud, sub, email, email_verified, groups, iat, exp (1 h). */
  defaultClaims(): JWTPayload;
  sign(overrides?: ClaimOverrides, options?: SignOptions): Promise<string>;
  /** An `alg: none` token (empty signature). */
  unsigned(overrides?: ClaimOverrides): string;
  /** An HS256 token whose HMAC secret is the current key's public key in PEM (key confusion). */
  hmacWithPublicKey(overrides?: ClaimOverrides): Promise<string>;
  close(): Promise<void>;
}

export interface OidcIssuerOptions {
  /** Path after the host, e.g. "/realms/test"; default none. */
  path?: string;
  clientId?: string;
  /** Algorithm of the first key; default RS256. */
  alg?: string;
}

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

export async function startOidcIssuer(options: OidcIssuerOptions = {}): Promise<OidcIssuer> {
  const dir = await mkdtemp(join(tmpdir(), "kre-oidc-"));
  const ca = await createCA(dir, "oidc-ca");
  const tls = await issueCert(dir, ca, "oidc-server", { commonName: "127.0.0.1", usage: "server", altNames: ["IP:127.0.0.1"] });
  const path = options.path ?? "";

  async function makeKey(alg = "RS256", kid: string = randomUUID()): Promise<SigningKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
    return { kid, alg, privateKey, publicKey, publicJwk };
  }

  const first = await makeKey(options.alg);
  const issuer: OidcIssuer = {
    url: "",
    caFile: ca.certFile,
    clientId: options.clientId ?? "kube-rbac-extauthz",
    fetches: { discovery: 0, jwks: 0 },
    available: true,
    discoveryOverrides: {},
    published: [first],
    current: first,
    async newKey(opts = {}) {
      const key = await makeKey(opts.alg, opts.kid);
      if (opts.publish) issuer.published.push(key);
      return key;
    },
    async rotate(opts = {}) {
      const key = await makeKey(opts.alg ?? issuer.current.alg, opts.kid);
      issuer.published = opts.keepOld ? [...issuer.published, key] : [key];
      issuer.current = key;
      return key;
    },
    defaultClaims() {
      const now = Math.floor(Date.now() / 1000);
      return {
        iss: issuer.url,
        aud: issuer.clientId,
        sub: "0b6f1c2e-alice",
        email: "alice@example.com",
        email_verified: true,
        groups: ["dev", "ops"],
        iat: now,
        exp: now + 3600,
      };
    },
    async sign(overrides = {}, opts = {}) {
      const key = opts.key ?? issuer.current;
      const kid = opts.kid === undefined ? key.kid : opts.kid;
      const header = { alg: opts.alg ?? key.alg, typ: "JWT", ...(kid === null ? {} : { kid }) };
      return new SignJWT(claims(overrides)).setProtectedHeader(header).sign(key.privateKey);
    },
    unsigned(overrides = {}) {
      return `${b64url({ alg: "none", typ: "JWT" })}.${b64url(claims(overrides))}.`;
    },
    async hmacWithPublicKey(overrides = {}) {
      const secret = new TextEncoder().encode(await exportSPKI(issuer.current.publicKey));
      return new SignJWT(claims(overrides)).setProtectedHeader({ alg: "HS256", typ: "JWT", kid: issuer.current.kid }).sign(secret);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };

  function claims(overrides: ClaimOverrides): JWTPayload {
    const merged: Record<string, unknown> = { ...issuer.defaultClaims(), ...overrides };
    for (const [name, value] of Object.entries(merged)) if (value === undefined) delete merged[name];
    return merged as JWTPayload;
  }

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    const target = req.url ?? "";
    if (target === `${path}/.well-known/openid-configuration`) issuer.fetches.discovery++;
    else if (target === `${path}/keys`) issuer.fetches.jwks++;
    if (!issuer.available) return send(503, { error: "down" });
    if (target === `${path}/.well-known/openid-configuration`) {
      return send(200, {
        issuer: issuer.url,
        jwks_uri: `${issuer.url}/keys`,
        authorization_endpoint: `${issuer.url}/auth`,
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
        ...issuer.discoveryOverrides,
      });
    }
    if (target === `${path}/keys`) return send(200, { keys: issuer.published.map((k) => k.publicJwk) });
    send(404, { error: "not found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return issuer;
}
