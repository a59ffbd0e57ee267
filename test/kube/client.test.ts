import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { UserInfo } from "../../src/core/types.ts";
import { createKubeClient, type KubeApi, loadKubeConfig, sarSpec, unconfiguredKubeClient } from "../../src/kube/client.ts";
import { KubeApiError, type KubeClient } from "../../src/kube/types.ts";
import { DEPLOYMENT_SCALE, METRICS } from "../support/attributes.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";

const alice: UserInfo = { name: "alice", uid: "uid-a", groups: ["dev", "system:authenticated"], extra: { scopes: ["read", "write"] } };
const metrics = METRICS;
const pods = DEPLOYMENT_SCALE;

/** Asserts that `promise` rejects with a KubeApiError of `code`. */
async function rejectsWithCode(promise: Promise<unknown>, code: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof KubeApiError, String(e));
    assert.equal(e.code, code);
    return true;
  });
}

describe("sarSpec", () => {
  it("asks about a non-resource path with the whole identity", () => {
    assert.deepEqual(sarSpec(alice, metrics), {
      user: "alice",
      uid: "uid-a",
      groups: ["dev", "system:authenticated"],
      extra: { scopes: ["read", "write"] },
      nonResourceAttributes: { path: "/metrics", verb: "get" },
    });
  });

  it("asks about a resource, mapping apiGroup and apiVersion to group and version", () => {
    assert.deepEqual(sarSpec(alice, pods).resourceAttributes, {
      verb: "list",
      namespace: "ns1",
      group: "apps",
      version: "v1",
      resource: "deployments",
      subresource: "scale",
      name: "web",
    });
    assert.equal(sarSpec(alice, pods).nonResourceAttributes, undefined);
  });

  it("leaves out an empty uid", () => {
    assert.equal(sarSpec({ ...alice, uid: "" }, metrics).uid, undefined);
  });

  it("copies groups and extra so the caller's identity is never shared", () => {
    const spec = sarSpec(alice, metrics);
    assert.notEqual(spec.groups, alice.groups);
    assert.notEqual(spec.extra?.scopes, alice.extra.scopes);
  });
});

describe("createKubeClient against the fake API", () => {
  let api: FakeKubeApi;
  let client: KubeClient;
  const observed: Array<[KubeApi, string]> = [];

  before(async () => {
    api = await startFakeKubeApi();
    const kc = loadKubeConfig(api.kubeconfigPath);
    assert.ok(kc);
    client = await createKubeClient(kc, { timeoutMs: 10_000, observe: (a, code) => observed.push([a, code]) });
  });
  after(async () => {
    await client?.close();
    await api?.close();
  });
  beforeEach(() => {
    api.failWith = undefined;
    api.garbleWith = undefined;
    api.delayMs = 0;
    api.sars.length = 0;
    api.tokens.clear();
    observed.length = 0;
  });

  it("maps an authenticated TokenReview to the user and audiences, presenting its own credentials", async () => {
    api.tokens.set("tok-1", {
      user: { username: "system:serviceaccount:ns:sa", uid: "u1", groups: ["system:serviceaccounts"], extra: { k: ["v"] } },
      audiences: ["my-aud"],
    });
    assert.deepEqual(await client.tokenReview("tok-1", ["other", "my-aud"]), {
      authenticated: true,
      audiences: ["my-aud"],
      error: undefined,
      user: { name: "system:serviceaccount:ns:sa", uid: "u1", groups: ["system:serviceaccounts"], extra: { k: ["v"] } },
    });
    assert.equal(api.lastClientAuthorization, "Bearer fake-api-service-account-token");
    assert.deepEqual(observed, [["tokenreviews", "201"]]);
  });

  it("fills a missing uid, groups and extra with empty values", async () => {
    api.tokens.set("tok-2", { user: { username: "bob" } });
    const status = await client.tokenReview("tok-2", []);
    assert.deepEqual(status.user, { name: "bob", uid: "", groups: [], extra: {} });
  });

  it("maps an unauthenticated TokenReview with its error and no user", async () => {
    assert.deepEqual(await client.tokenReview("unknown", []), {
      authenticated: false,
      audiences: undefined,
      error: "invalid bearer token",
      user: undefined,
    });
  });

  it("sends the SubjectAccessReview spec and maps the answer", async () => {
    api.authorize = (spec) => ({ allowed: spec.user === "alice", reason: "fake RBAC" });
    assert.deepEqual(await client.subjectAccessReview(alice, metrics), {
      allowed: true,
      denied: false,
      reason: "fake RBAC",
      evaluationError: "",
    });
    assert.deepEqual(api.sars, [
      {
        user: "alice",
        uid: "uid-a",
        groups: ["dev", "system:authenticated"],
        extra: { scopes: ["read", "write"] },
        nonResourceAttributes: { path: "/metrics", verb: "get" },
      },
    ]);
    assert.deepEqual(observed, [["subjectaccessreviews", "201"]]);
  });

  it("sends resource attributes and omits an empty uid on the wire", async () => {
    api.authorize = () => ({ allowed: false, denied: true, reason: "denied by webhook" });
    assert.deepEqual(await client.subjectAccessReview({ ...alice, uid: "" }, pods), {
      allowed: false,
      denied: true,
      reason: "denied by webhook",
      evaluationError: "",
    });
    const [sent] = api.sars;
    assert.ok(!("uid" in sent), "uid is not sent when empty");
    assert.deepEqual(sent.resourceAttributes, sarSpec(alice, pods).resourceAttributes);
  });

  it("reuses one TLS connection for consecutive calls", async () => {
    const before = api.tlsConnections;
    for (let i = 0; i < 3; i++) await client.subjectAccessReview(alice, metrics);
    assert.ok(api.tlsConnections - before <= 1, `opened ${api.tlsConnections - before} connections`);
  });

  for (const status of [500, 403, 429]) {
    it(`rejects with code "${status}" when the API answers ${status}`, async () => {
      api.failWith = status;
      await rejectsWithCode(client.subjectAccessReview(alice, metrics), String(status));
      await rejectsWithCode(client.tokenReview("t", []), String(status));
      assert.deepEqual(observed, [
        ["subjectaccessreviews", String(status)],
        ["tokenreviews", String(status)],
      ]);
    });
  }

  for (const body of ["<html>proxy error</html>", "null", '"a string"']) {
    it(`rejects with code "invalid" when the API answers 201 with ${body}`, async () => {
      api.garbleWith = body;
      await rejectsWithCode(client.subjectAccessReview(alice, metrics), "invalid");
      assert.deepEqual(observed, [["subjectaccessreviews", "invalid"]]);
    });
  }

  it("sends its requests below the path of a server URL that has one (API proxies)", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "kre-kube-prefix-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      (await readFile(api.kubeconfigPath, "utf8")).replace(`server: ${api.url}`, `server: ${api.url}/k8s/clusters/c-1/`),
    );
    const kc = loadKubeConfig(path);
    assert.ok(kc);
    const proxied = await createKubeClient(kc, { timeoutMs: 10_000 });
    t.after(() => proxied.close());
    // The fake serves no prefix, so it answers 404; what matters is the path it was asked for.
    await rejectsWithCode(proxied.subjectAccessReview(alice, metrics), "404");
    assert.equal(api.paths.at(-1), "/k8s/clusters/c-1/apis/authorization.k8s.io/v1/subjectaccessreviews");
  });

  it('rejects with code "timeout" when the API answers after the timeout', async (t) => {
    const seen: Array<[KubeApi, string]> = [];
    const kc = loadKubeConfig(api.kubeconfigPath);
    assert.ok(kc);
    const impatient = await createKubeClient(kc, { timeoutMs: 100, observe: (a, code) => seen.push([a, code]) });
    t.after(() => impatient.close());
    api.delayMs = 400;
    const started = performance.now();
    await rejectsWithCode(impatient.tokenReview("t", []), "timeout");
    assert.ok(performance.now() - started < 400, "did not wait for the answer");
    assert.deepEqual(seen, [["tokenreviews", "timeout"]]);
  });
});

