// kube-rbac-proxy's own e2e scenarios Basics, AllowPath, IgnorePath, IdentityHeaders and
// TokenMasking, through Envoy's Check API, against a real kube-apiserver: real ServiceAccount
// tokens, real TokenReview, real RBAC. The service runs as a user runs it, with a kubeconfig that
// may only create TokenReviews and SubjectAccessReviews.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { okHeaders } from "../support/envoy-client.ts";
import {
  assertOutcome,
  bearer,
  METRICS_READER_RULES,
  metricValue,
  nonResourceSpec,
  outcome,
  pollUntil,
  type RunningService,
  rbac,
  SUITE_TIMEOUT,
  saUser,
  subjects,
  useControlPlane,
  waitForRbac,
} from "./support.ts";

const SA_GROUPS = (ns: string) => ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"];

describe("e2e: basics, allow and ignore paths, identity headers", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();

  describe("Basics", () => {
    let svc: RunningService;
    before(async () => {
      // A short deny TTL so that granting access shows within seconds (the default is 30s).
      svc = await e2e.startService(["--authorization-webhook-cache-unauthorized-ttl=1s"]);
    });

    it("denies 401 a request without a token, and one with a token the apiserver does not accept", async () => {
      assertOutcome(await svc.check({ path: "/metrics" }), 401);
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer("not-a-kubernetes-token") }), 401);
      const res = await svc.check({ path: "/metrics", headers: { authorization: "Basic dXNlcjpwYXNz" } });
      assertOutcome(res, 401, "a non-bearer scheme is no credential");
    });

    it("denies 403 a ServiceAccount without RBAC, then allows it after a ClusterRole and ClusterRoleBinding grant get /metrics", async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("basics", "prometheus");
      const token = await cp.createToken("basics", "prometheus");
      const user = saUser("basics", "prometheus");

      const denied = await svc.check({ path: "/metrics", headers: bearer(token) });
      assertOutcome(denied, 403);
      assert.equal(denied.denied_response?.body?.split("\n")[0], `Forbidden (user=${user}, verb=get, path=/metrics)`);
      assert.ok(!JSON.stringify(denied).includes(token), "a denial never holds the token");

      await cp.apply(rbac.clusterRole("basics-metrics-reader", METRICS_READER_RULES));
      await cp.apply(
        rbac.clusterRoleBinding("basics-metrics-reader", "basics-metrics-reader", [subjects.serviceAccount("basics", "prometheus")]),
      );
      await waitForRbac(cp, nonResourceSpec(user, SA_GROUPS("basics"), "/metrics"), true);

      // The deny may still be cached for up to the 1s unauthorized TTL.
      const { value: allowed } = await pollUntil(
        "allowed after the binding",
        () => svc.check({ path: "/metrics", headers: bearer(token) }),
        (r) => outcome(r) === 200,
        { timeoutMs: 10_000 },
      );
      assertOutcome(allowed, 200);
      // TokenMasking: the upstream never sees the caller's token, nor identity headers a client sent.
      assert.deepEqual([...(allowed.ok_response?.headers_to_remove ?? [])].sort(), ["authorization", "x-remote-groups", "x-remote-user"]);
      assert.deepEqual(okHeaders(allowed), {}, "no identity headers without --auth-header-fields-enabled");

      // RBAC granted get only: other verbs and other paths stay forbidden.
      assertOutcome(await svc.check({ path: "/metrics", method: "POST", headers: bearer(token) }), 403);
      assertOutcome(await svc.check({ path: "/metrics", method: "DELETE", headers: bearer(token) }), 403);
      assertOutcome(await svc.check({ path: "/metrics/cadvisor", headers: bearer(token) }), 403);
      // HEAD is get, and the query is not part of the path RBAC sees.
      assertOutcome(await svc.check({ path: "/metrics?name[]=up", method: "HEAD", headers: bearer(token) }), 200);
    });

    it("asks with its own least-privileged identity, not the caller's", async () => {
      const { cp } = e2e;
      // The service's kubeconfig may create reviews and nothing else.
      const sa = saUser("kube-rbac-extauthz", "kube-rbac-extauthz");
      const can = async (attrs: object) => (await cp.subjectAccessReview({ user: sa, resourceAttributes: attrs })).allowed === true;
      assert.equal(await can({ group: "", resource: "secrets", verb: "get" }), false);
      assert.equal(await can({ group: "authorization.k8s.io", resource: "subjectaccessreviews", verb: "create" }), true);
      const metrics = await svc.service.metrics();
      assert.ok(metricValue(metrics, "kube_rbac_extauthz_kube_api_requests_total", { api: "tokenreviews", code: "201" }) > 0, metrics);
      assert.ok(metricValue(metrics, "kube_rbac_extauthz_kube_api_requests_total", { api: "subjectaccessreviews", code: "201" }) > 0);
    });
  });

  describe("AllowPath and IgnorePath", () => {
    let svc: RunningService;
    let token: string;
    let strangerToken: string;
    before(async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("paths", "prometheus");
      await cp.createServiceAccount("paths", "stranger");
      token = await cp.createToken("paths", "prometheus");
      strangerToken = await cp.createToken("paths", "stranger");
      await cp.apply(rbac.clusterRole("paths-reader", [{ nonResourceURLs: ["/metrics", "/api/v1/label/*"], verbs: ["get"] }]));
      await cp.apply(rbac.clusterRoleBinding("paths-reader", "paths-reader", [subjects.serviceAccount("paths", "prometheus")]));
      await waitForRbac(cp, nonResourceSpec(saUser("paths", "prometheus"), SA_GROUPS("paths"), "/api/v1/label/job/values"), true);
      svc = await e2e.startService(["--allow-paths=/metrics,/api/v1/label/*/values", "--ignore-paths=/healthz*"]);
    });

    const apiCalls = async () => {
      const m = await svc.service.metrics();
      return metricValue(m, "kube_rbac_extauthz_kube_api_requests_total", {});
    };

    it("allows a path matching --allow-paths when RBAC allows it", async () => {
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(token) }), 200);
      assertOutcome(await svc.check({ path: "/api/v1/label/job/values", headers: bearer(token) }), 200);
      assertOutcome(await svc.check({ path: "/api/v1/label/__name__/values?match[]=up", headers: bearer(token) }), 200);
    });

    it("still authenticates and authorizes an allowed path: 401 without a token, 403 without RBAC", async () => {
      assertOutcome(await svc.check({ path: "/metrics" }), 401);
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(strangerToken) }), 403);
    });

    it("denies 404 any path outside --allow-paths, before authentication and with no API call", async () => {
      const before = await apiCalls();
      for (const path of [
        "/",
        "/metricsx",
        "/metrics/",
        "/metrics/cadvisor",
        "/api/v1/label/job",
        "/api/v1/label/job/other",
        "/api/v1/label/a/b/values",
        "/api/v1/query",
        "/healthz/ready", // `*` does not cross `/`: not ignored, and not allowed either
      ]) {
        assertOutcome(await svc.check({ path, headers: bearer(token) }), 404, path);
        assertOutcome(await svc.check({ path }), 404, `${path} without a token`);
      }
      assert.equal(await apiCalls(), before);
    });

    it("allows a path matching --ignore-paths with no credentials and no API call", async () => {
      const before = await apiCalls();
      for (const path of ["/healthz", "/healthz-ready", "/healthz?verbose"]) {
        const res = await svc.check({ path });
        assertOutcome(res, 200, path);
        assert.deepEqual([...(res.ok_response?.headers_to_remove ?? [])].sort(), ["x-remote-groups", "x-remote-user"]);
      }
      // Even garbage credentials are not looked at on an ignored path.
      assertOutcome(await svc.check({ path: "/healthz", headers: bearer("garbage") }), 200);
      assertOutcome(await svc.check({ path: "/healthz", headers: bearer(strangerToken) }), 200);
      assert.equal(await apiCalls(), before);
    });
  });

  describe("IdentityHeaders", () => {
    let svc: RunningService;
    let custom: RunningService;
    let token: string;
    before(async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("ident", "prometheus");
      token = await cp.createToken("ident", "prometheus");
      await cp.apply(rbac.clusterRole("ident-metrics-reader", METRICS_READER_RULES));
      await cp.apply(
        rbac.clusterRoleBinding("ident-metrics-reader", "ident-metrics-reader", [subjects.serviceAccount("ident", "prometheus")]),
      );
      await waitForRbac(cp, nonResourceSpec(saUser("ident", "prometheus"), SA_GROUPS("ident"), "/metrics"), true);
      [svc, custom] = await Promise.all([
        e2e.startService(["--auth-header-fields-enabled"]),
        e2e.startService([
          "--auth-header-fields-enabled=true",
          "--auth-header-user-field-name=X-Auth-User",
          "--auth-header-groups-field-name=X-Auth-Groups",
          "--auth-header-groups-field-separator=,",
        ]),
      ]);
    });

    it("sets x-remote-user and x-remote-groups exactly as the real TokenReview returned them", async () => {
      const review = await e2e.cp.tokenReview(token);
      assert.equal(review.authenticated, true);
      assert.equal(review.user.username, "system:serviceaccount:ident:prometheus");
      assert.deepEqual(review.user.groups, SA_GROUPS("ident"));

      // A client's own identity headers never reach the upstream: the set headers overwrite them.
      const res = await svc.check({
        path: "/metrics",
        headers: { ...bearer(token), "x-remote-user": "system:admin", "x-remote-groups": "system:masters" },
      });
      assertOutcome(res, 200);
      assert.deepEqual(okHeaders(res), {
        "x-remote-user": review.user.username,
        "x-remote-groups": review.user.groups.join("|"),
      });
      for (const h of res.ok_response?.headers ?? []) assert.equal(h.append_action, "OVERWRITE_IF_EXISTS_OR_ADD");
      assert.deepEqual(res.ok_response?.headers_to_remove, ["authorization"]);
    });

    it("uses the configured header names and separator", async () => {
      const review = await e2e.cp.tokenReview(token);
      const res = await custom.check({ path: "/metrics", headers: bearer(token) });
      assertOutcome(res, 200);
      assert.deepEqual(okHeaders(res), {
        "x-auth-user": review.user.username,
        "x-auth-groups": review.user.groups.join(","),
      });
    });

    it("sets no identity header on a denial", async () => {
      const res = await svc.check({ path: "/debug/pprof", headers: bearer(token) });
      assertOutcome(res, 403);
      assert.equal(res.ok_response, undefined);
    });
  });
});
