// deploy/base and deploy/examples/node-exporter against a REAL kube-apiserver (v1.35, see
// test/support/controlplane.ts): every object passes a server-side dry-run apply with strict field
// validation, the service's Pod passes the "restricted" Pod Security Standard, and the RBAC of the
// manifests, applied for real, is what the service and Prometheus need: the service, started with
// the Deployment's own arguments, lets Prometheus' token read /metrics and nothing else.
//
// The kustomizations are expanded by kustomize.ts (a small subset of kustomize, see there), and
// compared with `kubectl kustomize` when kubectl is installed. No kubelet runs: nothing here pulls
// an image or starts a Pod.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { type ControlPlane, startControlPlane } from "../support/controlplane.ts";
import { envoyClient } from "../support/envoy-client.ts";
import { eventually } from "../support/eventually.ts";
import { runService, type ServiceProcess, startService } from "../support/service-process.ts";
import { type KubeObject, render } from "./kustomize.ts";

// RBAC changes reach the authorizer through a watch: allowed this long.
const RBAC_PROPAGATION = { timeoutMs: 15_000 };

const REPO = fileURLToPath(new URL("../../", import.meta.url));
const DIRS = ["deploy/base", "deploy/examples/node-exporter", "deploy/examples/egress"];
const OVERLAYS = ["deploy/overlays/local-rbac"];
/** The first run builds kube-apiserver and etcd from source (many minutes); later ones take seconds. */
const SETUP_TIMEOUT = 45 * 60_000;
const FIELD_MANAGER = "kube-rbac-extauthz-test";
const DRY_RUN_APPLY = `?dryRun=All&fieldManager=${FIELD_MANAGER}&fieldValidation=Strict&force=true`;
const DRY_RUN_CREATE = "?dryRun=All&fieldValidation=Strict";

/** apiVersion/kind -> [resource, namespaced]: the kinds deploy/ uses (a new kind fails until added). */
const RESOURCES: Record<string, [string, boolean]> = {
  "v1/Namespace": ["namespaces", false],
  "v1/ServiceAccount": ["serviceaccounts", true],
  "v1/Service": ["services", true],
  "v1/ConfigMap": ["configmaps", true],
  "v1/Pod": ["pods", true],
  "apps/v1/Deployment": ["deployments", true],
  "apps/v1/DaemonSet": ["daemonsets", true],
  "policy/v1/PodDisruptionBudget": ["poddisruptionbudgets", true],
  "rbac.authorization.k8s.io/v1/ClusterRole": ["clusterroles", false],
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ["clusterrolebindings", false],
  "rbac.authorization.k8s.io/v1/Role": ["roles", true],
  "rbac.authorization.k8s.io/v1/RoleBinding": ["rolebindings", true],
};

function collectionPath(obj: KubeObject): string {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const known = RESOURCES[key];
  assert.ok(known, `${key} is in the test's kind -> resource mapping`);
  const [resource, namespaced] = known;
  const group = obj.apiVersion.includes("/") ? `/apis/${obj.apiVersion}` : `/api/${obj.apiVersion}`;
  if (!namespaced) return `${group}/${resource}`;
  assert.ok(obj.metadata?.namespace, `${obj.kind} ${obj.metadata?.name} names its namespace (no kustomize namespace: transformer)`);
  return `${group}/namespaces/${obj.metadata.namespace}/${resource}`;
}
const objectPath = (obj: KubeObject) => `${collectionPath(obj)}/${obj.metadata.name}`;
const describeObject = (obj: KubeObject) =>
  `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata?.name}`;

const rendered = Object.fromEntries(DIRS.map((dir) => [dir, render(join(REPO, dir))]));
const objects = (dir: string) => rendered[dir].map((r) => r.object);
const find = (dir: string, kind: string, name?: string): KubeObject => {
  const found = objects(dir).find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.ok(found, `${dir} has a ${kind}${name ? ` ${name}` : ""}`);
  return found;
};
const deployment = find("deploy/base", "Deployment");
const container = deployment.spec.template.spec.containers[0];
const service = find("deploy/base", "Service");

const KUSTOMIZE_VERSION = "v5.8.3";

/**
 * The real kustomize: `kubectl kustomize` where kubectl is installed, else the kustomize binary
 * built once from the Go module proxy into the cache (never skipped).
 */