describe("createKubeClient against an unreachable API", () => {
  let dir: string;
  let client: KubeClient;
  const observed: Array<[KubeApi, string]> = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-kube-unreachable-"));
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n`,
    );
    const kc = loadKubeConfig(path);
    assert.ok(kc);
    client = await createKubeClient(kc, { timeoutMs: 2000, observe: (a, code) => observed.push([a, code]) });
  });
  after(async () => {
    await client?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects with code "network"', async () => {
    await rejectsWithCode(client.subjectAccessReview(alice, metrics), "network");
    assert.deepEqual(observed, [["subjectaccessreviews", "network"]]);
  });
});

describe("loadKubeConfig", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-kubeconfig-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Sets the in-cluster variables (client-node reads process.env) for one test. */
  const inCluster = (t: { after(fn: () => void): void }, host: string | undefined, port: string | undefined) => {
    const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
    const set = (name: string, value: string | undefined) => {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    };
    t.after(() => {
      set("KUBERNETES_SERVICE_HOST", saved.host);
      set("KUBERNETES_SERVICE_PORT", saved.port);
    });
    set("KUBERNETES_SERVICE_HOST", host);
    set("KUBERNETES_SERVICE_PORT", port);
  };

  it("answers undefined without a path outside a cluster", (t) => {
    inCluster(t, undefined, undefined);
    assert.equal(loadKubeConfig(undefined), undefined);
  });

  it("needs both KUBERNETES_SERVICE_HOST and _PORT to use the in-cluster account", (t) => {
    inCluster(t, "10.0.0.1", undefined);
    assert.equal(loadKubeConfig(""), undefined);
  });

  it("uses the in-cluster service account when KUBERNETES_SERVICE_HOST and _PORT are set", (t) => {
    inCluster(t, "10.0.0.1", "443");
    assert.equal(loadKubeConfig(undefined)?.getCurrentCluster()?.server, "https://10.0.0.1:443");
  });

  it("throws for a missing file", () => {
    assert.throws(() => loadKubeConfig(join(dir, "missing")), /ENOENT/);
  });

  it("throws naming the file when it has no current cluster", async () => {
    const path = join(dir, "no-context");
    await writeFile(path, "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n");
    assert.throws(() => loadKubeConfig(path), { message: `${path}: no current cluster` });
  });
});

describe("unconfiguredKubeClient", () => {
  it('rejects every call with code "unconfigured"', async () => {
    await rejectsWithCode(unconfiguredKubeClient.tokenReview("t", []), "unconfigured");
    await rejectsWithCode(unconfiguredKubeClient.subjectAccessReview(alice, metrics), "unconfigured");
    await unconfiguredKubeClient.close();
  });
});
