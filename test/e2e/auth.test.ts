// kube-rbac-proxy's e2e scenarios TokenAudience and ClientCertificates through Envoy's Check API
// against a real kube-apiserver: bound ServiceAccount tokens for chosen audiences, and x509 client
// certificates from the apiserver's own client CA (and from a CA nobody trusts).
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { okHeaders } from "../support/envoy-client.ts";
import {
  assertOutcome,
  bearer,
  certificate,
  METRICS_READER_RULES,
  metricValue,
  nonResourceSpec,
  type RunningService,
  rbac,
  SUITE_TIMEOUT,
  saUser,
  subjects,
  useControlPlane,
  waitForRbac,
} from "./support.ts";

const AUDIENCE = "kube-rbac-extauthz";

describe("e2e: token audiences and client certificates", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();

  describe("TokenAudience", () => {
    let withAudience: RunningService;
    let withoutAudience: RunningService;
    before(async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("aud", "prometheus");
      await cp.apply(rbac.clusterRole("aud-metrics-reader", METRICS_READER_RULES));
      await cp.apply(rbac.clusterRoleBinding("aud-metrics-reader", "aud-metrics-reader", [subjects.serviceAccount("aud", "prometheus")]));
      const groups = ["system:serviceaccounts", "system:serviceaccounts:aud", "system:authenticated"];
      await waitForRbac(cp, nonResourceSpec(saUser("aud", "prometheus"), groups, "/metrics"), true);
      [withAudience, withoutAudience] = await Promise.all([e2e.startService([`--auth-token-audiences=${AUDIENCE}`]), e2e.startService([])]);
    });

    it("denies 401 a token for another audience, as the real TokenReview does", async () => {
      const { cp } = e2e;
      const other = await cp.createToken("aud", "prometheus", { audiences: ["another-audience"] });
      assert.ok(!(await cp.tokenReview(other, [AUDIENCE])).authenticated);
      assertOutcome(await withAudience.check({ path: "/metrics", headers: bearer(other) }), 401);

      // A token for the apiserver's own (default) audience is not one for kube-rbac-extauthz either.
      const apiserverToken = await cp.createToken("aud", "prometheus");
      assert.ok(!(await cp.tokenReview(apiserverToken, [AUDIENCE])).authenticated);
      assertOutcome(await withAudience.check({ path: "/metrics", headers: bearer(apiserverToken) }), 401);
    });

    it("allows a token for the right audience (alone or among others)", async () => {
      const { cp } = e2e;
      const right = await cp.createToken("aud", "prometheus", { audiences: [AUDIENCE] });
      const review = await cp.tokenReview(right, [AUDIENCE]);
      assert.equal(review.authenticated, true);
      assert.deepEqual(review.audiences, [AUDIENCE]);
      assertOutcome(await withAudience.check({ path: "/metrics", headers: bearer(right) }), 200);

      const several = await cp.createToken("aud", "prometheus", { audiences: ["another-audience", AUDIENCE] });
      assertOutcome(await withAudience.check({ path: "/metrics", headers: bearer(several) }), 200);
    });

    it("without --auth-token-audiences accepts the apiserver's audience only, as kube-rbac-proxy does", async () => {
      const { cp } = e2e;
      assertOutcome(await withoutAudience.check({ path: "/metrics", headers: bearer(await cp.createToken("aud", "prometheus")) }), 200);
      const forUs = await cp.createToken("aud", "prometheus", { audiences: [AUDIENCE] });
      assertOutcome(await withoutAudience.check({ path: "/metrics", headers: bearer(forUs) }), 401);
    });
  });

  describe("ClientCertificates", () => {
    let svc: RunningService;
    before(async () => {
      const { cp } = e2e;
      await cp.apply(rbac.clusterRole("cert-metrics-reader", METRICS_READER_RULES));
      await cp.apply(
        rbac.clusterRoleBinding("cert-metrics-reader", "cert-metrics-reader", [
          subjects.user("cert-scraper"),
          subjects.group("cert-scrapers"),
        ]),
      );
      await waitForRbac(cp, nonResourceSpec("cert-scraper", ["system:authenticated"], "/metrics"), true);
      await waitForRbac(cp, nonResourceSpec("anyone", ["cert-scrapers", "system:authenticated"], "/metrics"), true);
      svc = await e2e.startService([`--client-ca-file=${cp.clientCaFile}`, "--auth-header-fields-enabled"]);
    });

    /** The identity the apiserver itself derives from the certificate. */
    const apiserverIdentity = async (cert: { certPem: string; keyPem: string }) => {
      const res = await e2e.cp.request(
        "POST",
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
        { as: { certPem: cert.certPem, keyPem: cert.keyPem } },
      );
      assert.equal(res.status, 201, res.text);
      return res.body.status.userInfo as { username: string; groups: string[] };
    };

    it("allows an x509 user bound by RBAC, with the identity the apiserver derives from the certificate", async () => {
      const cert = await e2e.cp.signClientCert("cert-scraper", ["team-a"]);
      const res = await svc.check({ path: "/metrics", certificate: certificate(cert) });
      assertOutcome(res, 200);
      const identity = await apiserverIdentity(cert);
      // (The apiserver also adds extra credential-id, which RBAC does not look at.)
      assert.deepEqual(
        { username: identity.username, groups: identity.groups },
        { username: "cert-scraper", groups: ["team-a", "system:authenticated"] },
      );
      assert.deepEqual(okHeaders(res), { "x-remote-user": identity.username, "x-remote-groups": identity.groups.join("|") });
      assert.deepEqual(res.ok_response?.headers_to_remove ?? [], [], "no bearer token to strip");
    });

    it("denies 403 an x509 user without RBAC", async () => {
      const cert = await e2e.cp.signClientCert("cert-stranger", ["team-a"]);
      const res = await svc.check({ path: "/metrics", certificate: certificate(cert) });
      assertOutcome(res, 403);
      assert.match(res.denied_response?.body ?? "", /user=cert-stranger, verb=get, path=\/metrics/);
    });

    it("denies 401 a certificate signed by the other CA, as the apiserver does, with no API call", async () => {
      const { cp } = e2e;
      const cert = await cp.signClientCert("cert-scraper", ["cert-scrapers", "system:masters"], { ca: "other" });
      assert.equal((await cp.request("GET", "/metrics", undefined, { as: cert })).status, 401);
      const calls = metricValue(await svc.service.metrics(), "kube_rbac_extauthz_kube_api_requests_total", {});
      assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(cert) }), 401);
      assert.equal(metricValue(await svc.service.metrics(), "kube_rbac_extauthz_kube_api_requests_total", {}), calls);
    });

    it("allows by RBAC bound to the certificate's O group (subject kind Group)", async () => {
      const member = await e2e.cp.signClientCert("cert-group-member", ["other-team", "cert-scrapers"]);
      assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(member) }), 200);
      const outsider = await e2e.cp.signClientCert("cert-group-outsider", ["other-team"]);
      assertOutcome(await svc.check({ path: "/metrics", certificate: certificate(outsider) }), 403);
      // The group grants get /metrics only.
      assertOutcome(await svc.check({ path: "/metrics", method: "PUT", certificate: certificate(member) }), 403);
    });

    it("authenticates by the certificate first when a bearer token comes along too", async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("cert", "bound");
      await cp.apply(rbac.clusterRoleBinding("cert-bound", "cert-metrics-reader", [subjects.serviceAccount("cert", "bound")]));
      const groups = ["system:serviceaccounts", "system:serviceaccounts:cert", "system:authenticated"];
      await waitForRbac(cp, nonResourceSpec(saUser("cert", "bound"), groups, "/metrics"), true);
      const token = await cp.createToken("cert", "bound");
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(token) }), 200);
      const stranger = await cp.signClientCert("cert-stranger-2");
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(token), certificate: certificate(stranger) }), 403);
    });
  });
});
