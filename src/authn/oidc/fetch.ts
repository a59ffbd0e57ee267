// The one HTTP GET the OIDC authenticator needs (discovery document, key set), over a kept-alive
// pool that trusts --oidc-ca-file instead of the system roots when it is given, as kube-apiserver
// does. Tests inject their own FetchLike.
import { Agent, fetch as undiciFetch } from "undici";

/** The part of a fetch Response the key cache reads. */
export interface FetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** A fetch(); the global one and undici's both fit. */
export type FetchLike = (
  url: string,
  init: { method: "GET"; headers: Record<string, string>; redirect: "manual"; signal: AbortSignal },
) => Promise<FetchResponse>;

export interface HttpsFetcher {
  fetch: FetchLike;
  close(): Promise<void>;
}

/** A fetch over its own connection pool; `caPems` undefined means the system roots. */
export function httpsFetcher(caPems: readonly string[] | undefined): HttpsFetcher {
  const pool = new Agent({ connect: caPems ? { ca: [...caPems] } : {}, keepAliveTimeout: 60_000 });
  return {
    fetch: (url, init) => undiciFetch(url, { ...init, dispatcher: pool }),
    close: () => pool.close(),
  };
}