function realKustomize(): string[] {
  const probe = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (!probe.error && probe.status === 0) return ["kubectl", "kustomize"];
  const dir = join(process.env.KRE_CACHE_DIR ?? join(homedir(), ".cache", "kube-rbac-extauthz"), "tools", `kustomize-${KUSTOMIZE_VERSION}`);
  const bin = join(dir, "kustomize");
  if (!existsSync(bin)) {
    const built = spawnSync("go", ["install", `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
      env: { ...process.env, GOBIN: dir },
      encoding: "utf8",
    });
    assert.equal(built.status, 0, `building kustomize: ${built.stderr}`);
  }
  return [bin, "build"];
}

// ---------------------------------------------------------------------------------------------
describe("deploy/ on its own (no cluster needed)", () => {
  test("the example's envoy.yaml is byte-identical to envoy/node-exporter/envoy.yaml", () => {
    assert.equal(
      readFileSync(join(REPO, "deploy/examples/node-exporter/envoy.yaml"), "utf8"),
      readFileSync(join(REPO, "envoy/node-exporter/envoy.yaml"), "utf8"),
    );
  });

  test("the kustomize subset renders what the real kustomize renders", { timeout: 15 * 60_000 }, () => {
    const kustomize = realKustomize();
    const key = (o: KubeObject) => `${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;
    const sorted = (list: KubeObject[]) => [...list].sort((a, b) => key(a).localeCompare(key(b)));
    for (const dir of DIRS) {
      const out = spawnSync(kustomize[0], [...kustomize.slice(1), join(REPO, dir)], { encoding: "utf8" });
      assert.equal(out.status, 0, `${kustomize.join(" ")} ${dir}: ${out.stderr}`);
      const theirs = parseAllDocuments(out.stdout).map((d) => d.toJS());
      assert.deepEqual(sorted(objects(dir)), sorted(theirs), dir);
    }
  });

  test("the ClusterRole grants exactly create on tokenreviews and subjectaccessreviews", () => {
    const roles = objects("deploy/base").filter((o) => o.kind === "ClusterRole" || o.kind === "Role");
    assert.equal(roles.length, 1, "one role");
    const grants = roles[0].rules.flatMap((r: KubeObject) => {
      assert.equal(r.nonResourceURLs, undefined, "no non-resource URLs");
      assert.equal(r.resourceNames, undefined, "no resourceNames (tokenreviews have none)");
      return r.apiGroups.flatMap((g: string) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${v} ${g}/${res}`)));
    });
    assert.deepEqual(grants.sort(), ["create authentication.k8s.io/tokenreviews", "create authorization.k8s.io/subjectaccessreviews"]);
    const binding = find("deploy/base", "ClusterRoleBinding");
    assert.deepEqual(binding.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: roles[0].metadata.name });
    const sa = find("deploy/base", "ServiceAccount");
    assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    assert.equal(deployment.spec.template.spec.serviceAccountName, sa.metadata.name);
    assert.equal(deployment.metadata.namespace, sa.metadata.namespace);
  });

  test("the Deployment's args are flags that `node src/main.ts --help` lists, in --flag=value form", async () => {
    const help = await runService(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    const known = new Set([...help.stdout.matchAll(/^\s+(--[a-z0-9-]+)/gm)].map((m) => m[1]));
    assert.ok(known.has("--grpc-address") && known.size > 10, `parsed the flag list: ${[...known].join(" ")}`);
    assert.equal(container.command, undefined, "the image's entrypoint (node src/main.ts) runs; args are only flags");
    for (const arg of container.args) {
      assert.match(arg, /^--[a-z0-9-]+(=.*)?$/, `${arg} is a --flag=value`);
      assert.ok(known.has(arg.split("=")[0]), `${arg.split("=")[0]} is listed by --help`);
    }
  });

  test("listen addresses, container ports, probes and Service ports agree", () => {
    const ports = new Map<string, number>(container.ports.map((p: KubeObject) => [p.name, p.containerPort]));
    const flag = (name: string) => container.args.find((a: string) => a.startsWith(`${name}=`))?.split("=")[1];
    assert.equal(flag("--grpc-address"), `0.0.0.0:${ports.get("grpc")}`);
    assert.equal(flag("--metrics-address"), `0.0.0.0:${ports.get("metrics")}`);
    assert.equal(flag("--http-address"), `0.0.0.0:${ports.get("http")}`);
    const servicePorts = service.spec.ports.map((p: KubeObject) => [p.name, p.port, p.targetPort]);
    assert.deepEqual(
      servicePorts,
      [...ports].map(([name, port]) => [name, port, name]),
      "each container port is a Service port of the same name and number",
    );
    assert.equal(service.spec.ports.find((p: KubeObject) => p.name === "grpc").appProtocol, "grpc");
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual(deployment.spec.template.metadata.labels, deployment.spec.selector.matchLabels);
    assert.equal(container.readinessProbe.grpc.port, ports.get("grpc"), "readiness asks grpc.health.v1 on the gRPC port");
    assert.deepEqual(
      container.livenessProbe.grpc,
      { port: ports.get("grpc"), service: "liveness" },
      "liveness asks the always-SERVING health service",
    );
  });

  test("the termination grace period covers the preStop sleep and the service's 10 s drain", () => {
    const spec = deployment.spec.template.spec;
    const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    assert.ok(spec.terminationGracePeriodSeconds > preStop + 10, `${spec.terminationGracePeriodSeconds}s > ${preStop}s + 10s`);
  });

  test("the service's container is locked down", () => {
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.runAsUser, 65532, "the distroless nonroot user");
    assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
    const sc = container.securityContext;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities.drop, ["ALL"]);
    for (const kind of ["requests", "limits"]) {
      assert.ok(container.resources[kind].cpu && container.resources[kind].memory, `resources.${kind} has cpu and memory`);
    }
    assert.doesNotMatch(container.image, /:latest$|^[^:]+$/, "the image has a version tag");
  });

  test("node-exporter listens on loopback only, and Envoy's listener is the Pod's only port", () => {
    const ds = find("deploy/examples/node-exporter", "DaemonSet");
    const pod = ds.spec.template.spec;
    const envoyConfig = parse(readFileSync(join(REPO, "envoy/node-exporter/envoy.yaml"), "utf8"));
    const listener = envoyConfig.static_resources.listeners[0].address.socket_address;
    const upstream = envoyConfig.static_resources.clusters.find((c: KubeObject) => c.name === "node-exporter").load_assignment.endpoints[0]
      .lb_endpoints[0].endpoint.address.socket_address;
    const exporter = pod.containers.find((c: KubeObject) => c.name === "node-exporter");
    const envoy = pod.containers.find((c: KubeObject) => c.name === "envoy");
    assert.ok(
      exporter.args.includes(`--web.listen-address=${upstream.address}:${upstream.port_value}`),
      "node-exporter listens where Envoy sends",
    );
    assert.equal(upstream.address, "127.0.0.1");
    assert.notEqual(pod.hostNetwork, true, "the Pod's loopback, not the node's");
    assert.equal(exporter.ports, undefined, "node-exporter declares no Pod port");
    assert.deepEqual(
      envoy.ports.map((p: KubeObject) => p.containerPort),
      [listener.port_value],
    );
    const svc = find("deploy/examples/node-exporter", "Service");
    assert.deepEqual(
      svc.spec.ports.map((p: KubeObject) => [p.port, envoy.ports.find((c: KubeObject) => c.name === p.targetPort)?.containerPort]),
      [[listener.port_value, listener.port_value]],
    );
    assert.deepEqual(svc.spec.selector, ds.spec.selector.matchLabels);
    // The ConfigMap Envoy mounts is the generated one, and holds envoy.yaml where --config-path reads it.
    const cm = find("deploy/examples/node-exporter", "ConfigMap");
    const volume = pod.volumes.find((v: KubeObject) => v.configMap);
    assert.equal(volume.configMap.name, cm.metadata.name);
    const mount = envoy.volumeMounts.find((m: KubeObject) => m.name === volume.name);
    assert.equal(envoy.args[envoy.args.indexOf("--config-path") + 1], `${mount.mountPath}/envoy.yaml`);
    assert.equal(cm.data["envoy.yaml"], readFileSync(join(REPO, "envoy/node-exporter/envoy.yaml"), "utf8"));
  });
});

// ---------------------------------------------------------------------------------------------
describe("deploy/ against a real kube-apiserver", { timeout: SETUP_TIMEOUT + 5 * 60_000 }, () => {
  let cp: ControlPlane;
  let service: ServiceProcess | undefined;

  before(
    async () => {
      cp = await startControlPlane();
      // A dry run of a namespaced object needs its namespace: create them for real (with their labels,
      // e.g. the Pod Security level).
      for (const dir of DIRS) for (const ns of objects(dir).filter((o) => o.kind === "Namespace")) await cp.apply(ns);
    },
    { timeout: SETUP_TIMEOUT },
  );
  after(async () => {
    const code = await service?.stop();
    await cp?.stop();
    if (service) assert.equal(code, 0, "the service exits 0 on SIGTERM");
  });

  const dryRunApply = (obj: KubeObject) =>
    cp.request("PATCH", `${objectPath(obj)}${DRY_RUN_APPLY}`, obj, { contentType: "application/apply-patch+yaml" });

  for (const dir of DIRS) {
    test(`every object of ${dir} passes a server-side dry-run apply with strict field validation`, async () => {
      const failures: string[] = [];
      for (const { object, source } of rendered[dir]) {
        const res = await dryRunApply(object);
        if (res.status !== 200 && res.status !== 201)
          failures.push(`${describeObject(object)} (${source}): ${res.status} ${res.body.message ?? res.text}`);
        else assert.equal(res.body.kind, object.kind);
      }
      assert.deepEqual(failures, []);
    });
  }

  // Overlays use kustomize features the subset does not implement (a base, patches): the real
  // kustomize renders them.
  for (const overlay of OVERLAYS) {
    test(`every object of ${overlay}, rendered by the real kustomize, passes a strict server-side dry run`, async () => {
      const kustomize = realKustomize();
      const out = spawnSync(kustomize[0], [...kustomize.slice(1), join(REPO, overlay)], { encoding: "utf8" });
      assert.equal(out.status, 0, out.stderr);
      const failures: string[] = [];
      const objs = parseAllDocuments(out.stdout).map((d) => d.toJS() as KubeObject);
      for (const object of objs) {
        const res = await dryRunApply(object);
        if (res.status !== 200 && res.status !== 201)
          failures.push(`${describeObject(object)}: ${res.status} ${res.body.message ?? res.text}`);
      }
      assert.deepEqual(failures, []);
      const args: string[] = objs.find((o) => o.kind === "Deployment")?.spec.template.spec.containers[0].args ?? [];
      assert.ok(args.includes("--authorization-mode=local-then-sar"), `the overlay turns local RBAC on: ${args.join(" ")}`);
    });
  }

  test("strict field validation rejects a typo and a wrong type (so the dry runs above can fail)", async () => {
    const typo = structuredClone(deployment);
    typo.spec.template.spec.containers[0].imagePullPolicyy = "Always";
    let res = await dryRunApply(typo);
    assert.ok(res.status >= 400, `apply: ${res.status}`);
    assert.match(res.body.message, /imagePullPolicyy: field not declared in schema/);
    res = await cp.request("POST", `${collectionPath(typo)}${DRY_RUN_CREATE}`, typo);
    assert.equal(res.status, 400);
    assert.match(res.body.message, /strict decoding error: unknown field "spec\.template\.spec\.containers\[0\]\.imagePullPolicyy"/);

    const wrongType = structuredClone(deployment);
    wrongType.spec.replicas = "two";
    res = await dryRunApply(wrongType);
    assert.ok(res.status >= 400, `apply: ${res.status}`);
    assert.match(res.body.message, /\.spec\.replicas: expected numeric/);
  });

  test("the service's Pod meets the namespace's \"restricted\" Pod Security Standard (and a weaker one is refused)", async () => {
    const namespace = find("deploy/base", "Namespace");
    assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: {
        name: "kube-rbac-extauthz-pss",
        namespace: deployment.metadata.namespace,
        labels: deployment.spec.template.metadata.labels,
      },
      spec: structuredClone(deployment.spec.template.spec),
    };
    let res = await cp.request("POST", `${collectionPath(pod)}${DRY_RUN_CREATE}`, pod);
    assert.equal(res.status, 201, res.body.message);
    pod.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    res = await cp.request("POST", `${collectionPath(pod)}${DRY_RUN_CREATE}`, pod);
    assert.equal(res.status, 403);
    assert.match(res.body.message, /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });

  test("RBAC, applied for real: the service's ServiceAccount may create TokenReviews and SubjectAccessReviews, nothing more", async () => {
    const sa = find("deploy/base", "ServiceAccount");
    const user = { user: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`, groups: saGroups(sa.metadata.namespace) };
    const can = (attrs: KubeObject) => cp.subjectAccessReview({ ...user, resourceAttributes: attrs }).then((s) => s.allowed === true);
    const tokenReviews = { group: "authentication.k8s.io", resource: "tokenreviews", verb: "create" };
    // The harness grants this ServiceAccount the same rights under the same names: remove them, so
    // that what grants them below is deploy/base alone.
    await cp.delete("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/kube-rbac-extauthz");
    await cp.delete("/apis/rbac.authorization.k8s.io/v1/clusterroles/kube-rbac-extauthz");
    await eventually("the harness' grant is gone", async () => !(await can(tokenReviews)), RBAC_PROPAGATION);
    for (const kind of ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]) await cp.apply(find("deploy/base", kind));
    await eventually("deploy/base grants create tokenreviews", () => can(tokenReviews), RBAC_PROPAGATION);
    assert.equal(await can({ group: "authorization.k8s.io", resource: "subjectaccessreviews", verb: "create" }), true);
    for (const denied of [
      { group: "authentication.k8s.io", resource: "tokenreviews", verb: "get" },
      { group: "", resource: "secrets", verb: "get", namespace: sa.metadata.namespace },
      { group: "", resource: "serviceaccounts", verb: "list" },
      { group: "authentication.k8s.io", resource: "serviceaccounts/token", verb: "create" },
      { group: "rbac.authorization.k8s.io", resource: "clusterroles", verb: "escalate" },
    ]) {
      assert.equal(await can(denied), false, `may not ${JSON.stringify(denied)}`);
    }
  });

  test("RBAC, applied for real: Prometheus' ServiceAccount may get /metrics, not other URLs or verbs", async () => {
    const example = "deploy/examples/node-exporter";
    for (const obj of objects(example).filter((o) => ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"].includes(o.kind)))
      await cp.apply(obj);
    const sa = find(example, "ServiceAccount", "prometheus");
    const user = { user: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`, groups: saGroups(sa.metadata.namespace) };
    const can = (path: string, verb: string) =>
      cp.subjectAccessReview({ ...user, nonResourceAttributes: { path, verb } }).then((s) => s.allowed === true);
    await eventually("get /metrics is allowed", () => can("/metrics", "get"), RBAC_PROPAGATION);
    assert.equal(await can("/metrics", "create"), false);
    assert.equal(await can("/debug/pprof/", "get"), false);
    assert.equal(await can("/metrics/extra", "get"), false);
  });

  test("end to end: the service, run with the Deployment's args as its ServiceAccount, lets Prometheus read /metrics only (gRPC and HTTP mode)", async () => {
    // The roles of deploy/base and of the example, for real (the tests above did too; applying is idempotent).
    const rbacKinds = ["ServiceAccount", "ClusterRole", "ClusterRoleBinding"];
    for (const dir of DIRS) for (const obj of objects(dir).filter((o) => rbacKinds.includes(o.kind))) await cp.apply(obj);
    await eventually(
      "Prometheus may get /metrics",
      () =>
        cp
          .subjectAccessReview({
            user: "system:serviceaccount:monitoring:prometheus",
            groups: saGroups("monitoring"),
            nonResourceAttributes: { path: "/metrics", verb: "get" },
          })
          .then((s) => s.allowed === true),
      RBAC_PROPAGATION,
    );
    // The Deployment's args, with every listen address moved to loopback and an ephemeral port,
    // and the kubeconfig of the base ServiceAccount instead of the in-cluster one.
    const args = container.args.map((a: string) => a.replace(/^(--[a-z-]+-address)=.*$/, "$1=127.0.0.1:0"));
    service = await startService([...args, `--kubeconfig=${cp.serviceKubeconfigPath}`]);
    const token = await cp.createToken("monitoring", "prometheus");
    const client = envoyClient(service.grpcPort);
    try {
      const check = async (path: string, headers: Record<string, string> = {}) => (await client.check({ path, headers })).status?.code ?? 0;
      const bearer = { authorization: `Bearer ${token}` };
      assert.equal(await check("/metrics", bearer), 0, "OK");
      assert.equal(await check("/debug/pprof/", bearer), 7, "PERMISSION_DENIED");
      assert.equal(await check("/metrics"), 16, "UNAUTHENTICATED");
      // What envoy/node-exporter/envoy-http-service.yaml sends: path_prefix + the original path.
      const envoyHttp = parse(readFileSync(join(REPO, "envoy/node-exporter/envoy-http-service.yaml"), "utf8"));
      const prefix =
        envoyHttp.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config.http_service
          .path_prefix;
      assert.ok(service.httpPort, "the Deployment's args turn the HTTP mode on");
      const http = (path: string, headers: Record<string, string> = {}) =>
        fetch(`http://127.0.0.1:${service?.httpPort}${prefix}${path}`, { headers }).then((r) => r.status);
      assert.equal(await http("/metrics", bearer), 200);
      assert.equal(await http("/debug/pprof/", bearer), 403);
      assert.equal(await http("/metrics"), 401);
    } finally {
      client.close();
    }
  });
});

/** The groups Kubernetes gives a ServiceAccount's token. */
function saGroups(namespace: string): string[] {
  return ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
}
