// The Kubernetes API calls of every Check: TokenReview, SubjectAccessReview and (egress)
// TokenRequest. @kubernetes/client-node loads the kubeconfig or in-cluster service account and
// supplies the credentials; the three POSTs themselves are plain JSON over ONE kept-alive undici
// pool. Measured on the cold path (bench/): client-node 2.x's generated API classes cost about
// 0.9 ms of CPU per call (fetch, web streams, its ObjectSerializer) and built a new TLS connection
// for every call unless given a dispatcher; undici.request over one pool costs a fraction of that.
import type { RequestOptions } from "node:https";
import {
  type AuthenticationV1TokenRequest,
  KubeConfig,
  type V1SubjectAccessReview,
  type V1SubjectAccessReviewSpec,
  type V1TokenReview,
} from "@kubernetes/client-node";
import { Agent } from "undici";
import type { Attributes, UserInfo } from "../core/types.ts";
import { KubeApiError, type KubeClient, type SubjectAccessReviewStatus, type TokenReviewStatus } from "./types.ts";

export type KubeApi = "tokenreviews" | "subjectaccessreviews" | "serviceaccounts/token";

export interface KubeClientOptions {
  timeoutMs: number;
  /** Told of every finished call with its HTTP status or error code, for metrics. */
  observe?: (api: KubeApi, code: string) => void;
}

/** Where the API is: a kubeconfig file, the in-cluster service account, or nowhere. */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig | undefined {
  const kc = new KubeConfig();
  if (kubeconfigPath) {
    kc.loadFromFile(kubeconfigPath);
    if (!kc.getCurrentCluster()) throw new Error(`${kubeconfigPath}: no current cluster`);
    return kc;
  }
  // loadFromCluster reads the same variables from process.env.
  if (process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT) {
    kc.loadFromCluster();
    return kc;
  }
  return undefined;
}

export async function createKubeClient(kc: KubeConfig, options: KubeClientOptions): Promise<KubeClient> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const server = new URL(cluster.server);
  // A server URL may carry a path (API proxies such as Rancher's); requests go below it.
  const base = server.pathname.replace(/\/$/, "");
  const tls: RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const pool = new Agent({
    connect: {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.servername,
      rejectUnauthorized: tls.rejectUnauthorized,
    },
    keepAliveTimeout: 60_000,
  });

  /** POSTs `body` as JSON and answers the JSON the API returned; any failure is a KubeApiError. */
  async function post<T>(api: KubeApi, path: string, body: object): Promise<T> {
    try {
      // Asked per call so that rotating credentials (projected tokens, exec plugins) stay fresh.
      const fresh: RequestOptions = {};
      await kc.applyToHTTPSOptions(fresh);
      const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
      for (const [name, value] of Object.entries(fresh.headers ?? {})) headers[name] = String(value);
      const response = await pool.request({
        origin: server.origin,
        path: base + path,
        method: "POST",
        headers,
        body: JSON.stringify(body),
        // AbortSignal.timeout takes whole milliseconds; `500us` still gets one.
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs))),
      });
      const text = await response.body.text();
      if (response.statusCode !== 200 && response.statusCode !== 201) {
        throw new KubeApiError(String(response.statusCode), `Kubernetes API answered ${response.statusCode}`);
      }
      const answer = parseObject(text);
      options.observe?.(api, String(response.statusCode));
      return answer as T;
    } catch (error) {
      const failure = toKubeApiError(error, options.timeoutMs);
      options.observe?.(api, failure.code);
      throw failure;
    }
  }

  return {
    async tokenReview(token, audiences): Promise<TokenReviewStatus> {
      const review = await post<V1TokenReview>("tokenreviews", "/apis/authentication.k8s.io/v1/tokenreviews", {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: [...audiences] },
      });
      const status = review.status ?? {};
      const user = status.user;
      return {
        authenticated: status.authenticated === true,
        audiences: status.audiences,
        error: status.error,
        user: user?.username
          ? { name: user.username, uid: user.uid ?? "", groups: (user.groups ?? []).map(intern), extra: user.extra ?? {} }
          : undefined,
      };
    },
    async subjectAccessReview(user, attributes): Promise<SubjectAccessReviewStatus> {
      const review = await post<V1SubjectAccessReview>("subjectaccessreviews", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SubjectAccessReview",
        spec: sarSpec(user, attributes),
      });
      const status = review.status;
      return {
        allowed: status?.allowed === true,
        denied: status?.denied === true,
        reason: status?.reason ?? "",
        evaluationError: status?.evaluationError ?? "",
      };
    },
    async requestToken(namespace, serviceAccount, audiences, expirationSeconds) {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
      const request = await post<AuthenticationV1TokenRequest>("serviceaccounts/token", path, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: [...audiences], expirationSeconds },
      });
      const token = request.status?.token;
      const expiresAt = request.status?.expirationTimestamp ? new Date(request.status.expirationTimestamp).getTime() : Number.NaN;
      if (!token || Number.isNaN(expiresAt)) throw new KubeApiError("invalid", "TokenRequest answered without a token or expiry");
      return { token, expiresAt };
    },
    close: () => pool.close(),
  };
}

/** The API's answer as an object; anything else is not a review we can read. */
function parseObject(text: string): object {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new KubeApiError("invalid", "Kubernetes API answered with invalid JSON");
  }
  if (typeof value !== "object" || value === null) throw new KubeApiError("invalid", "Kubernetes API answered with no object");
  return value;
}

// Every TokenReview answer repeats the same few group names; keeping one copy of each keeps the
// token cache small (bounded, so that no answer can grow it without end).
const interned = new Map<string, string>();
function intern(value: string): string {
  const known = interned.get(value);
  if (known !== undefined) return known;
  if (interned.size < 10_000) interned.set(value, value);
  return value;
}

export function sarSpec(user: UserInfo, a: Attributes): V1SubjectAccessReviewSpec {
  const subject = {
    user: user.name,
    uid: user.uid || undefined,
    groups: [...user.groups],
    extra: Object.fromEntries(Object.entries(user.extra).map(([k, v]) => [k, [...v]])),
  };
  if (a.kind === "nonResource") return { ...subject, nonResourceAttributes: { path: a.path, verb: a.verb } };
  return {
    ...subject,
    resourceAttributes: {
      verb: a.verb,
      namespace: a.namespace,
      group: a.apiGroup,
      version: a.apiVersion,
      resource: a.resource,
      subresource: a.subresource,
      name: a.name,
    },
  };
}

function toKubeApiError(error: unknown, timeoutMs: number): KubeApiError {
  if (error instanceof KubeApiError) return error;
  const e = error as Error & { code?: string; cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return new KubeApiError("timeout", `Kubernetes API did not answer within ${timeoutMs}ms`);
  }
  const cause = e?.cause?.code ?? e?.code ?? e?.name ?? "error";
  return new KubeApiError("network", `Kubernetes API unreachable: ${cause}`);
}

/** The client used when no API is configured: every call fails, so decisions fail closed. */
export const unconfiguredKubeClient: KubeClient = {
  tokenReview: () => Promise.reject(noApi()),
  subjectAccessReview: () => Promise.reject(noApi()),
  requestToken: () => Promise.reject(noApi()),
  close: async () => {},
};

function noApi(): KubeApiError {
  return new KubeApiError("unconfigured", "no Kubernetes API configured (--kubeconfig, or run in a cluster)");
}
