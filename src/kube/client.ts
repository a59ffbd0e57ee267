// The one module that knows @kubernetes/client-node. It loads the kubeconfig (or the in-cluster
// service account), and calls TokenReview and SubjectAccessReview over ONE kept-alive connection
// pool: client-node 2.x would otherwise build a new undici Agent, and pay a new TLS handshake,
// for every call.
import type { RequestOptions } from "node:https";
import {
  ApiException,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  createConfiguration,
  KubeConfig,
  type RequestContext,
  ServerConfiguration,
  type V1SubjectAccessReviewSpec,
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

  const authentication = {
    getName: () => "kubeconfig with a shared connection pool",
    async applySecurityAuthentication(context: RequestContext) {
      // Asked per call so that rotating credentials (projected tokens, exec plugins) stay fresh.
      const fresh: RequestOptions = {};
      await kc.applyToHTTPSOptions(fresh);
      for (const [name, value] of Object.entries(fresh.headers ?? {})) context.setHeaderParam(name, String(value));
      context.setDispatcher(pool);
      // AbortSignal.timeout takes whole milliseconds; `500us` still gets one.
      context.setSignal(AbortSignal.timeout(Math.max(1, Math.ceil(options.timeoutMs))));
    },
  };
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: authentication },
  });
  const authn = new AuthenticationV1Api(configuration);
  const authz = new AuthorizationV1Api(configuration);
  const core = new CoreV1Api(configuration);

  async function call<T>(api: KubeApi, send: () => Promise<T>): Promise<T> {
    try {
      const result = await send();
      options.observe?.(api, "201");
      return result;
    } catch (error) {
      const failure = toKubeApiError(error, options.timeoutMs);
      options.observe?.(api, failure.code);
      throw failure;
    }
  }

  return {
    async tokenReview(token, audiences): Promise<TokenReviewStatus> {
      const review = await call("tokenreviews", () =>
        authn.createTokenReview({
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences: [...audiences] } },
        }),
      );
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
      const review = await call("subjectaccessreviews", () =>
        authz.createSubjectAccessReview({
          body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: sarSpec(user, attributes) },
        }),
      );
      const status = review.status;
      return {
        allowed: status?.allowed === true,
        denied: status?.denied === true,
        reason: status?.reason ?? "",
        evaluationError: status?.evaluationError ?? "",
      };
    },
    async requestToken(namespace, serviceAccount, audiences, expirationSeconds) {
      const request = await call("serviceaccounts/token", () =>
        core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { audiences: [...audiences], expirationSeconds } },
        }),
      );
      const token = request.status?.token;
      const expiresAt = request.status?.expirationTimestamp ? new Date(request.status.expirationTimestamp).getTime() : Number.NaN;
      if (!token || Number.isNaN(expiresAt)) throw new KubeApiError("invalid", "TokenRequest answered without a token or expiry");
      return { token, expiresAt };
    },
    close: () => pool.close(),
  };
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
  if (error instanceof ApiException) return new KubeApiError(String(error.code), `Kubernetes API answered ${error.code}`);
  const e = error as Error & { cause?: { code?: string } };
  if (e?.name === "TimeoutError" || e?.name === "AbortError") {
    return new KubeApiError("timeout", `Kubernetes API did not answer within ${timeoutMs}ms`);
  }
  const cause = e?.cause?.code ?? e?.name ?? "error";
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
