// Equivalence with the apiserver's own authorizer: a seeded, generated RBAC world (ClusterRoles,
// Roles, both kinds of bindings to ServiceAccounts, users and groups; nonResourceURLs with
// trailing `*`, resources with resourceNames, several namespaces) and a few hundred generated
// requests of ServiceAccounts (tokens) and x509 users (certificates). For every request, the
// service's answer through Envoy's Check API must be exactly what kube-apiserver answers to a
// SubjectAccessReview of the same user, groups and attributes: allow, or 403.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { IssuedCert, KubeObject } from "../support/controlplane.ts";
import { prng } from "../support/prng.ts";
import {
  bearer,
  certificate,
  outcome,
  type PolicyRule,
  pollUntil,
  type RunningService,
  rbac,
  SUITE_TIMEOUT,
  type Subject,
  subjects,
  useControlPlane,
} from "./support.ts";

const SEED = 0x6b726521;
const MIN_CASES = 240;

// --- the world ----------------------------------------------------------------

const NAMESPACES = ["eq-a", "eq-b", "eq-c"] as const;
const SERVICE_ACCOUNTS = [
  ["eq-a", "alpha"],
  ["eq-a", "beta"],
  ["eq-b", "gamma"],
  ["eq-b", "delta"],
] as const;
const X509_USERS: ReadonlyArray<readonly [string, string[]]> = [
  ["eq-alice", ["team-a"]],
  ["eq-bob", ["team-b", "team-a"]],
  ["eq-carol", []],
];

const BINDING_SUBJECTS: Subject[] = [
  ...SERVICE_ACCOUNTS.map(([ns, name]) => subjects.serviceAccount(ns, name)),
  ...X509_USERS.map(([name]) => subjects.user(name)),
  subjects.user("system:serviceaccount:eq-b:gamma"), // a ServiceAccount named as a User
  subjects.group("team-a"),
  subjects.group("team-b"),
  subjects.group("system:serviceaccounts:eq-a"),
  subjects.group("system:serviceaccounts:eq-b"),
];

