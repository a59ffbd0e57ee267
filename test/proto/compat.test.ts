// Proves that our hand-written ext_authz subset in proto/ is wire compatible
// with Envoy's official protos (shipped in @grpc/grpc-js-xds/deps/):
//   1. schema: every message/field/enum value we define matches the official
//      definition of the same full name (number, type, label, oneof, map),
//      and nothing the official Check request/response can carry is missing;
//   2. wire: rich CheckRequest / CheckResponse values encoded with one schema
//      decode with the other to the same object, and re-encode to the same bytes.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { isAbsolute, join, relative, sep } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import type { MethodDefinition, Options, ServiceDefinition } from "@grpc/proto-loader";
import protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const ourDir = join(repoRoot, "proto");
const depsDir = join(repoRoot, "node_modules", "@grpc", "grpc-js-xds", "deps");
const officialDirs = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(depsDir, d));

const ENTRY = "envoy/service/auth/v3/external_auth.proto";
const SERVICE = "envoy.service.auth.v3.Authorization";
const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";

const loaderOptions: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};
const toObjectOptions: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
};

// ---------------------------------------------------------------- loading

type Check = MethodDefinition<object, object>;

function loadCheck(includeDirs: string[]): { check: Check; service: ServiceDefinition } {
  const pkg = protoLoader.loadSync(ENTRY, { ...loaderOptions, includeDirs });
  const service = pkg[SERVICE] as ServiceDefinition;
  assert.ok(service, `${SERVICE} not found`);
  const check = service.Check as Check;
  assert.ok(check, "Check method not found");
  return { check, service };
}

/** protobufjs Root for reflection, resolving imports against includeDirs. */
function loadRoot(includeDirs: string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string): string => {
    if (isAbsolute(target)) return target;
    for (const dir of includeDirs) {
      const candidate = join(dir, target);
      if (existsSync(candidate)) return candidate;
    }
    return join(includeDirs[0] ?? ".", target); // fails loudly in loadSync
  };
  root.loadSync(ENTRY, { keepCase: true });
  root.resolveAll();
  return root;
}

const official = loadCheck(officialDirs);
const ours = loadCheck([ourDir]);
const officialRoot = loadRoot(officialDirs);
const ourRoot = loadRoot([ourDir]);

// ---------------------------------------------------------------- reflection helpers

type Reflected = protobuf.Type | protobuf.Enum;

/** All message types and enums under `ns`, excluding the bundled google.protobuf ones. */
function definitions(ns: protobuf.NamespaceBase, out: Reflected[] = []): Reflected[] {
  for (const nested of ns.nestedArray) {
    if (nested.fullName === ".google.protobuf") continue;
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Enum) out.push(nested);
    if (nested instanceof protobuf.Type || nested instanceof protobuf.Namespace) definitions(nested, out);
  }
  return out;
}

function kindOf(field: protobuf.Field): string {
  const t = field.resolvedType;
  if (t instanceof protobuf.Enum) return `enum ${t.fullName}`;
  if (t instanceof protobuf.Type) return `message ${t.fullName}`;
  return `scalar ${field.type}`;
}

/** Everything about a field that affects the wire format or the decoded object. */
function fieldShape(field: protobuf.Field): Record<string, unknown> {
  const map = field instanceof protobuf.MapField;
  return {
    id: field.id,
    kind: kindOf(field),
    label: map ? "map" : field.repeated ? "repeated" : "singular",
    mapKey: map ? (field as protobuf.MapField).keyType : undefined,
    packed: field.repeated ? field.packed : undefined,
    oneof: field.partOf ? field.partOf.name : undefined,
    proto3Optional: Boolean(field.options?.proto3_optional),
    deprecated: Boolean(field.options?.deprecated),
  };
}

function lookupOfficial<T extends Reflected>(def: T): T {
  const found = officialRoot.lookup(def.fullName);
  assert.ok(found, `${def.fullName} does not exist in the official Envoy API`);
  assert.equal(found.constructor, def.constructor, `${def.fullName} is a ${def.constructor.name} in ours only`);
  return found as T;
}

