// The local RBAC evaluator against the real kube-apiserver: a seeded, generated RBAC world
// (wildcards, resourceNames, subresources, `*`-suffixed URLs, RoleBindings to ClusterRoles,
// ServiceAccounts with and without namespace, aggregated ClusterRoles) is applied to the apiserver
// and fed to the evaluator through both sources: the informers watching that apiserver, and
// manifest files (the apiserver's own bootstrap RBAC dumped as typed lists, plus the generated
// objects as written, aggregation left to the loader). For 10,000 generated requests both local
// answers must equal the apiserver's SubjectAccessReview. Then the apiserver is stopped: the
// informer source keeps deciding from its last state, says how old it is, and catches up after.
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { KubeConfig } from "@kubernetes/client-node";
import { Pool } from "undici";
import { stringify } from "yaml";
import { type ManifestStore, manifestStore } from "../../src/authz/rbac/manifest-store.ts";
import type { Attributes, UserInfo } from "../../src/core/types.ts";
import { type InformerEvent, type RbacInformerStore, rbacInformerStore } from "../../src/kube/rbac-informer.ts";
import { type Case, randomCase } from "../authz/rbac/cases.ts";
import { generateWorld, type KubeObject, NAMESPACES, prng } from "../authz/rbac/world.ts";
import { type ControlPlane, startControlPlane } from "../support/controlplane.ts";
import { eventually } from "../support/eventually.ts";

const SETUP_TIMEOUT = 45 * 60_000; // the very first run builds kube-apiserver and etcd
const SEED = 0x72626163;
const CASES = 10_000;
const CONCURRENCY = 16;
const RBAC_LISTS = ["roles", "clusterroles", "rolebindings", "clusterrolebindings"];

function sarSpec(user: UserInfo, a: Attributes): KubeObject {
  const who = { user: user.name, groups: [...user.groups] };
  if (a.kind === "nonResource") return { ...who, nonResourceAttributes: { path: a.path, verb: a.verb } };
  const { namespace, verb, apiGroup: group, apiVersion: version, resource, subresource, name } = a;
  return { ...who, resourceAttributes: { namespace, verb, group, version, resource, subresource, name } };
}

/** SubjectAccessReviews as the admin over kept-alive connections (cp.subjectAccessReview opens a
 *  new TLS connection per call: fine for a few, slow for ten thousand). */
async function sarClient(cp: ControlPlane) {
  const user = JSON.parse(await readFile(cp.adminKubeconfigPath, "utf8")).users[0].user;
  const [cert, key] = await Promise.all([readFile(user["client-certificate"], "utf8"), readFile(user["client-key"], "utf8")]);
  const api = new Pool(cp.url, { connections: CONCURRENCY, connect: { ca: cp.caPem, cert, key } });
  return {
    async review(spec: KubeObject): Promise<KubeObject> {
      const res = await api.request({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec }),
      });
      const body = (await res.body.json()) as KubeObject;
      assert.equal(res.statusCode, 201, JSON.stringify(body));
      return body.status;
    },
    close: () => api.close(),
  };
}

