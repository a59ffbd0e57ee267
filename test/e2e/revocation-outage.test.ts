// What the caches mean for a real cluster: revoking access (deleting a ClusterRoleBinding or the
// ServiceAccount itself) takes effect once the cached answers expire, and an apiserver outage is
// bridged by cached answers only; everything else fails closed with 503 until the apiserver is
// back, and the service recovers by itself.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ControlPlane } from "../support/controlplane.ts";
import {
  assertOutcome,
  bearer,
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

const TOKEN_TTL_MS = 3_000;
const AUTHORIZED_TTL_MS = 3_000;
const UNAUTHORIZED_TTL_MS = 1_000;
/** Time the test itself may need between filling a cache and the "still cached" check. */
const MARGIN_MS = 700;

const saGroups = (ns: string) => ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"];

async function boundServiceAccount(cp: ControlPlane, ns: string, name: string, nonResourceURLs: string[]): Promise<string> {
  await cp.createServiceAccount(ns, name);
  await cp.apply(rbac.clusterRole(`${ns}-${name}`, [{ nonResourceURLs, verbs: ["get"] }]));
  await cp.apply(rbac.clusterRoleBinding(`${ns}-${name}`, `${ns}-${name}`, [subjects.serviceAccount(ns, name)]));
  await waitForRbac(cp, nonResourceSpec(saUser(ns, name), saGroups(ns), nonResourceURLs[0].replace(/\*$/, "x")), true);
  return cp.createToken(ns, name);
}

describe("e2e: revocation and apiserver outage", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();

  describe("Revocation with short cache TTLs", () => {
    let svc: RunningService;
    before(async () => {
      svc = await e2e.startService([
        `--authentication-token-webhook-cache-ttl=${TOKEN_TTL_MS}ms`,
        `--authorization-webhook-cache-authorized-ttl=${AUTHORIZED_TTL_MS}ms`,
        `--authorization-webhook-cache-unauthorized-ttl=${UNAUTHORIZED_TTL_MS}ms`,
      ]);
    });

    it("deleting the ClusterRoleBinding: allowed from the cache within the authorized TTL, 403 once it expires", async (t) => {
      const { cp } = e2e;
      const token = await boundServiceAccount(cp, "rev", "binding", ["/metrics"]);
      const check = () => svc.check({ path: "/metrics", headers: bearer(token) });

      const filledAt = Date.now(); // the allow is cached from a moment after this
      assertOutcome(await check(), 200);
      assert.equal(await cp.delete(`/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/rev-binding`), true);
      await waitForRbac(cp, nonResourceSpec(saUser("rev", "binding"), saGroups("rev"), "/metrics"), false);

      const elapsed = Date.now() - filledAt;
      if (elapsed < AUTHORIZED_TTL_MS - MARGIN_MS) {
        assertOutcome(
          await check(),
          200,
          `RBAC already says no, but ${elapsed} ms into the ${AUTHORIZED_TTL_MS} ms TTL the allow is cached`,
        );
      } else {
        t.diagnostic(`revocation reached the apiserver only after ${elapsed} ms: the cached-allow check is skipped`);
      }
      const denied = await pollUntil("403 after the authorized TTL", check, (r) => outcome(r) !== 200, {
        timeoutMs: AUTHORIZED_TTL_MS + 10_000,
      });
      assertOutcome(denied.value, 403);
      assert.ok(denied.at - filledAt >= AUTHORIZED_TTL_MS - 50, `denied ${denied.at - filledAt} ms after the allow: before the TTL`);
      t.diagnostic(`denied ${denied.at - filledAt} ms after the allow was cached (TTL ${AUTHORIZED_TTL_MS} ms)`);

      // Granting again shows once the (short) cached deny expires.
      await cp.apply(rbac.clusterRoleBinding("rev-binding", "rev-binding", [subjects.serviceAccount("rev", "binding")]));
      await waitForRbac(cp, nonResourceSpec(saUser("rev", "binding"), saGroups("rev"), "/metrics"), true);
      const regranted = Date.now();
      const allowed = await pollUntil("allowed again", check, (r) => outcome(r) === 200, { timeoutMs: UNAUTHORIZED_TTL_MS + 10_000 });
      assert.ok(allowed.at - regranted <= UNAUTHORIZED_TTL_MS + 2_000, `allowed again only after ${allowed.at - regranted} ms`);
    });

    it("deleting the ServiceAccount: its cached identity passes within the token TTL, 401 once it expires", async (t) => {
      const { cp } = e2e;
      const token = await boundServiceAccount(cp, "rev", "deleted", ["/metrics"]);
      const check = () => svc.check({ path: "/metrics", headers: bearer(token) });

      const filledAt = Date.now();
      assertOutcome(await check(), 200);
      assert.equal(await cp.delete("/api/v1/namespaces/rev/serviceaccounts/deleted"), true);

      // Documented behaviour (as kube-rbac-proxy's, and the apiserver's own, token caches): a
      // revoked token keeps authenticating until its cached TokenReview expires.
      const elapsed = Date.now() - filledAt;
      if (elapsed < TOKEN_TTL_MS - MARGIN_MS) {
        assertOutcome(
          await check(),
          200,
          `the ServiceAccount is gone, but ${elapsed} ms into the ${TOKEN_TTL_MS} ms TTL its identity is cached`,
        );
      } else {
        t.diagnostic(`deleting took ${elapsed} ms: the cached-identity check is skipped`);
      }

      // kube-apiserver itself caches successful token authentications for 10 s (not a flag), so
      // it starts rejecting the token only that long after the service's first TokenReview.
      const apiserver = await pollUntil(
        "the apiserver rejects the token of the deleted ServiceAccount",
        async () => (await cp.tokenReview(token)).authenticated === true,
        (authenticated) => !authenticated,
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      t.diagnostic(`the apiserver rejects the token ${apiserver.at - filledAt} ms after its first TokenReview`);

      const rejected = await pollUntil("401 after the token TTL", check, (r) => outcome(r) !== 200, { timeoutMs: TOKEN_TTL_MS + 10_000 });
      assertOutcome(rejected.value, 401);
      assert.ok(rejected.at - filledAt >= TOKEN_TTL_MS - 50, `rejected ${rejected.at - filledAt} ms after the allow: before the TTL`);
      assert.ok(
        rejected.at - apiserver.at <= TOKEN_TTL_MS + 1_000,
        `rejected ${rejected.at - apiserver.at} ms after the apiserver: the cache outlived its TTL`,
      );

      // A ServiceAccount of the same name created again does not revive the old token (new UID).
      await cp.createServiceAccount("rev", "deleted");
      assert.ok(!(await cp.tokenReview(token)).authenticated);
      assertOutcome(await check(), 401);
    });
  });

  describe("Outage: the apiserver stops and comes back", () => {
    let svc: RunningService;
    const tokens: Record<string, string> = {};
    before(async () => {
      const { cp } = e2e;
      tokens.cached = await boundServiceAccount(cp, "outage", "cached", ["/metrics", "/metrics/*"]);
      tokens.fresh = await boundServiceAccount(cp, "outage", "fresh", ["/metrics", "/metrics/*"]);
      // Created now, while the apiserver is up; first shown to the service during the outage.
      tokens.cachedSecond = await cp.createToken("outage", "cached");
      svc = await e2e.startService(["--kube-api-timeout=2s"]); // default TTLs: 2m, 5m, 30s
    });

    it("serves cached answers, fails closed with 503 for anything new, and recovers without a restart", async (t) => {
      const { cp } = e2e;
      const as = (name: string, path = "/metrics") => svc.check({ path, headers: bearer(tokens[name]) });
      assertOutcome(await as("cached"), 200);
      assertOutcome(await as("cached", "/debug/pprof"), 403);
      const pid = svc.service.child.pid;

      await cp.stopApiserver();
      try {
        assertOutcome(await as("cached"), 200, "cached allow");
        assertOutcome(await as("cached", "/debug/pprof"), 403, "cached deny");
        for (const [name, path] of [
          ["fresh", "/metrics"], // new token
          ["cachedSecond", "/metrics"], // new token of a known ServiceAccount
          ["cached", "/metrics/cadvisor"], // known identity, new path
        ]) {
          const res = await as(name, path);
          assertOutcome(res, 503, `${name} ${path}`);
          assert.match(res.denied_response?.body ?? "", /^Service Unavailable/);
        }
        const metrics = await svc.service.metrics();
        assert.ok(metricValue(metrics, "kube_rbac_extauthz_kube_api_requests_total", { code: "network" }) > 0, metrics);
        assert.ok(metricValue(metrics, "kube_rbac_extauthz_decisions_total", { decision: "deny", status: "503" }) >= 3);
      } finally {
        await cp.startApiserver();
      }

      const back = Date.now();
      const recovered = await pollUntil(
        "a new token is decided again",
        () => as("fresh"),
        (r) => outcome(r) !== 503,
        { timeoutMs: 30_000 },
      );
      assertOutcome(recovered.value, 200);
      t.diagnostic(`recovered ${recovered.at - back} ms after the apiserver was ready again`);
      assertOutcome(await as("cachedSecond"), 200);
      assertOutcome(await as("cached", "/metrics/cadvisor"), 200);
      assertOutcome(await as("cached", "/debug/pprof"), 403);
      assert.equal(svc.service.child.pid, pid);
      assert.equal(svc.service.child.exitCode, null, "the same process, never restarted");
    });
  });
});