// ---------------------------------------------------------------- schema tests

describe("schema: our subset matches the official Envoy API", () => {
  const ourDefs = definitions(ourRoot);

  test("subset defines the expected messages and enums", () => {
    const names = ourDefs.map((d) => d.fullName.slice(1)).sort();
    assert.deepEqual(names, [
      "envoy.config.core.v3.Address",
      "envoy.config.core.v3.EnvoyInternalAddress",
      "envoy.config.core.v3.HeaderMap",
      "envoy.config.core.v3.HeaderValue",
      "envoy.config.core.v3.HeaderValueOption",
      "envoy.config.core.v3.HeaderValueOption.HeaderAppendAction",
      "envoy.config.core.v3.Metadata",
      "envoy.config.core.v3.Pipe",
      "envoy.config.core.v3.QueryParameter",
      "envoy.config.core.v3.SocketAddress",
      "envoy.config.core.v3.SocketAddress.Protocol",
      "envoy.service.auth.v3.AttributeContext",
      "envoy.service.auth.v3.AttributeContext.HttpRequest",
      "envoy.service.auth.v3.AttributeContext.Peer",
      "envoy.service.auth.v3.AttributeContext.Request",
      "envoy.service.auth.v3.AttributeContext.TLSSession",
      "envoy.service.auth.v3.CheckRequest",
      "envoy.service.auth.v3.CheckResponse",
      "envoy.service.auth.v3.DeniedHttpResponse",
      "envoy.service.auth.v3.OkHttpResponse",
      "envoy.type.v3.HttpStatus",
      "envoy.type.v3.StatusCode",
      "google.rpc.Status",
    ]);
  });

  test("every field of ours exists in the official message with the same number, type and label", () => {
    let checked = 0;
    for (const def of ourDefs) {
      if (!(def instanceof protobuf.Type)) continue;
      const off = lookupOfficial(def);
      for (const field of def.fieldsArray) {
        const offField = off.fields[field.name];
        assert.ok(offField, `${def.fullName}.${field.name} does not exist in the official message`);
        assert.deepEqual(fieldShape(field), fieldShape(offField), `${def.fullName}.${field.name} differs`);
        checked++;
      }
      // Our oneofs must be (subsets of) official oneofs of the same name.
      for (const oneof of def.oneofsArray) {
        const offOneof = off.oneofs?.[oneof.name];
        assert.ok(offOneof, `${def.fullName} oneof ${oneof.name} does not exist in the official message`);
        for (const name of oneof.oneof) {
          assert.ok(offOneof.oneof.includes(name), `${def.fullName}.${name} is not in official oneof ${oneof.name}`);
        }
      }
    }
    assert.ok(checked > 50, `only ${checked} fields checked`);
  });

  test("every message of ours is complete (no official field left out)", () => {
    for (const def of ourDefs) {
      if (!(def instanceof protobuf.Type)) continue;
      const off = lookupOfficial(def);
      const missing = off.fieldsArray.filter((f) => !def.fields[f.name]).map((f) => `${f.name} = ${f.id}`);
      assert.deepEqual(missing, [], `${def.fullName} lacks official fields`);
    }
  });

  test("every enum value of ours exists in the official enum with the same number, and none is missing", () => {
    for (const def of ourDefs) {
      if (!(def instanceof protobuf.Enum)) continue;
      const off = lookupOfficial(def);
      for (const [name, value] of Object.entries(def.values)) {
        assert.equal(off.values[name], value, `${def.fullName}.${name}: ours ${value}, official ${off.values[name]}`);
      }
      assert.deepEqual(def.values, off.values, `${def.fullName} value sets differ`);
    }
  });

  test("every type reachable from the official Check request/response is defined in ours", () => {
    const offMethod = officialRoot.lookupService(SERVICE).methods.Check;
    assert.ok(offMethod?.resolvedRequestType && offMethod.resolvedResponseType);
    const seen = new Set<string>();
    const queue: Reflected[] = [offMethod.resolvedRequestType, offMethod.resolvedResponseType];
    while (queue.length > 0) {
      const def = queue.pop() as Reflected;
      if (seen.has(def.fullName)) continue;
      seen.add(def.fullName);
      const mine = ourRoot.lookup(def.fullName);
      assert.ok(mine, `${def.fullName} is reachable from Check but missing from our subset`);
      if (def instanceof protobuf.Type) {
        for (const f of def.fieldsArray) if (f.resolvedType) queue.push(f.resolvedType);
      }
    }
    assert.ok(seen.has(".envoy.config.core.v3.HeaderValueOption.HeaderAppendAction"));
    assert.ok(seen.has(".google.rpc.Status"));
  });

  test("the Check method has the same path, types and streaming in both", () => {
    assert.equal(official.check.path, CHECK_PATH);
    assert.equal(ours.check.path, CHECK_PATH);
    assert.deepEqual(Object.keys(ours.service), Object.keys(official.service));
    for (const key of ["path", "originalName", "requestStream", "responseStream"] as const) {
      assert.equal(ours.check[key], official.check[key], key);
    }
    const a = officialRoot.lookupService(SERVICE).methods.Check;
    const b = ourRoot.lookupService(SERVICE).methods.Check;
    assert.ok(a && b);
    assert.equal(b.resolvedRequestType?.fullName, a.resolvedRequestType?.fullName);
    assert.equal(b.resolvedResponseType?.fullName, a.resolvedResponseType?.fullName);
    assert.equal(Boolean(b.requestStream), Boolean(a.requestStream));
    assert.equal(Boolean(b.responseStream), Boolean(a.responseStream));
  });

  test("our files import nothing but each other and the bundled google/protobuf types", () => {
    assert.ok(ourRoot.files.length >= 6, ourRoot.files.join(", "));
    for (const file of ourRoot.files) {
      if (file.startsWith("google/protobuf/")) continue;
      const rel = relative(ourDir, file);
      assert.ok(!rel.startsWith("..") && !isAbsolute(rel), `${file} is outside proto/`);
    }
    const ourFiles = ourRoot.files.filter((f) => !f.startsWith("google/protobuf/")).map((f) => relative(ourDir, f).split(sep).join("/"));
    assert.deepEqual(ourFiles.sort(), [
      "envoy/config/core/v3/address.proto",
      "envoy/config/core/v3/base.proto",
      "envoy/service/auth/v3/attribute_context.proto",
      "envoy/service/auth/v3/external_auth.proto",
      "envoy/type/v3/http_status.proto",
      "google/rpc/status.proto",
    ]);
  });
});

