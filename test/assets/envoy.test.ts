// Every Envoy config under envoy/ is a valid envoy.config.bootstrap.v3.Bootstrap by Envoy's
// OFFICIAL protos (no Envoy binary runs here: the strict proto3-JSON checker of proto-json.ts stands
// in for Envoy's own loading), fails closed, and names the Service that deploy/base creates.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { render } from "./kustomize.ts";
import { checkMessage, loadProtos } from "./proto-json.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const BOOTSTRAP = "envoy.config.bootstrap.v3.Bootstrap";
/** The bootstrap, and every extension a config may name in "@type" (add a .proto here to use more). */
const PROTOS = [
  "envoy/config/bootstrap/v3/bootstrap.proto",
  "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
  "envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto",
  "envoy/extensions/filters/http/router/v3/router.proto",
  "envoy/extensions/upstreams/http/v3/http_protocol_options.proto",
  "envoy/extensions/transport_sockets/tls/v3/tls.proto",
];
const TYPE = {
  hcm: "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
  extAuthz: "envoy.extensions.filters.http.ext_authz.v3.ExtAuthz",
  router: "envoy.extensions.filters.http.router.v3.Router",
  downstreamTls: "envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
  upstreamTls: "envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext",
  extAuthzPerRoute: "envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute",
  httpProtocolOptions: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
};
/** Envoy's canonical extension names for the types above. */
const EXTENSION_NAME: Record<string, string> = {
  [TYPE.hcm]: "envoy.filters.network.http_connection_manager",
  [TYPE.extAuthz]: "envoy.filters.http.ext_authz",
  [TYPE.router]: "envoy.filters.http.router",
  [TYPE.downstreamTls]: "envoy.transport_sockets.tls",
};
/** Headers that the HTTP mode reads as an nginx / Traefik description of the request. */
const SUBREQUEST_HEADERS = ["x-original-uri", "x-original-method", "x-forwarded-uri", "x-forwarded-method", "x-forwarded-host"];

