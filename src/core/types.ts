// The neutral vocabulary of one Check. Nothing here knows gRPC, HTTP or the Kubernetes client:
// adapters translate their protocol into CheckInput and a CheckResult back.

/** One request to decide, as any proxy can describe it. */
export interface CheckInput {
  /** HTTP method, upper case as sent (GET, POST, ...). */
  method: string;
  /** The request target as received: path, optionally followed by `?query`. */
  target: string;
  /** The :authority / Host of the request, informational. */
  host: string;
  /** Request headers, names lower case. A repeated header arrives joined by `,`. */
  headers: ReadonlyMap<string, string>;
  /** The peer's certificate as Envoy passes it: URL-encoded PEM; empty when none. */
  peerCertificate: string;
  /** The peer's identity as the proxy established it (Envoy's source.principal, e.g. a SPIFFE id). */
  sourcePrincipal: string;
  /** Per-route values the proxy attached (Envoy's context_extensions). */
  contextExtensions: ReadonlyMap<string, string>;
  /** Id of the request for correlation (Envoy's x-request-id); empty when none. */
  requestId: string;
  /** Set when the adapter could not read the request: the engine answers 400 with it. */
  problem?: string;
}

/** An authenticated caller, shaped like k8s.io/apiserver's user.Info. */
export interface UserInfo {
  name: string;
  uid: string;
  groups: readonly string[];
  extra: Readonly<Record<string, readonly string[]>>;
}

/** What is being asked for: either a non-resource URL or a Kubernetes resource. */
export type Attributes = NonResourceAttributes | ResourceAttributes;

export interface NonResourceAttributes {
  kind: "nonResource";
  verb: string;
  path: string;
}

export interface ResourceAttributes {
  kind: "resource";
  verb: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
}

/** HTTP status codes this service answers with, and what they mean. */
export type DenyStatus = 400 | 401 | 403 | 404 | 503;

export type CheckResult = Allowed | Denied;

export interface Allowed {
  allowed: true;
  status: 200;
  /** The profile that decided, when the configuration has profiles. */
  profile?: string;
  /** Why it was allowed, for the decision log. */
  reason: string;
  user?: UserInfo;
  /** Headers the proxy must set upstream, overwriting any the client sent. */
  headersToSet: ReadonlyArray<readonly [string, string]>;
  /** Header names the proxy must remove before forwarding. */
  headersToRemove: readonly string[];
}

export interface Denied {
  allowed: false;
  status: DenyStatus;
  profile?: string;
  /** Short text for the response body; never holds a credential. */
  body: string;
  /** The body and, for the decision log, why; never holds a credential. */
  reason: string;
  user?: UserInfo;
}