// ---------------------------------------------------------------- fixtures
// Written in the canonical form that toObject(loaderOptions) produces (int64 as
// strings, enums as names, oneof discriminators present, no defaults), so each
// fixture is also the expected decoding.

// Note: protobufjs bundles the google.protobuf types as JSON descriptors with
// camelCase field names, so even with keepCase the Struct Value fields are
// stringValue/numberValue/... (Any keeps type_url). Same on both sides.
const structType = ourRoot.lookupType("google.protobuf.Struct");
const sampleStruct = {
  fields: {
    user: { stringValue: "system:serviceaccount:default:app", kind: "stringValue" },
    uid: { numberValue: 1001.5, kind: "numberValue" },
    admin: { boolValue: true, kind: "boolValue" },
    nothing: { nullValue: "NULL_VALUE", kind: "nullValue" },
    groups: {
      listValue: {
        values: [
          { stringValue: "system:authenticated", kind: "stringValue" },
          { stringValue: "dev", kind: "stringValue" },
        ],
      },
      kind: "listValue",
    },
    nested: {
      structValue: { fields: { verb: { stringValue: "get", kind: "stringValue" } } },
      kind: "structValue",
    },
  },
};
const structBytes = Buffer.from(structType.encode(structType.fromObject(sampleStruct)).finish());

const pem = [
  "-----BEGIN CERTIFICATE-----",
  "MIIBszCCAVmgAwIBAgIUXfakeTestCertificateOnlyForWireCompatAAAAAAAA",
  "BgNVBAMMBWFsaWNlMRMwEQYDVQQKDApzeXN0ZW06ZGV2cw==",
  "-----END CERTIFICATE-----",
  "",
].join("\n");
const body = '{"kind":"Pod","apiVersion":"v1"}';