// biome-ignore lint/suspicious/noExplicitAny: configs are untyped JSON, checked by the proto checker first
type Json = any;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function readYaml(path: string): Json {
  const doc = parseDocument(readFileSync(path, "utf8"), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
  return doc.toJS();
}

const typeOf = (any: Json): string => String(any?.["@type"] ?? "").replace("type.googleapis.com/", "");

function durationSeconds(text: string): number {
  assert.match(text, /^\d+(\.\d+)?s$/, `duration ${text}`);
  return Number(text.slice(0, -1));
}

// What deploy/base says the service is: Service name, namespace and ports; the HTTP path prefix.
const base = render(join(REPO, "deploy/base")).map((r) => r.object);
const only = (kind: string) => {
  const found = base.filter((o) => o.kind === kind);
  assert.equal(found.length, 1, `deploy/base has one ${kind}`);
  return found[0];
};
const service = only("Service");
const deployment = only("Deployment");
const serviceHost = `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`;
const servicePort = (name: string): number => {
  const port = service.spec.ports.find((p: Json) => p.name === name);
  assert.ok(port, `deploy/base/service.yaml has a port named ${name}`);
  return port.port;
};
const deploymentFlag = (flag: string): string | undefined =>
  deployment.spec.template.spec.containers[0].args.find((a: string) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);

/** The egress instance's gRPC port, as deploy/examples/egress documents it. */
const EGRESS_GRPC_PORT = 9000;

const root = loadProtos(PROTOS);
const files = yamlFiles(join(REPO, "envoy"));

describe("Envoy configs under envoy/ (official protos, strict proto3 JSON)", () => {
  test("the folder holds the node-exporter configs: gRPC, mTLS and HTTP service", () => {
    const names = files.map((f) => relative(REPO, f));
    for (const expected of [
      "envoy/node-exporter/envoy.yaml",
      "envoy/node-exporter/envoy-mtls.yaml",
      "envoy/node-exporter/envoy-http-service.yaml",
    ]) {
      assert.ok(names.includes(expected), `${expected} exists (found ${names.join(", ")})`);
    }
  });

  for (const file of files) {
    const name = relative(REPO, file);
    describe(name, () => {
      const config = readYaml(file);
      // Under envoy/egress/: a client's outbound Envoy asking its own egress sidecar.
      const egress = name.startsWith("envoy/egress/");
      const listeners: Json[] = config.static_resources?.listeners ?? [];
      const clusters: Json[] = config.static_resources?.clusters ?? [];
      const chains = listeners.flatMap((l) => l.filter_chains ?? []);
      const hcms = chains.flatMap((c: Json) => c.filters ?? []).filter((f: Json) => typeOf(f.typed_config) === TYPE.hcm);
      const cluster = (clusterName: string) => {
        const found = clusters.find((c) => c.name === clusterName);
        assert.ok(found, `cluster ${clusterName} is defined`);
        return found;
      };
      const endpointsOf = (c: Json) =>
        c.load_assignment.endpoints.flatMap((e: Json) => e.lb_endpoints.map((l: Json) => l.endpoint.address.socket_address));

      test(`is a valid ${BOOTSTRAP}`, () => {
        assert.deepEqual(checkMessage(root, BOOTSTRAP, config), []);
      });

      test("every extension has its canonical name and sits where its kind belongs", () => {
        for (const [i, chain] of chains.entries()) {
          for (const filter of chain.filters ?? []) {
            assert.match(typeOf(filter.typed_config), /^envoy\.extensions\.filters\.network\./, `filter_chains[${i}] network filter`);
            assert.equal(filter.name, EXTENSION_NAME[typeOf(filter.typed_config)], "network filter name");
          }
          if (chain.transport_socket) {
            assert.match(typeOf(chain.transport_socket.typed_config), /^envoy\.extensions\.transport_sockets\./);
            assert.equal(chain.transport_socket.name, EXTENSION_NAME[typeOf(chain.transport_socket.typed_config)]);
          }
        }
        for (const hcm of hcms) {
          for (const filter of hcm.typed_config.http_filters) {
            assert.match(typeOf(filter.typed_config), /^envoy\.extensions\.filters\.http\./, `http filter ${filter.name}`);
            assert.equal(filter.name, EXTENSION_NAME[typeOf(filter.typed_config)], "http filter name");
          }
        }
        for (const c of clusters) {
          for (const [key, options] of Object.entries<Json>(c.typed_extension_protocol_options ?? {})) {
            assert.equal(key, typeOf(options), `cluster ${c.name}: typed_extension_protocol_options key is the type's name`);
          }
        }
      });

      test("the admin interface listens on loopback only", () => {
        if (config.admin?.address) assert.equal(config.admin.address.socket_address.address, "127.0.0.1");
      });

      test("every HTTP connection manager canonicalises paths before authorization", () => {
        assert.ok(hcms.length > 0, "has an HTTP connection manager");
        for (const { typed_config: hcm } of hcms) {
          assert.equal(hcm.normalize_path, true, "normalize_path");
          assert.equal(hcm.merge_slashes, true, "merge_slashes");
          assert.equal(hcm.path_with_escaped_slashes_action, "REJECT_REQUEST", "path_with_escaped_slashes_action");
        }
      });

      test("ext_authz runs before the router, fails closed, speaks V3 and has a timeout", () => {
        for (const { typed_config: hcm } of hcms) {
          const filters = hcm.http_filters.map((f: Json) => typeOf(f.typed_config));
          assert.equal(filters.filter((t: string) => t === TYPE.extAuthz).length, 1, "exactly one ext_authz filter");
          assert.equal(filters.at(-1), TYPE.router, "the router is the last filter");
          const authz = hcm.http_filters.find((f: Json) => typeOf(f.typed_config) === TYPE.extAuthz).typed_config;
          assert.equal(authz.failure_mode_allow, false, "failure_mode_allow: false, written out");
          assert.equal(authz.transport_api_version, "V3");
          const timeout = authz.grpc_service?.timeout ?? authz.http_service?.server_uri?.timeout;
          assert.ok(timeout, "a timeout on the call to the service");
          const seconds = durationSeconds(timeout);
          assert.ok(seconds > 0 && seconds <= 10, `timeout ${timeout} within (0, 10s]: below Prometheus' default scrape timeout`);
          for (const route of hcm.route_config.virtual_hosts.flatMap((v: Json) => v.routes)) {
            // A route may name its profile or audience for the service, never turn it off.
            for (const [name, perRoute] of Object.entries<Json>(route.typed_per_filter_config ?? {})) {
              assert.equal(name, "envoy.filters.http.ext_authz", "only ext_authz has per-route config");
              assert.equal(typeOf(perRoute), TYPE.extAuthzPerRoute);
              assert.equal(perRoute.disabled, undefined, "no route turns ext_authz off");
              assert.ok(perRoute.check_settings?.context_extensions, "a per-route config says something to the service");
            }
            if (route.route) cluster(route.route.cluster);
          }
        }
      });

      test("the service's cluster is the Service of deploy/base, on the right port and protocol", () => {
        for (const { typed_config: hcm } of hcms) {
          const authz = hcm.http_filters.find((f: Json) => typeOf(f.typed_config) === TYPE.extAuthz).typed_config;
          if (authz.grpc_service && egress) {
            // The egress instance is a sidecar of the client: loopback, its --grpc-address.
            const c = cluster(authz.grpc_service.envoy_grpc.cluster_name);
            assert.ok(c.typed_extension_protocol_options?.[TYPE.httpProtocolOptions]?.explicit_http_config?.http2_protocol_options);
            assert.deepEqual(endpointsOf(c), [{ address: "127.0.0.1", port_value: EGRESS_GRPC_PORT }]);
          } else if (authz.grpc_service) {
            const c = cluster(authz.grpc_service.envoy_grpc.cluster_name);
            const options = c.typed_extension_protocol_options?.[TYPE.httpProtocolOptions];
            assert.ok(options?.explicit_http_config?.http2_protocol_options, "gRPC needs HTTP/2 to the service");
            assert.deepEqual(endpointsOf(c), [{ address: serviceHost, port_value: servicePort("grpc") }]);
            assert.equal(c.type, "STRICT_DNS", "a DNS name is resolved, not taken as an IP");
            const tls = c.transport_socket?.typed_config;
            if (tls) {
              assert.equal(typeOf(tls), TYPE.upstreamTls);
              assert.deepEqual(tls.common_tls_context.alpn_protocols, ["h2"], "gRPC over TLS negotiates h2");
              assert.ok(tls.common_tls_context.validation_context?.trusted_ca, "the service's certificate is verified");
              assert.ok(tls.common_tls_context.tls_certificates?.length, "a client certificate for --tls-client-ca-file");
            }
          } else {
            const uri = authz.http_service.server_uri;
            const c = cluster(uri.cluster);
            assert.deepEqual(endpointsOf(c), [{ address: serviceHost, port_value: servicePort("http") }]);
            assert.equal(uri.uri, `http://${serviceHost}:${servicePort("http")}`);
            assert.equal(
              authz.http_service.path_prefix,
              deploymentFlag("--http-path-prefix"),
              "path_prefix is the Deployment's --http-path-prefix",
            );
            assert.ok(deploymentFlag("--http-address"), "the Deployment turns the HTTP mode on");
            const allowed = authz.allowed_headers.patterns.map((p: Json) => p.exact);
            assert.ok(allowed.includes("authorization"), "the caller's Authorization header reaches the service");
            for (const pattern of authz.allowed_headers.patterns) {
              for (const header of SUBREQUEST_HEADERS) {
                assert.ok(!matches(pattern, header), `allowed_headers must not pass ${header} (clients could name another path)`);
              }
            }
            const upstream = authz.http_service.authorization_response.allowed_upstream_headers.patterns.map((p: Json) => p.exact);
            assert.deepEqual(upstream.sort(), ["x-remote-groups", "x-remote-user"]);
          }
        }
      });

      test("the client certificate goes to the service exactly where Envoy requires one", () => {
        for (const [i, chain] of chains.entries()) {
          const tls = chain.transport_socket?.typed_config;
          const requiresCert = typeOf(tls) === TYPE.downstreamTls && tls.require_client_certificate === true;
          if (requiresCert)
            assert.ok(tls.common_tls_context.validation_context?.trusted_ca, "client certificates are verified against a CA");
          for (const filter of chain.filters ?? []) {
            const authz = filter.typed_config.http_filters?.find((f: Json) => typeOf(f.typed_config) === TYPE.extAuthz)?.typed_config;
            if (authz) assert.equal(authz.include_peer_certificate === true, requiresCert, `filter_chains[${i}]: include_peer_certificate`);
          }
        }
      });
    });
  }
});

/** Whether a StringMatcher (exact/prefix/suffix/contains, ignore_case) matches a header name. */
function matches(pattern: Json, header: string): boolean {
  const fold = (s: string) => (pattern.ignore_case ? s.toLowerCase() : s);
  const h = fold(header);
  if (pattern.exact !== undefined) return h === fold(pattern.exact);
  if (pattern.prefix !== undefined) return h.startsWith(fold(pattern.prefix));
  if (pattern.suffix !== undefined) return h.endsWith(fold(pattern.suffix));
  if (pattern.contains !== undefined) return h.includes(fold(pattern.contains));
  return true; // safe_regex and others: assume the worst
}

describe("the proto3-JSON checker can fail", () => {
  const valid = () => readYaml(join(REPO, "envoy/node-exporter/envoy.yaml"));
  const authzOf = (config: Json) =>
    config.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;
  const cases: Array<[string, (config: Json) => void, RegExp]> = [
    [
      "an unknown field",
      (c) => (c.static_resources.clusters[0].conect_timeout = "1s"),
      /clusters\[0\]\.conect_timeout: unknown field .*did you mean connect_timeout/,
    ],
    [
      "an unknown field inside a typed_config",
      (c) => (authzOf(c).failure_mode_alow = false),
      /ExtAuthz\)\.failure_mode_alow: unknown field/,
    ],
    [
      "a wrong type (a number for a Duration)",
      (c) => (c.static_resources.clusters[0].connect_timeout = 1),
      /connect_timeout: want a duration/,
    ],
    ["a wrong type (a string for a message)", (c) => (c.admin.address = "127.0.0.1:9901"), /admin\.address: want an object/],
    ["a wrong type (an object for a list)", (c) => (c.static_resources.clusters = c.static_resources.clusters[0]), /clusters: want a list/],
    ["a bad Duration string", (c) => (authzOf(c).grpc_service.timeout = "2 seconds"), /grpc_service\.timeout: want a duration/],
    ["a port out of uint32 validation range", (c) => (c.admin.address.socket_address.port_value = 70000), /port_value: must be <= 65535/],
    ["a bool as a string", (c) => (authzOf(c).failure_mode_allow = "false"), /failure_mode_allow: want true or false/],
    ["a bad enum name", (c) => (c.static_resources.clusters[0].type = "STATICK"), /type: unknown value "STATICK" of enum/],
    ["an enum number instead of its name", (c) => (authzOf(c).transport_api_version = 2), /transport_api_version: want an enum name/],
    ["a deprecated enum value", (c) => (authzOf(c).transport_api_version = "V2"), /ApiVersion\.V2 is deprecated/],
    ["a deprecated field", (c) => (c.static_resources.clusters[1].http2_protocol_options = {}), /http2_protocol_options is deprecated/],
    [
      "an unknown @type",
      (c) => (authzOf(c)["@type"] = "type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuth"),
      /unknown @type envoy\.extensions\.filters\.http\.ext_authz\.v3\.ExtAuth/,
    ],
    ["an Any without type.googleapis.com/", (c) => (authzOf(c)["@type"] = TYPE.extAuthz), /"@type" must be type\.googleapis\.com/],
    [
      "a missing required field (PGV min_len)",
      (c) => delete authzOf(c).grpc_service.envoy_grpc.cluster_name,
      /envoy_grpc\.cluster_name: required/,
    ],
    [
      "two members of one oneof",
      (c) =>
        (c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].direct_response =
          { status: 404 }),
      /at most one of oneof action/,
    ],
    [
      "a lowerCamelCase name",
      (c) => (c.static_resources.clusters[0].connectTimeout = "1s"),
      /connectTimeout: write the field as connect_timeout/,
    ],
    ["a null (a YAML key with no value)", (c) => (c.admin.address = null), /admin\.address: null/],
  ];
  for (const [what, mutate, expected] of cases) {
    test(`catches ${what}`, () => {
      const config = valid();
      mutate(config);
      const failures = checkMessage(root, BOOTSTRAP, config);
      assert.equal(failures.length, 1, `one failure, got:\n${failures.join("\n")}`);
      assert.match(failures[0], expected);
    });
  }
});
