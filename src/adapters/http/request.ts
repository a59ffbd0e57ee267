// HTTP auth subrequest -> CheckInput. Three proxies describe the original request three ways:
//   nginx auth_request:   X-Original-URI (+ X-Original-Method), set by proxy_set_header;
//   Traefik forwardAuth:  X-Forwarded-Uri, X-Forwarded-Method, X-Forwarded-Host;
//   Envoy http_service:   the subrequest's own method and path, behind an optional prefix.
// The first two are recognised by their headers; anything else is read the Envoy way. The
// proxy sets these headers itself, so they describe the original request, not the client's claim.
import type { IncomingHttpHeaders } from "node:http";
import type { CheckInput } from "../../core/types.ts";

export interface SubrequestOptions {
  /** Envoy http_service `path_prefix`, stripped from the subrequest path. */
  pathPrefix: string;
}

export type ConvertedSubrequest = { ok: true; input: CheckInput; style: Style } | { ok: false; reason: string };
export type Style = "nginx" | "traefik" | "envoy";

export function toCheckInput(method: string, url: string, raw: IncomingHttpHeaders, options: SubrequestOptions): ConvertedSubrequest {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(",") : value);
  }
  // A subrequest carries neither the peer's certificate nor a mesh identity nor route extensions.
  const base = {
    headers,
    peerCertificate: "",
    sourcePrincipal: "",
    contextExtensions: new Map(),
    requestId: headers.get("x-request-id") ?? "",
  };
  const originalUri = headers.get("x-original-uri");
  if (originalUri !== undefined) {
    return {
      ok: true,
      style: "nginx",
      input: { ...base, method: headers.get("x-original-method") ?? "GET", target: originalUri, host: headers.get("host") ?? "" },
    };
  }
  const forwardedUri = headers.get("x-forwarded-uri");
  if (forwardedUri !== undefined) {
    const forwardedMethod = headers.get("x-forwarded-method");
    if (!forwardedMethod) return { ok: false, reason: "X-Forwarded-Uri without X-Forwarded-Method" };
    return {
      ok: true,
      style: "traefik",
      input: { ...base, method: forwardedMethod, target: forwardedUri, host: headers.get("x-forwarded-host") ?? "" },
    };
  }
  if (options.pathPrefix && !url.startsWith(options.pathPrefix)) {
    return { ok: false, reason: `path does not start with --http-path-prefix ${options.pathPrefix}` };
  }
  const target = url.slice(options.pathPrefix.length) || "/";
  return { ok: true, style: "envoy", input: { ...base, method, target, host: headers.get("host") ?? "" } };
}
