// deploy/istio, checked structurally: no Istio CRDs or istiod run here, so the CRD schemas are NOT
// checked. The field names of the provider are those of Istio's
// MeshConfig.ExtensionProvider.EnvoyExternalAuthorizationGrpcProvider (istio/api,
// mesh/v1alpha1/config.proto), and the values must agree with deploy/base and the example.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseDocument } from "yaml";
import { type KubeObject, render } from "./kustomize.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

/** Fields of EnvoyExternalAuthorizationGrpcProvider, in their JSON (lowerCamelCase) names. */
const GRPC_PROVIDER_FIELDS = new Set(["service", "port", "timeout", "failOpen", "statusOnError", "includeRequestBodyInCheck"]);
/** The ExtensionProvider oneof members that are ext_authz providers; `name` is the other field. */
const EXT_AUTHZ_PROVIDERS = new Set(["envoyExtAuthzGrpc", "envoyExtAuthzHttp"]);
const NORMALIZATIONS = new Set(["DEFAULT", "NONE", "BASE", "MERGE_SLASHES", "DECODE_AND_MERGE_SLASHES"]);
const POLICY_SPEC_FIELDS = new Set(["selector", "targetRef", "targetRefs", "rules", "action", "provider"]);
const OPERATION_FIELDS = new Set(["hosts", "notHosts", "ports", "notPorts", "methods", "notMethods", "paths", "notPaths"]);

function readYaml(path: string): KubeObject {
  const doc = parseDocument(readFileSync(join(REPO, path), "utf8"), { uniqueKeys: true });
  if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
  return doc.toJS();
}

const base = render(join(REPO, "deploy/base")).map((r) => r.object);
const service = base.find((o) => o.kind === "Service") as KubeObject;
const example = render(join(REPO, "deploy/examples/node-exporter")).map((r) => r.object);
const daemonSet = example.find((o) => o.kind === "DaemonSet") as KubeObject;
const mesh = readYaml("deploy/istio/mesh-config.yaml");
const policy = readYaml("deploy/istio/authorization-policy.yaml");
const providers: KubeObject[] = mesh.spec?.meshConfig?.extensionProviders ?? [];

describe("deploy/istio (structural: Istio's CRD schemas are not checked)", () => {
  test("mesh-config.yaml is an IstioOperator with one ext_authz gRPC provider, of known fields only", () => {
    assert.equal(mesh.apiVersion, "install.istio.io/v1alpha1");
    assert.equal(mesh.kind, "IstioOperator");
    assert.equal(providers.length, 1);
    const [provider] = providers;
    assert.match(provider.name, /^[a-z0-9-]+$/);
    assert.deepEqual(
      Object.keys(provider).filter((k) => k !== "name"),
      ["envoyExtAuthzGrpc"],
      "one provider kind per entry (a oneof)",
    );
    for (const key of Object.keys(provider.envoyExtAuthzGrpc))
      assert.ok(GRPC_PROVIDER_FIELDS.has(key), `envoyExtAuthzGrpc.${key} is a field`);
  });

  test("the provider calls the Service of deploy/base, fails closed and has a timeout", () => {
    const grpc = providers[0].envoyExtAuthzGrpc;
    assert.equal(grpc.service, `${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local`);
    assert.equal(grpc.port, service.spec.ports.find((p: KubeObject) => p.name === "grpc").port);
    assert.equal(grpc.failOpen, false, "failOpen: false, written out");
    assert.match(grpc.timeout, /^\d+(\.\d+)?s$/, "a Duration, e.g. 2s (Istio's default is 600s)");
    assert.ok(Number(grpc.timeout.slice(0, -1)) <= 10);
    assert.match(String(grpc.statusOnError), /^[45]\d\d$/, "statusOnError is an HTTP status, as a string");
  });

  test("paths are normalized with merged slashes, as the Envoy configs do", () => {
    const { normalization } = mesh.spec.meshConfig.pathNormalization;
    assert.ok(NORMALIZATIONS.has(normalization), `${normalization} is a NormalizationType`);
    assert.equal(normalization, "MERGE_SLASHES");
  });

  test("authorization-policy.yaml: a CUSTOM policy naming the provider, for the example's Pods", () => {
    assert.equal(policy.apiVersion, "security.istio.io/v1");
    assert.equal(policy.kind, "AuthorizationPolicy");
    for (const key of Object.keys(policy.spec)) assert.ok(POLICY_SPEC_FIELDS.has(key), `spec.${key} is a field`);
    assert.equal(policy.spec.action, "CUSTOM");
    assert.deepEqual(policy.spec.provider, { name: providers[0].name });
    assert.ok(EXT_AUTHZ_PROVIDERS.has(Object.keys(providers[0]).find((k) => k !== "name") as string));
    assert.equal(policy.metadata.namespace, daemonSet.metadata.namespace);
    const podLabels = daemonSet.spec.template.metadata.labels;
    for (const [k, v] of Object.entries(policy.spec.selector.matchLabels))
      assert.equal(podLabels[k], v, `the selector's ${k} matches the Pods`);
  });

  test("the policy's rules send every path to the provider (a CUSTOM policy lets unmatched requests through)", () => {
    for (const rule of policy.spec.rules) {
      assert.deepEqual(Object.keys(rule).sort(), rule.to ? ["to"] : [], "only `to` (no from/when that would narrow it)");
      for (const to of rule.to ?? []) for (const key of Object.keys(to.operation)) assert.ok(OPERATION_FIELDS.has(key), `operation.${key}`);
    }
    for (const path of ["/metrics", "/", "/debug/pprof/", "/metrics/extra", "/x?y=z"]) {
      assert.ok(
        policy.spec.rules.some((rule: KubeObject) => ruleMatches(rule, path.split("?")[0])),
        `some rule matches ${path}`,
      );
    }
    assert.ok(!ruleMatches({ to: [{ operation: { paths: ["/metrics"] } }] }, "/other"), "the matcher can say no");
  });
});

/** Istio's string match: exact, "prefix*", "*suffix", or "*" (any). */
function stringMatches(pattern: string, value: string): boolean {
  if (pattern === "*") return true;
  if (pattern.endsWith("*")) return value.startsWith(pattern.slice(0, -1));
  if (pattern.startsWith("*")) return value.endsWith(pattern.slice(1));
  return value === pattern;
}

/** A rule matches when one of its `to` operations matches (no `to`: every request). Only paths are modelled. */
function ruleMatches(rule: KubeObject, path: string): boolean {
  if (!rule.to) return true;
  return rule.to.some(({ operation }: KubeObject) => {
    const unsupported = Object.keys(operation).filter((k) => k !== "paths" && k !== "notPaths");
    if (unsupported.length) return false; // narrower than "any path": count it as not matching
    if (operation.paths && !operation.paths.some((p: string) => stringMatches(p, path))) return false;
    if (operation.notPaths?.some((p: string) => stringMatches(p, path))) return false;
    return true;
  });
}