const URL_RULES = ["/metrics", "/metrics*", "/metrics/*", "/api/v1/label/*", "/logs/*", "/debug/*", "/federate", "/", "/metricsx"];
const PATHS = [
  "/metrics",
  "/metrics/cadvisor",
  "/metricsx",
  "/metrics-extra",
  "/api/v1/query",
  "/api/v1/label/job/values",
  "/healthz",
  "/logs/app.log",
  "/logs",
  "/",
  "/debug/pprof/heap",
  "/federate",
  "/federate/x",
  "/metr%69cs", // percent-encoded: RBAC sees /metrics
];
// Repeats weight the picks; wildcards are kept rare so that they do not grant everyone everything.
const VERBS = ["get", "get", "get", "get", "list", "create", "update", "patch", "delete", "*"];
const RESOURCES = [
  "services/proxy",
  "services/proxy",
  "services/proxy",
  "services",
  "*/proxy",
  "configmaps",
  "configmaps",
  "pods",
  "pods",
  "*",
];
const RESOURCE_NAMES = ["kube-state-metrics", "node-exporter", "cm-a", "cm-b"];
const METHODS = ["GET", "GET", "GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const METHOD_VERB: Record<string, string> = { GET: "get", HEAD: "get", POST: "create", PUT: "update", PATCH: "patch", DELETE: "delete" };
const CONFIGMAP_NAMES = ["cm-a", "cm-b", "cm-c"];

type Rng = ReturnType<typeof prng>;

function nonResourceRule(r: Rng): PolicyRule {
  return { nonResourceURLs: r.some(URL_RULES, 3), verbs: r.chance(0.5) ? ["get"] : r.some(VERBS, 3) };
}

function resourceRule(r: Rng): PolicyRule {
  const rule: PolicyRule = { apiGroups: r.chance(0.15) ? ["*"] : [""], resources: r.some(RESOURCES, 2), verbs: r.some(VERBS, 2) };
  if (r.chance(0.45)) rule.resourceNames = r.some(RESOURCE_NAMES, 2);
  return rule;
}

function generateRbac(r: Rng): KubeObject[] {
  const objects: KubeObject[] = [];
  // As in real clusters: mostly non-resource ClusterRoles bound cluster-wide, mostly resource
  // roles (Roles, or ClusterRoles like "view") bound per namespace; some of each the other way.
  const mostlyNonResource: string[] = [];
  const mostlyResource: string[] = [];
  for (let i = 0; i < 10; i++) {
    const name = `eq-cr-${i}`;
    const nonResourceShare = i < 6 ? 0.8 : 0.2;
    const rules = Array.from({ length: 1 + r.int(3) }, () => (r.chance(nonResourceShare) ? nonResourceRule(r) : resourceRule(r)));
    objects.push(rbac.clusterRole(name, rules));
    (i < 6 ? mostlyNonResource : mostlyResource).push(name);
  }
  for (let i = 0; i < 12; i++) {
    const role = r.chance(0.8) ? r.pick(mostlyNonResource) : r.pick(mostlyResource);
    objects.push(rbac.clusterRoleBinding(`eq-crb-${i}`, role, r.some(BINDING_SUBJECTS, 3)));
  }
  for (const ns of NAMESPACES) {
    const roles = [0, 1, 2].map((i) => `eq-role-${i}`);
    for (const role of roles)
      objects.push(
        rbac.role(
          ns,
          role,
          Array.from({ length: 1 + r.int(2) }, () => resourceRule(r)),
        ),
      );
    for (let i = 0; i < 5; i++) {
      const roleRef = r.chance(0.6)
        ? { kind: "Role" as const, name: r.pick(roles) }
        : { kind: "ClusterRole" as const, name: r.chance(0.8) ? r.pick(mostlyResource) : r.pick(mostlyNonResource) };
      objects.push(rbac.roleBinding(ns, `eq-rb-${i}`, roleRef, r.some(BINDING_SUBJECTS, 3)));
    }
  }
  return objects;
}

// --- the requests ---------------------------------------------------------------

type Instance = "nonResource" | "services" | "configmaps" | "pods";

interface Case {
  /** Index into the subjects: ServiceAccounts first, then x509 users. */
  subject: number;
  instance: Instance;
  method: string;
  /** request.http.path, query included. */
  target: string;
  headers: Record<string, string>;
  /** The attributes every one of which RBAC must allow (one, or one per rewrite value). */
  attributes: KubeObject[];
}

const resourceAttributes = (verb: string, namespace: string, resource: string, subresource: string, name: string): KubeObject => ({
  resourceAttributes: { verb, namespace, group: "", version: "v1", resource, subresource, name },
});

function generateCase(r: Rng): Case {
  const subject = r.int(SERVICE_ACCOUNTS.length + X509_USERS.length);
  const method = r.pick(METHODS);
  const verb = METHOD_VERB[method] ?? "*";
  const roll = r.next();
  if (roll < 0.45) {
    const path = r.pick(PATHS);
    const target = r.chance(0.2) ? `${path}?match[]=up` : path;
    return {
      subject,
      instance: "nonResource",
      method,
      target,
      headers: {},
      attributes: [{ nonResourceAttributes: { path: decodeURIComponent(path), verb } }],
    };
  }
  if (roll < 0.7) {
    // services/proxy kube-state-metrics in the namespace(s) of the query parameter or the header.
    const first = r.pick(NAMESPACES);
    const namespaces = r.chance(0.35) ? [first, r.pick(NAMESPACES.filter((n) => n !== first))] : [first];
    const byHeader = namespaces.length === 1 && r.chance(0.5);
    return {
      subject,
      instance: "services",
      method,
      target: byHeader ? "/metrics" : `/metrics?${namespaces.map((n) => `namespace=${n}`).join("&")}`,
      headers: byHeader ? { "x-namespace": namespaces[0] } : {},
      attributes: namespaces.map((ns) => resourceAttributes(verb, ns, "services", "proxy", "kube-state-metrics")),
    };
  }
  if (roll < 0.85) {
    const name = r.pick(CONFIGMAP_NAMES);
    return {
      subject,
      instance: "configmaps",
      method,
      target: "/config",
      headers: { "x-name": name },
      attributes: [resourceAttributes(verb, "eq-a", "configmaps", "", name)],
    };
  }
  const ns = r.pick(NAMESPACES);
  return {
    subject,
    instance: "pods",
    method,
    target: `/pods?namespace=${ns}`,
    headers: {},
    attributes: [resourceAttributes(verb, ns, "pods", "", "")],
  };
}

const CONFIGS: Record<Exclude<Instance, "nonResource">, string> = {
  services: `authorization:
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: services
    subresource: proxy
    name: kube-state-metrics
  rewrites:
    byQueryParameter:
      name: namespace
    byHttpHeader:
      name: x-namespace
`,
  configmaps: `authorization:
  resourceAttributes:
    namespace: eq-a
    apiVersion: v1
    resource: configmaps
    name: "{{ .Value }}"
  rewrites:
    byHttpHeader:
      name: x-name
`,
  pods: `authorization:
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: pods
  rewrites:
    byQueryParameter:
      name: namespace
`,
};

/** Runs `fn` over `items`, at most `width` at a time, keeping the order of the results. */
async function inBatches<T, R>(items: readonly T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  return out;
}

describe("e2e: equivalence with the apiserver's own SubjectAccessReview", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();
  const services = {} as Record<Instance, RunningService>;
  /** Per subject index: how to present it, and who the apiserver says it is. */
  const identities: Array<{
    label: string;
    headers: Record<string, string>;
    cert?: IssuedCert;
    user: string;
    groups: string[];
    uid?: string;
  }> = [];

  before(async () => {
    const { cp } = e2e;
    const r = prng(SEED);
    for (const ns of NAMESPACES) await cp.createNamespace(ns);
    for (const [ns, name] of SERVICE_ACCOUNTS) await cp.createServiceAccount(ns, name);
    for (const obj of generateRbac(r)) await cp.apply(obj);

    // The RBAC authorizer reads through informers, which deliver the events of a kind in order:
    // once objects applied last are visible, all are.
    await cp.apply(rbac.clusterRole("eq-sentinel", [{ nonResourceURLs: ["/eq-sentinel"], verbs: ["get"] }]));
    await cp.apply(rbac.clusterRoleBinding("eq-sentinel", "eq-sentinel", [subjects.user("eq-sentinel")]));
    await cp.apply(rbac.role("eq-c", "eq-sentinel", [{ apiGroups: [""], resources: ["secrets"], verbs: ["watch"] }]));
    await cp.apply(rbac.roleBinding("eq-c", "eq-sentinel", { kind: "Role", name: "eq-sentinel" }, [subjects.user("eq-sentinel")]));
    for (const spec of [
      { user: "eq-sentinel", nonResourceAttributes: { path: "/eq-sentinel", verb: "get" } },
      { user: "eq-sentinel", resourceAttributes: { namespace: "eq-c", resource: "secrets", verb: "watch" } },
    ]) {
      const allowed = async () => (await cp.subjectAccessReview(spec)).allowed === true;
      await pollUntil("RBAC sentinel visible", allowed, (v) => v, { intervalMs: 50 });
    }

    for (const [ns, name] of SERVICE_ACCOUNTS) {
      const token = await cp.createToken(ns, name);
      const review = await cp.tokenReview(token);
      assert.equal(review.authenticated, true);
      identities.push({
        label: `sa ${ns}/${name}`,
        headers: bearer(token),
        user: review.user.username,
        groups: review.user.groups,
        uid: review.user.uid,
      });
    }
    for (const [cn, orgs] of X509_USERS) {
      const cert = await cp.signClientCert(cn, orgs);
      const res = await cp.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        { as: cert },
      );
      assert.equal(res.status, 201, res.text);
      const info = res.body.status.userInfo;
      identities.push({ label: `x509 ${cn} O=[${orgs}]`, headers: {}, cert, user: info.username, groups: info.groups });
    }

    const common = [`--client-ca-file=${cp.clientCaFile}`];
    const [nonResource, svc, cm, pods] = await Promise.all([
      e2e.startService(common),
      ...(["services", "configmaps", "pods"] as const).map(async (i) =>
        e2e.startService([...common, `--config-file=${await e2e.writeFile(`${i}.yaml`, CONFIGS[i])}`]),
      ),
    ]);
    Object.assign(services, { nonResource, services: svc, configmaps: cm, pods });
  });

  it(`agrees with kube-apiserver on at least ${MIN_CASES} generated requests`, async (t) => {
    const { cp } = e2e;
    const r = prng(SEED ^ 0x9e3779b9);
    const cases: Case[] = [];
    const seen = new Set<string>();
    for (let attempt = 0; cases.length < MIN_CASES && attempt < 20 * MIN_CASES; attempt++) {
      const c = generateCase(r);
      const key = JSON.stringify([c.subject, c.instance, c.method, c.target, c.headers]);
      if (seen.has(key)) continue;
      seen.add(key);
      cases.push(c);
    }
    assert.equal(cases.length, MIN_CASES, "enough distinct cases");

    const describeCase = (c: Case) => {
      const id = identities[c.subject];
      return `${id.label} ${c.method} ${c.target}${Object.keys(c.headers).length ? ` ${JSON.stringify(c.headers)}` : ""} [${c.instance}]`;
    };
    /** The apiserver's answer for each of the case's attributes. */
    const truth = (c: Case) =>
      inBatches(c.attributes, 2, async (a) => {
        const id = identities[c.subject];
        const status = await cp.subjectAccessReview({ user: id.user, groups: id.groups, uid: id.uid, ...a });
        return status.allowed === true && status.denied !== true;
      });

    const before = await inBatches(cases, 16, truth);
    const got = await inBatches(cases, 16, async (c) => {
      const id = identities[c.subject];
      const res = await services[c.instance].check({
        method: c.method,
        path: c.target,
        headers: { ...id.headers, ...c.headers },
        certificate: id.cert ? certificate(id.cert) : undefined,
      });
      return outcome(res);
    });
    const after = await inBatches(cases, 16, truth);
    assert.deepEqual(after, before, "the apiserver's answers did not change during the run (RBAC had settled)");

    const differences: string[] = [];
    const tally: Record<string, { allow: number; deny: number }> = {};
    let mixed = 0; // several values, some allowed and some not: only "every value" gets these right
    cases.forEach((c, i) => {
      const allowed = before[i].every(Boolean);
      if (allowed !== before[i].some(Boolean)) mixed++;
      const want = allowed ? 200 : 403;
      tally[c.instance] ??= { allow: 0, deny: 0 };
      tally[c.instance][allowed ? "allow" : "deny"]++;
      if (got[i] !== want) differences.push(`${describeCase(c)}: service ${got[i]}, apiserver ${want} (${JSON.stringify(c.attributes)})`);
    });
    for (const d of differences) console.log(`DIFFERENCE ${d}`);
    t.diagnostic(`${cases.length} cases, apiserver allow/deny by instance: ${JSON.stringify(tally)}, ${mixed} with mixed values`);
    assert.deepEqual(differences, [], `${differences.length} of ${cases.length} decisions differ from the apiserver's`);

    // The generated world must discriminate: plenty of both answers, on both kinds of attributes.
    const allows = before.filter((answers) => answers.every(Boolean)).length;
    assert.ok(allows >= 30 && cases.length - allows >= 30, `allows ${allows} of ${cases.length}`);
    for (const instance of ["nonResource", "services"] as const) {
      assert.ok(tally[instance].allow >= 5 && tally[instance].deny >= 5, `${instance}: ${JSON.stringify(tally[instance])}`);
    }
    assert.ok(mixed >= 3, `only ${mixed} cases with rewrite values RBAC answers differently`);
  });
});
