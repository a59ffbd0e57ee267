// Smoke test of the e2e control plane harness itself: real TokenReview, RBAC
// SubjectAccessReview and x509 client authentication against kube-apiserver.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type ControlPlane, SERVICE_IDENTITY, startControlPlane } from "../support/controlplane.ts";

// The very first run builds kube-apiserver and etcd from source (many minutes).
const TIMEOUT = 45 * 60_000;

describe("e2e control plane", { timeout: TIMEOUT }, () => {
  let cp: ControlPlane;

  before(
    async () => {
      cp = await startControlPlane();
    },
    { timeout: TIMEOUT },
  );

  after(async () => {
    await cp?.stop();
  });

  test("TokenReview authenticates a ServiceAccount token", async () => {
    await cp.createServiceAccount("smoke", "robot");
    const token = await cp.createToken("smoke", "robot", { expirationSeconds: 600 });
    const status = await cp.tokenReview(token);
    assert.equal(status.authenticated, true, JSON.stringify(status));
    assert.equal(status.user.username, "system:serviceaccount:smoke:robot");
    assert.ok(status.user.groups.includes("system:serviceaccounts:smoke"));

    const wrongAudience = await cp.createToken("smoke", "robot", { audiences: ["something-else"] });
    const rejected = await cp.tokenReview(wrongAudience);
    assert.ok(!rejected.authenticated, JSON.stringify(rejected)); // false is omitted from the JSON
  });

  test("SubjectAccessReview follows RBAC changes", async () => {
    const spec = { user: "metrics-reader", nonResourceAttributes: { path: "/metrics", verb: "get" } };
    assert.equal((await cp.subjectAccessReview(spec)).allowed, false);

    await cp.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "smoke-metrics" },
      rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
    });
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "smoke-metrics" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "smoke-metrics" },
      subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "metrics-reader" }],
    };
    await cp.apply(binding);
    // The RBAC authorizer reads through an informer cache: allow a moment to catch up.
    await eventually(async () => assert.equal((await cp.subjectAccessReview(spec)).allowed, true));

    assert.equal(await cp.delete(binding), true);
    assert.equal(await cp.delete(binding), false);
    await eventually(async () => assert.equal((await cp.subjectAccessReview(spec)).allowed, false));
  });

  test("x509 client certificates: trusted CA authenticates, other CA does not", async () => {
    const alice = await cp.signClientCert("alice", ["team-a", "team-b"]);
    const review = await cp.request(
      "POST",
      "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      { as: alice },
    );
    assert.equal(review.status, 201, JSON.stringify(review.body));
    assert.equal(review.body.status.userInfo.username, "alice");
    assert.deepEqual(review.body.status.userInfo.groups, ["team-a", "team-b", "system:authenticated"]);
    // Authenticated but not authorized: 403, not 401.
    assert.equal((await cp.request("GET", "/api/v1/namespaces", undefined, { as: alice })).status, 403);

    // A cert from a CA the apiserver does not trust fails authentication outright
    // (401), it does not fall back to anonymous.
    const mallory = await cp.signClientCert("mallory", ["system:masters"], { ca: "other" });
    assert.equal((await cp.request("GET", "/api/v1/namespaces", undefined, { as: mallory })).status, 401);
  });

  test("service identity can only create TokenReviews and SubjectAccessReviews", async () => {
    const user = `system:serviceaccount:${SERVICE_IDENTITY.namespace}:${SERVICE_IDENTITY.name}`;
    const can = async (group: string, resource: string, verb: string) =>
      (await cp.subjectAccessReview({ user, resourceAttributes: { group, resource, verb } })).allowed;
    assert.equal(await can("authentication.k8s.io", "tokenreviews", "create"), true);
    assert.equal(await can("authorization.k8s.io", "subjectaccessreviews", "create"), true);
    assert.equal(await can("", "secrets", "get"), false);

    const review = await cp.request(
      "POST",
      "/apis/authentication.k8s.io/v1/tokenreviews",
      { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token: "not-a-token" } },
      { as: { token: cp.serviceToken } },
    );
    assert.equal(review.status, 201);
  });

  test("apiserver can be stopped and restarted with its data", async () => {
    await cp.createNamespace("survives-restart");
    await cp.stopApiserver();
    await assert.rejects(cp.request("GET", "/readyz"), /ECONNREFUSED/);
    await cp.startApiserver();
    assert.equal((await cp.request("GET", "/api/v1/namespaces/survives-restart")).status, 200);
  });
});

async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