/** Runs `work` over `items` with at most `limit` at a time, keeping the order of the results. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]);
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

/** What the allows went through, so that a run shows every rule form was exercised. */
function coverage(reasons: Array<string | undefined>): Record<string, number> {
  const counts: Record<string, number> = {};
  const count = (key: string) => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  for (const r of reasons) {
    if (!r) continue;
    const [, binding, roleKind, role, subject] = /^allowed by (\w+) "[^"]*" of (\w+) "([^"]*)" to (\w+)/.exec(r) ?? [];
    count(`${binding} of ${roleKind}`);
    count(`to ${subject}`);
    if (role.includes("-agg-")) count("aggregated ClusterRole");
    if (!role.startsWith("gen-")) count("bootstrap role");
  }
  return counts;
}

describe("local RBAC against the real kube-apiserver", { timeout: SETUP_TIMEOUT + 10 * 60_000 }, () => {
  let cp: ControlPlane;
  let dir: string;
  let informer: RbacInformerStore;
  let files: ManifestStore;
  const events: InformerEvent[] = [];
  const cases: Case[] = [];
  const sarAllowed: boolean[] = [];

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), "kre-rbac-differential-"));
      cp = await startControlPlane();
    },
    { timeout: SETUP_TIMEOUT },
  );

  after(async () => {
    await informer?.stop();
    await cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("loads the same generated world into the apiserver, the informers and manifest files", async () => {
    // What the apiserver has before: its bootstrap policy (and the harness's own identity).
    await mkdir(join(dir, "manifests", "cluster"), { recursive: true });
    for (const list of RBAC_LISTS) {
      const res = await cp.request("GET", `/apis/rbac.authorization.k8s.io/v1/${list}`);
      assert.equal(res.status, 200, res.text);
      await writeFile(join(dir, "manifests", "cluster", `${list}.json`), res.text);
    }

    const world = generateWorld(prng(SEED));
    for (const namespace of NAMESPACES) await cp.createNamespace(namespace);
    await pool(world.objects, 8, (o) => cp.apply(o));
    // As a user writes them: half as YAML documents, half in a `kind: List`.
    const half = Math.ceil(world.manifests.length / 2);
    await writeFile(
      join(dir, "manifests", "generated.yaml"),
      world.manifests
        .slice(0, half)
        .map((o) => stringify(o))
        .join("---\n"),
    );
    await writeFile(
      join(dir, "manifests", "generated-list.json"),
      JSON.stringify({ apiVersion: "v1", kind: "List", items: world.manifests.slice(half) }),
    );
    files = manifestStore(join(dir, "manifests"));

    const kc = new KubeConfig();
    kc.loadFromFile(cp.adminKubeconfigPath);
    informer = rbacInformerStore(kc, { retryMs: { initial: 200, max: 2000 }, observe: (e) => events.push(e) });
    await informer.start();

    const fromCluster = informer.snapshot()?.counts;
    const fromFiles = files.snapshot()?.counts;
    assert.deepEqual(fromCluster, fromFiles, "both sources hold the same objects");
    console.log(`# world: ${JSON.stringify(fromCluster)}, ${world.objects.length} of them generated`);
  });

  it(`decides ${CASES} generated requests exactly as SubjectAccessReview does`, async () => {
    const rng = prng(SEED + 1);
    for (let i = 0; i < CASES; i++) cases.push(randomCase(rng));
    const sar = await sarClient(cp);
    const started = Date.now();
    const statuses = await pool(cases, CONCURRENCY, (c) => sar.review(sarSpec(c.user, c.attributes))).finally(() => sar.close());
    const sarMs = Date.now() - started;

    const differences: string[] = [];
    for (const [i, c] of cases.entries()) {
      const status = statuses[i];
      sarAllowed.push(status.allowed === true);
      assert.notEqual(status.denied, true, "RBAC never denies explicitly");
      const local = informer.snapshot()?.allowedBy(c.user, c.attributes);
      const fromFiles = files.snapshot()?.allowedBy(c.user, c.attributes);
      if ((local !== undefined) !== sarAllowed[i] || (fromFiles !== undefined) !== sarAllowed[i]) {
        differences.push(
          `case ${i}: ${JSON.stringify(sarSpec(c.user, c.attributes))}\n  apiserver: ${status.allowed === true} (${status.reason ?? ""})\n  informer: ${local}\n  manifests: ${fromFiles}`,
        );
      }
    }
    const allowed = sarAllowed.filter(Boolean).length;
    console.log(
      `# ${CASES} SubjectAccessReviews in ${sarMs} ms (${CONCURRENCY} at a time); ${allowed} allowed; ${differences.length} differences`,
    );
    console.log(`# allowed by: ${JSON.stringify(coverage(cases.map((c) => informer.snapshot()?.allowedBy(c.user, c.attributes))))}`);
    for (const d of differences.slice(0, 20)) console.log(d);
    assert.equal(differences.length, 0, `${differences.length} local decisions differ from the apiserver's`);
    // Both answers are common enough for the agreement to mean something.
    assert.ok(allowed > CASES * 0.1 && allowed < CASES * 0.9, `${allowed} allowed of ${CASES}`);
  });

  it("keeps deciding from the last synced state while the apiserver is down, and catches up after", async () => {
    await cp.stopApiserver();
    try {
      await eventually("the informers notice", () => events.some((e) => e.type === "retrying"), { timeoutMs: 30_000 });
      const frozen = informer.syncedAt?.getTime();
      await sleep(1000);
      assert.equal(informer.syncedAt?.getTime(), frozen, "syncedAt stays at the last moment the state was current");
      assert.ok(Date.now() - (frozen ?? 0) >= 1000);
      assert.equal(informer.ready, true);
      for (const [i, c] of cases.slice(0, 2000).entries()) {
        assert.equal(informer.snapshot()?.allowedBy(c.user, c.attributes) !== undefined, sarAllowed[i], `case ${i}`);
      }
    } finally {
      await cp.startApiserver();
    }

    const probe: UserInfo = { name: "outage-probe", uid: "", groups: [], extra: {} };
    const path: Attributes = { kind: "nonResource", verb: "get", path: "/outage-probe" };
    assert.equal(informer.snapshot()?.allowedBy(probe, path), undefined);
    await cp.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "outage-probe" },
      rules: [{ nonResourceURLs: ["/outage-probe"], verbs: ["get"] }],
    });
    await cp.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "outage-probe" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "outage-probe" },
      subjects: [{ kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "outage-probe" }],
    });
    await eventually("the change made after the restart is seen", () => informer.snapshot()?.allowedBy(probe, path) !== undefined, {
      timeoutMs: 60_000,
    });
    await eventually("the state is current again", () => Date.now() - (informer.syncedAt?.getTime() ?? 0) < 200, { timeoutMs: 60_000 });
    assert.ok(events.some((e) => e.type === "resynced"));
  });
});