const richRequest = {
  attributes: {
    source: {
      address: {
        socket_address: {
          protocol: "TCP",
          address: "10.0.0.12",
          port_value: 53124,
          port_specifier: "port_value",
        },
        address: "socket_address",
      },
      service: "frontend",
      labels: { app: "frontend", "app.kubernetes.io/part-of": "shop" },
      principal: "spiffe://cluster.local/ns/default/sa/frontend",
      certificate: encodeURIComponent(pem),
    },
    destination: {
      address: {
        socket_address: {
          protocol: "UDP",
          address: "::1",
          named_port: "https",
          port_specifier: "named_port",
          resolver_name: "custom",
          ipv4_compat: true,
        },
        address: "socket_address",
      },
      principal: "spiffe://cluster.local/ns/default/sa/backend",
    },
    request: {
      time: { seconds: "1700000000", nanos: 123000000 },
      http: {
        id: "5b0f7e1c-7c39-4b1d-9f0e-3a1f0c9a1d2e",
        method: "POST",
        headers: {
          ":authority": "api.example.com",
          ":method": "POST",
          ":path": "/api/v1/namespaces/default/pods?dryRun=All&fieldManager=kubectl",
          authorization: "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2ln",
          "x-forwarded-for": "10.0.0.12",
          "content-type": "application/json",
        },
        header_map: {
          headers: [
            { key: "authorization", raw_value: Buffer.from("Bearer eyJhbGciOiJSUzI1NiJ9") },
            { key: "x-multi", raw_value: Buffer.from("a") },
            { key: "x-multi", raw_value: Buffer.from([0xff, 0x00, 0x80]) },
            { key: "x-text", value: "plain" },
          ],
        },
        path: "/api/v1/namespaces/default/pods?dryRun=All&fieldManager=kubectl",
        host: "api.example.com",
        scheme: "https",
        query: "unused",
        fragment: "unused-too",
        size: String(body.length),
        protocol: "HTTP/2",
        body,
        raw_body: Buffer.from([0x7b, 0x00, 0xfe, 0x7d]),
      },
    },
    context_extensions: { "authz-mode": "rbac", virtual_host: "kube-api" },
    metadata_context: {
      filter_metadata: { "envoy.filters.http.jwt_authn": sampleStruct },
      typed_filter_metadata: {
        "envoy.filters.http.rbac": {
          type_url: "type.googleapis.com/google.protobuf.Struct",
          value: structBytes,
        },
      },
    },
    route_metadata_context: {
      filter_metadata: {
        "envoy.filters.http.ext_authz": { fields: { route: { stringValue: "pods", kind: "stringValue" } } },
      },
    },
    tls_session: { sni: "api.example.com" },
  },
};

const pipeRequest = {
  attributes: {
    source: { address: { pipe: { path: "/run/envoy/admin.sock", mode: 0o660 }, address: "pipe" } },
    destination: {
      address: {
        envoy_internal_address: {
          server_listener_name: "internal_listener",
          address_name_specifier: "server_listener_name",
          endpoint_id: "ep-1",
        },
        address: "envoy_internal_address",
      },
    },
    request: { http: { method: "GET", path: "/healthz", size: "-1", protocol: "HTTP/1.1" } },
  },
};

