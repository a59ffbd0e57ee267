// envoy.service.auth.v3.CheckRequest -> CheckInput. A request this cannot fully understand becomes
// an error the caller answers with a deny; nothing here decides anything.
import type { CheckInput } from "../../core/types.ts";

/** The decoded CheckRequest, as far as this adapter reads it (proto-loader keepCase objects). */
export interface CheckRequestMessage {
  attributes?: {
    source?: { certificate?: string; principal?: string };
    context_extensions?: Record<string, string>;
    request?: {
      http?: {
        id?: string;
        method?: string;
        path?: string;
        host?: string;
        headers?: Record<string, string>;
        header_map?: { headers?: Array<{ key?: string; value?: string; raw_value?: Buffer }> };
      };
    };
  };
}

export type ConvertedRequest = { ok: true; input: CheckInput } | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });

export function toCheckInput(message: CheckRequestMessage): ConvertedRequest {
  const http = message.attributes?.request?.http;
  if (!http) return { ok: false, reason: "not an HTTP request (attributes.request.http is missing)" };
  if (!http.path) return { ok: false, reason: "request has no path" };
  const headers = http.header_map?.headers?.length ? fromHeaderMap(http.header_map.headers) : fromHeaderObject(http.headers);
  if (typeof headers === "string") return { ok: false, reason: headers };
  return {
    ok: true,
    input: {
      method: http.method || "",
      target: http.path,
      host: http.host ?? "",
      headers,
      peerCertificate: message.attributes?.source?.certificate ?? "",
      sourcePrincipal: message.attributes?.source?.principal ?? "",
      contextExtensions: new Map(Object.entries(message.attributes?.context_extensions ?? {})),
      requestId: headers.get("x-request-id") ?? http.id ?? "",
    },
  };
}

function fromHeaderObject(headers: Record<string, string> | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (headers) for (const name in headers) map.set(name.toLowerCase(), headers[name]);
  return map;
}

/** Envoy's `encode_raw_headers` form: values may be raw bytes, repeated names are joined. */
function fromHeaderMap(entries: ReadonlyArray<{ key?: string; value?: string; raw_value?: Buffer }>): Map<string, string> | string {
  const map = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.key) continue;
    let value = entry.value ?? "";
    if (entry.raw_value?.length) {
      try {
        value = utf8.decode(entry.raw_value);
      } catch {
        return `header ${JSON.stringify(entry.key)} is not valid UTF-8`;
      }
    }
    const name = entry.key.toLowerCase();
    const previous = map.get(name);
    map.set(name, previous === undefined ? value : `${previous},${value}`);
  }
  return map;
}
