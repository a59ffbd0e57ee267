// Calls Check the way Envoy does: a real gRPC client built from Envoy's OFFICIAL protos (shipped
// in @grpc/grpc-js-xds), so every integration test also proves wire compatibility.
import { fileURLToPath } from "node:url";
import { type ChannelCredentials, type Client, credentials, loadPackageDefinition, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";

const DEPS = fileURLToPath(new URL("../../node_modules/@grpc/grpc-js-xds/deps/", import.meta.url));
export const OFFICIAL_INCLUDE_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => DEPS + d);

const definition = loadSync("envoy/service/auth/v3/external_auth.proto", {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  includeDirs: OFFICIAL_INCLUDE_DIRS,
});
// biome-ignore lint/suspicious/noExplicitAny: typed at run time by proto-loader
const AuthorizationClient = (loadPackageDefinition(definition) as any).envoy.service.auth.v3.Authorization;

/** Decodes CheckResponse bytes with Envoy's official protos. */
export function decodeOfficialCheckResponse(bytes: Buffer): CheckResponse {
  const service = definition["envoy.service.auth.v3.Authorization"] as ServiceDefinition;
  return service.Check.responseDeserialize(bytes) as CheckResponse;
}

export interface HttpCheck {
  method?: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  certificate?: string;
  id?: string;
}

/** The CheckResponse as proto-loader decodes it with Envoy's protos. */
export interface CheckResponse {
  status?: { code?: number; message?: string };
  ok_response?: {
    headers?: Array<{ header: { key: string; value: string }; append_action?: string }>;
    headers_to_remove?: string[];
  };
  denied_response?: { status?: { code?: string }; body?: string; headers?: Array<{ header: { key: string; value: string } }> };
  http_response?: string;
  dynamic_metadata?: { fields?: Record<string, { stringValue?: string }> };
}

export interface EnvoyClient {
  check(request: HttpCheck): Promise<CheckResponse>;
  /** Sends a raw CheckRequest object (for malformed requests). */
  checkRaw(request: object): Promise<CheckResponse>;
  close(): void;
}

/**
 * A client of 127.0.0.1:`port`; plaintext unless `channel` says otherwise (TLS tests). grpc-js
 * shares one connection among clients of the same target; `ownConnection` gives this one its own.
 */
export function envoyClient(port: number, channel: ChannelCredentials = credentials.createInsecure(), ownConnection = false): EnvoyClient {
  const options = ownConnection ? { "grpc.use_local_subchannel_pool": 1 } : {};
  const client: Client = new AuthorizationClient(`127.0.0.1:${port}`, channel, options);
  const checkRaw = (request: object) =>
    new Promise<CheckResponse>((resolve, reject) =>
      // biome-ignore lint/suspicious/noExplicitAny: dynamic client
      (client as any).Check(request, { deadline: Date.now() + 15_000 }, (err: Error | null, res: CheckResponse) =>
        err ? reject(err) : resolve(res),
      ),
    );
  return {
    check: (r) => checkRaw(checkRequest(r)),
    checkRaw,
    close: () => client.close(),
  };
}

export function checkRequest(r: HttpCheck): object {
  return {
    attributes: {
      source: {
        address: { socket_address: { address: "127.0.0.1", port_value: 40000 } },
        ...(r.certificate ? { certificate: r.certificate } : {}),
      },
      destination: { address: { socket_address: { address: "127.0.0.1", port_value: 9100 } } },
      request: {
        http: {
          id: r.id ?? "1",
          method: r.method ?? "GET",
          path: r.path,
          host: r.host ?? "node-exporter:9100",
          scheme: "http",
          protocol: "HTTP/1.1",
          headers: { ":method": r.method ?? "GET", ":path": r.path, ":authority": r.host ?? "node-exporter:9100", ...r.headers },
        },
      },
    },
  };
}

/** Decoded HTTP status of a denial, as a number (proto-loader gives Envoy's enum name). */
export const HTTP_STATUS_NAMES: Readonly<Record<string, number>> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  ServiceUnavailable: 503,
};

export function deniedStatus(response: CheckResponse): number | undefined {
  const code = response.denied_response?.status?.code;
  return code === undefined ? undefined : HTTP_STATUS_NAMES[code];
}

export function okHeaders(response: CheckResponse): Record<string, string> {
  return Object.fromEntries((response.ok_response?.headers ?? []).map((h) => [h.header.key, h.header.value]));
}
