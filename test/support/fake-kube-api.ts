// An in-process Kubernetes API for fast tests and fault injection: TokenReview and
// SubjectAccessReview over HTTPS with its own CA, behind a kubeconfig the service can load.
// It counts calls and TLS connections, and can be made slow or broken.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCA, issueCert } from "./pki.ts";

export interface FakeUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface SarSpec {
  user?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
  resourceAttributes?: Record<string, string>;
  nonResourceAttributes?: { path?: string; verb?: string };
}

export interface FakeKubeApi {
  url: string;
  kubeconfigPath: string;
  /** token -> user and the audiences it is valid for (empty: the API server's own). */
  tokens: Map<string, { user: FakeUser; audiences?: string[] }>;
  /** Decides SubjectAccessReviews; default: deny everything. */
  authorize: (spec: SarSpec) => { allowed: boolean; reason?: string; denied?: boolean };
  calls: { tokenreviews: number; subjectaccessreviews: number };
  /** Bodies of every SubjectAccessReview received. */
  sars: SarSpec[];
  /** Every TokenRequest received: namespace, ServiceAccount, audiences, expirationSeconds. */
  tokenRequests: Array<{ namespace: string; serviceAccount: string; audiences: string[]; expirationSeconds: number }>;
  tlsConnections: number;
  /** Bearer token the service presented, last seen. */
  lastClientAuthorization: string;
  /** When set, every review answers this HTTP status instead. */
  failWith?: number;
  /** When set, every review answers 201 with this body instead (not a review). */
  garbleWith?: string;
  /** The path of every request received. */
  paths: string[];
  /** Delay before answering, in ms. */
  delayMs: number;
  close(): Promise<void>;
}

const SERVICE_TOKEN = "fake-api-service-account-token";

export async function startFakeKubeApi(): Promise<FakeKubeApi> {
  const dir = await mkdtemp(join(tmpdir(), "kre-fake-api-"));
  const ca = await createCA(dir, "ca");
  const serving = await issueCert(dir, ca, "serving", { commonName: "fake-kube-api", usage: "server", altNames: ["IP:127.0.0.1"] });

  const api: FakeKubeApi = {
    url: "",
    kubeconfigPath: join(dir, "kubeconfig"),
    tokens: new Map(),
    authorize: () => ({ allowed: false }),
    calls: { tokenreviews: 0, subjectaccessreviews: 0 },
    sars: [],
    tokenRequests: [],
    tlsConnections: 0,
    paths: [],
    lastClientAuthorization: "",
    delayMs: 0,
    close: async () => {},
  };

  const server: Server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      api.lastClientAuthorization = req.headers.authorization ?? "";
      api.paths.push(req.url ?? "");
      const answer = (status: number, body: unknown) => {
        const send = () => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (api.delayMs > 0) setTimeout(send, api.delayMs);
        else send();
      };
      if (req.method !== "POST") return answer(405, { kind: "Status", code: 405 });
      if (api.garbleWith !== undefined) return void res.writeHead(201, { "content-type": "application/json" }).end(api.garbleWith);
      const review = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
      if (req.url?.startsWith("/apis/authentication.k8s.io/v1/tokenreviews")) {
        api.calls.tokenreviews++;
        if (api.failWith) return answer(api.failWith, { kind: "Status", code: api.failWith });
        return answer(201, { ...review, status: tokenReviewStatus(api, review.spec ?? {}) });
      }
      if (req.url?.startsWith("/apis/authorization.k8s.io/v1/subjectaccessreviews")) {
        api.calls.subjectaccessreviews++;
        api.sars.push(review.spec);
        if (api.failWith) return answer(api.failWith, { kind: "Status", code: api.failWith });
        const decision = api.authorize(review.spec ?? {});
        return answer(201, { ...review, status: { allowed: decision.allowed, denied: decision.denied, reason: decision.reason ?? "" } });
      }
      const tokenRequest = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)\/token/.exec(req.url ?? "");
      if (tokenRequest) {
        if (api.failWith) return answer(api.failWith, { kind: "Status", code: api.failWith });
        const [, namespace, serviceAccount] = tokenRequest;
        const { audiences = [], expirationSeconds = 3600 } = review.spec ?? {};
        api.tokenRequests.push({ namespace, serviceAccount, audiences, expirationSeconds });
        const token = `minted.${serviceAccount}.${audiences.join("+")}.${api.tokenRequests.length}`;
        const expirationTimestamp = new Date(Date.now() + expirationSeconds * 1000).toISOString();
        return answer(201, { ...review, status: { token, expirationTimestamp } });
      }
      answer(404, { kind: "Status", code: 404 });
    });
  });
  server.on("secureConnection", () => api.tlsConnections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  api.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await writeFile(api.kubeconfigPath, kubeconfig(api.url, ca.certPem, SERVICE_TOKEN));
  api.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(dir, { recursive: true, force: true });
  };
  return api;
}

function tokenReviewStatus(api: FakeKubeApi, spec: { token?: string; audiences?: string[] }) {
  const entry = spec.token ? api.tokens.get(spec.token) : undefined;
  if (!entry) return { authenticated: false, error: "invalid bearer token" };
  const wanted = spec.audiences ?? [];
  const valid = entry.audiences ?? ["https://kubernetes.default.svc"];
  const audiences = wanted.length === 0 ? valid : wanted.filter((a) => valid.includes(a));
  if (audiences.length === 0) return { authenticated: false, error: "token audiences invalid" };
  return { authenticated: true, user: entry.user, audiences };
}

function kubeconfig(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString("base64");
  return `apiVersion: v1
kind: Config
clusters:
- name: fake
  cluster:
    server: ${server}
    certificate-authority-data: ${ca}
users:
- name: service
  user:
    token: ${token}
contexts:
- name: fake
  context:
    cluster: fake
    user: service
current-context: fake
`;
}