const okResponse = {
  status: { code: 0 },
  ok_response: {
    headers: [
      { header: { key: "x-remote-user", value: "alice" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
      { header: { key: "x-remote-group", value: "dev" }, append: { value: true } },
      { header: { key: "x-remote-extra", value: "" }, append: { value: false }, keep_empty_value: true },
      { header: { key: "x-raw", raw_value: Buffer.from([0x01, 0x02]) }, append_action: "ADD_IF_ABSENT" },
    ],
    headers_to_remove: ["authorization", "x-client-cert"],
    dynamic_metadata: { fields: { legacy: { boolValue: true, kind: "boolValue" } } },
    response_headers_to_add: [{ header: { key: "x-authz", value: "allowed" }, append_action: "OVERWRITE_IF_EXISTS" }],
    query_parameters_to_set: [
      { key: "impersonated", value: "true" },
      { key: "empty", value: "" },
    ],
    query_parameters_to_remove: ["access_token", "Token"],
  },
  http_response: "ok_response",
  dynamic_metadata: sampleStruct,
};

const deniedResponse = {
  status: {
    code: 7,
    message: 'forbidden: User "alice" cannot get resource "pods"',
    details: [{ type_url: "type.googleapis.com/google.protobuf.Struct", value: structBytes }],
  },
  denied_response: {
    status: { code: "Forbidden" },
    headers: [
      { header: { key: "content-type", value: "text/plain" }, append: { value: false } },
      { header: { key: "x-authz-reason", value: "rbac" }, append_action: "APPEND_IF_EXISTS_OR_ADD" },
    ],
    body: 'Forbidden: User "alice" cannot get resource "pods" in namespace "default"\n',
  },
  http_response: "denied_response",
  dynamic_metadata: { fields: { decision: { stringValue: "deny", kind: "stringValue" } } },
};

const unauthenticatedResponse = {
  status: { code: 16, message: "Unauthorized" },
  denied_response: {
    status: { code: "Unauthorized" },
    headers: [{ header: { key: "www-authenticate", value: 'Bearer realm="kubernetes"' } }],
  },
  http_response: "denied_response",
};

const requests = { rich: richRequest, pipe: pipeRequest, empty: {} };
const responses = {
  ok: okResponse,
  denied: deniedResponse,
  unauthenticated: unauthenticatedResponse,
  "bare OK": { status: { code: 0 } },
  "status with other code only": { status: { code: 14, message: "upstream unavailable" } },
  empty: {},
};

// ---------------------------------------------------------------- wire helpers

/** Lists every leaf of a decoded object as [path, value] (Buffers are leaves). */
function leaves(value: unknown, path = "$", out: Array<[string, unknown]> = []): Array<[string, unknown]> {
  if (value !== null && typeof value === "object" && !Buffer.isBuffer(value)) {
    const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
    if (entries.length === 0) out.push([path, Array.isArray(value) ? "[]" : "{}"]);
    for (const [k, v] of entries) leaves(v, `${path}.${k}`, out);
  } else {
    out.push([path, value]);
  }
  return out;
}

type Side = { name: string; serialize: (v: object) => Buffer; deserialize: (b: Buffer) => object };

function sides(kind: "request" | "response"): [Side, Side] {
  const side = (name: string, m: Check): Side =>
    kind === "request"
      ? { name, serialize: m.requestSerialize, deserialize: m.requestDeserialize }
      : { name, serialize: m.responseSerialize, deserialize: m.responseDeserialize };
  return [side("official", official.check), side("ours", ours.check)];
}

/** Encodes with one schema, decodes with the other, in both directions. */
function assertWireCompatible(kind: "request" | "response", fixture: object): void {
  const [off, mine] = sides(kind);
  for (const [from, to] of [
    [off, mine],
    [mine, off],
  ] as const) {
    const label = `${from.name} -> ${to.name}`;
    const bytes = Buffer.from(from.serialize(fixture));
    const decoded = to.deserialize(bytes);
    const decodedBySender = from.deserialize(bytes);

    // Field by field, so a failure names the exact path.
    const got = new Map(leaves(decoded));
    const want = leaves(decodedBySender);
    for (const [path, value] of want) {
      assert.ok(got.has(path), `${label}: ${path} missing after decoding`);
      assert.deepEqual(got.get(path), value, `${label}: ${path} differs`);
    }
    assert.equal(got.size, want.length, `${label}: extra fields after decoding`);

    // Whole-object equality with the sender's view and with the fixture itself.
    assert.deepEqual(decoded, decodedBySender, label);
    assert.deepEqual(decoded, fixture, `${label}: decoding does not reproduce the fixture`);

    // Nothing was dropped as unknown: re-encoding with the receiver gives the same bytes.
    assert.ok(Buffer.from(to.serialize(decoded)).equals(bytes), `${label}: re-encoded bytes differ`);
  }
}

/** Records every "Type.field" set anywhere in `obj` (decoded with toObject options). */
function coveredFields(type: protobuf.Type, obj: Record<string, unknown>, out: Set<string>): Set<string> {
  for (const field of type.fieldsArray) {
    const value = obj[field.name];
    if (value === undefined) continue;
    out.add(`${type.fullName.slice(1)}.${field.name}`);
    const sub = field.resolvedType;
    if (!(sub instanceof protobuf.Type) || sub.fullName.startsWith(".google.protobuf.")) continue;
    const items = field instanceof protobuf.MapField ? Object.values(value as object) : field.repeated ? (value as unknown[]) : [value];
    for (const item of items) coveredFields(sub, item as Record<string, unknown>, out);
  }
  return out;
}

// ---------------------------------------------------------------- wire tests

describe("wire: CheckRequest", () => {
  for (const [name, fixture] of Object.entries(requests)) {
    test(`${name} request round-trips official <-> ours`, () => assertWireCompatible("request", fixture));
  }

  test("rich request carries the values the service relies on", () => {
    const bytes = official.check.requestSerialize(richRequest);
    const got = ours.check.requestDeserialize(bytes) as typeof richRequest;
    const http = got.attributes.request.http;
    assert.equal(http.headers.authorization, richRequest.attributes.request.http.headers.authorization);
    assert.equal(http.path, "/api/v1/namespaces/default/pods?dryRun=All&fieldManager=kubectl");
    assert.equal(http.size, String(body.length));
    assert.deepEqual(http.raw_body, Buffer.from([0x7b, 0x00, 0xfe, 0x7d]));
    assert.equal(decodeURIComponent(got.attributes.source.certificate), pem);
    assert.equal(got.attributes.source.address.socket_address.port_value, 53124);
    assert.equal(got.attributes.tls_session.sni, "api.example.com");
    assert.equal(got.attributes.request.time.seconds, "1700000000");
    assert.equal(got.attributes.context_extensions["authz-mode"], "rbac");
  });
});

describe("wire: CheckResponse", () => {
  for (const [name, fixture] of Object.entries(responses)) {
    test(`${name} response round-trips ours <-> official`, () => assertWireCompatible("response", fixture));
  }

  test("denied status 403 is encoded as the number 403 by ours", () => {
    const bytes = ours.check.responseSerialize({ denied_response: { status: { code: "Forbidden" } } });
    const type = officialRoot.lookupType("envoy.service.auth.v3.CheckResponse");
    const msg = type.toObject(type.decode(bytes), { ...toObjectOptions, enums: Number });
    assert.deepEqual(msg, { denied_response: { status: { code: 403 } }, http_response: "denied_response" });
  });

  test("google.rpc.Status details Any survives and its payload decodes", () => {
    const got = official.check.responseDeserialize(ours.check.responseSerialize(deniedResponse)) as typeof deniedResponse;
    const detail = got.status.details[0];
    assert.ok(detail);
    assert.equal(detail.type_url, "type.googleapis.com/google.protobuf.Struct");
    assert.deepEqual(structType.toObject(structType.decode(detail.value), toObjectOptions), sampleStruct);
  });
});

test("fixtures together set every field of every message in our subset", () => {
  const covered = new Set<string>();
  const req = ourRoot.lookupType("envoy.service.auth.v3.CheckRequest");
  const res = ourRoot.lookupType("envoy.service.auth.v3.CheckResponse");
  for (const f of Object.values(requests)) coveredFields(req, f as Record<string, unknown>, covered);
  for (const f of Object.values(responses)) coveredFields(res, f as Record<string, unknown>, covered);
  const all = definitions(ourRoot)
    .filter((d): d is protobuf.Type => d instanceof protobuf.Type)
    .flatMap((t) => t.fieldsArray.map((f) => `${t.fullName.slice(1)}.${f.name}`));
  assert.deepEqual(
    all.filter((f) => !covered.has(f)),
    [],
    "fields never exercised by the wire fixtures",
  );
});
