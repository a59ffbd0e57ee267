// kube-rbac-proxy's `authorization:` section against a real kube-apiserver: the StaticAuthorizer
// scenario with a query-parameter rewrite, resource attributes that reuse the apiserver-proxy
// style RBAC unchanged, and rewrites by header.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  assertOutcome,
  bearer,
  metricValue,
  type RunningService,
  rbac,
  SUITE_TIMEOUT,
  saUser,
  subjects,
  useControlPlane,
  waitForRbac,
} from "./support.ts";

const sarCalls = async (svc: RunningService) =>
  metricValue(await svc.service.metrics(), "kube_rbac_extauthz_kube_api_requests_total", { api: "subjectaccessreviews" });

const saGroups = (ns: string) => ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"];

describe("e2e: the config file (static rules, resource attributes, rewrites)", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();

  describe("StaticAuthorizer with a query-parameter rewrite", () => {
    let svc: RunningService;
    let token: string;
    let otherToken: string;
    before(async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("static", "prometheus");
      await cp.createServiceAccount("static", "other");
      [token, otherToken] = await Promise.all([cp.createToken("static", "prometheus"), cp.createToken("static", "other")]);
      const config = await e2e.writeFile(
        "static.yaml",
        `authorization:
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: services
    subresource: proxy
    name: kube-rbac-proxy
  rewrites:
    byQueryParameter:
      name: namespace
  static:
    - user:
        name: ${saUser("static", "prometheus")}
      resourceRequest: true
      resource: services
      subresource: proxy
      namespace: default
      verb: get
`,
      );
      svc = await e2e.startService([`--config-file=${config}`]);
    });

    it("allows ?namespace=default by the static rule, with no SubjectAccessReview (there is no RBAC at all)", async () => {
      const calls = await sarCalls(svc);
      assertOutcome(await svc.check({ path: "/metrics?namespace=default", headers: bearer(token) }), 200);
      assertOutcome(await svc.check({ path: "/anything/else?foo=bar&namespace=default", headers: bearer(token) }), 200);
      assert.equal(await sarCalls(svc), calls);
    });

    it("denies 403 ?namespace=forbidden: the static rule does not match and RBAC, asked, says no", async () => {
      const { cp } = e2e;
      const truth = await cp.subjectAccessReview({
        user: saUser("static", "prometheus"),
        groups: saGroups("static"),
        resourceAttributes: {
          namespace: "forbidden",
          verb: "get",
          version: "v1",
          resource: "services",
          subresource: "proxy",
          name: "kube-rbac-proxy",
        },
      });
      assert.equal(truth.allowed, false);
      const calls = await sarCalls(svc);
      const res = await svc.check({ path: "/metrics?namespace=forbidden", headers: bearer(token) });
      assertOutcome(res, 403);
      assert.match(res.denied_response?.body ?? "", /namespace=forbidden, resource=services, subresource=proxy, name=kube-rbac-proxy/);
      assert.equal(await sarCalls(svc), calls + 1);
    });

    it("matches every field of the rule: another user, another verb, or one value of several outside it is 403", async () => {
      assertOutcome(await svc.check({ path: "/metrics?namespace=default", headers: bearer(otherToken) }), 403);
      assertOutcome(await svc.check({ path: "/metrics?namespace=default", method: "POST", headers: bearer(token) }), 403);
      assertOutcome(await svc.check({ path: "/metrics?namespace=default&namespace=forbidden", headers: bearer(token) }), 403);
    });

    it("denies 400 a request without the rewrite's value, and 401 one without a token", async () => {
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(token) }), 400);
      assertOutcome(await svc.check({ path: "/metrics?ns=default", headers: bearer(token) }), 400);
      assertOutcome(await svc.check({ path: "/metrics?namespace=default" }), 401);
    });
  });

  describe("Resource attributes: apiserver-proxy style RBAC reused unchanged", () => {
    let svc: RunningService;
    const tokens: Record<string, string> = {};
    const proxyPath = "/api/v1/namespaces/ksm/services/kube-state-metrics/proxy/metrics";
    before(async () => {
      const { cp } = e2e;
      for (const name of ["prometheus", "by-clusterrole", "other", "nobody"]) {
        await cp.createServiceAccount("ksm", name);
        tokens[name] = await cp.createToken("ksm", name);
      }
      // What one writes to let Prometheus scrape kube-state-metrics through the apiserver proxy.
      const rule = (name: string) => ({ apiGroups: [""], resources: ["services/proxy"], resourceNames: [name], verbs: ["get"] });
      await cp.apply(rbac.role("ksm", "kube-state-metrics-proxy", [rule("kube-state-metrics")]));
      await cp.apply(
        rbac.roleBinding("ksm", "prometheus", { kind: "Role", name: "kube-state-metrics-proxy" }, [
          subjects.serviceAccount("ksm", "prometheus"),
        ]),
      );
      // The same rule in a ClusterRole, granted in the namespace by a RoleBinding.
      await cp.apply(rbac.clusterRole("ksm-kube-state-metrics-proxy", [rule("kube-state-metrics")]));
      await cp.apply(
        rbac.roleBinding("ksm", "by-clusterrole", { kind: "ClusterRole", name: "ksm-kube-state-metrics-proxy" }, [
          subjects.serviceAccount("ksm", "by-clusterrole"),
        ]),
      );
      // Bound to a different resourceName.
      await cp.apply(rbac.role("ksm", "node-exporter-proxy", [rule("node-exporter")]));
      await cp.apply(
        rbac.roleBinding("ksm", "other", { kind: "Role", name: "node-exporter-proxy" }, [subjects.serviceAccount("ksm", "other")]),
      );
      // A binding elsewhere does not count in ksm.
      await cp.createNamespace("elsewhere");
      await cp.apply(
        rbac.roleBinding("elsewhere", "nobody", { kind: "ClusterRole", name: "ksm-kube-state-metrics-proxy" }, [
          subjects.serviceAccount("ksm", "nobody"),
        ]),
      );
      for (const name of ["prometheus", "by-clusterrole", "other"]) {
        const spec = {
          user: saUser("ksm", name),
          groups: saGroups("ksm"),
          resourceAttributes: {
            namespace: "ksm",
            verb: "get",
            version: "v1",
            resource: "services",
            subresource: "proxy",
            name: name === "other" ? "node-exporter" : "kube-state-metrics",
          },
        };
        await waitForRbac(cp, spec, true);
      }
      const config = await e2e.writeFile(
        "resource.yaml",
        `authorization:
  resourceAttributes:
    namespace: ksm
    apiVersion: v1
    resource: services
    subresource: proxy
    name: kube-state-metrics
`,
      );
      svc = await e2e.startService([`--config-file=${config}`]);
    });

    it("the apiserver's own proxy authorizes these tokens as expected (the RBAC is what users already have)", async () => {
      const { cp } = e2e;
      for (const name of ["prometheus", "by-clusterrole"]) {
        const { status } = await cp.request("GET", proxyPath, undefined, { as: { token: tokens[name] } });
        // Authorized; there is no such Service in this control plane, so not a 200 either.
        assert.ok(status !== 401 && status !== 403, `${name}: ${status}`);
      }
      for (const name of ["other", "nobody"]) {
        assert.equal((await cp.request("GET", proxyPath, undefined, { as: { token: tokens[name] } })).status, 403, name);
      }
    });

    it("allows the ServiceAccount bound to get services/proxy kube-state-metrics in the namespace, whatever the path", async () => {
      for (const name of ["prometheus", "by-clusterrole"]) {
        assertOutcome(await svc.check({ path: "/metrics", headers: bearer(tokens[name]) }), 200, name);
        assertOutcome(await svc.check({ path: "/", headers: bearer(tokens[name]) }), 200, name);
      }
    });

    it("denies 403 a ServiceAccount bound to a different resourceName, in a different namespace, or not at all", async () => {
      for (const name of ["other", "nobody"]) {
        const res = await svc.check({ path: "/metrics", headers: bearer(tokens[name]) });
        assertOutcome(res, 403, name);
        assert.match(
          res.denied_response?.body ?? "",
          new RegExp(`user=${saUser("ksm", name)}, verb=get, namespace=ksm, resource=services, subresource=proxy, name=kube-state-metrics`),
        );
      }
    });

    it("maps the method to the verb: the role grants get only", async () => {
      assertOutcome(await svc.check({ path: "/metrics", method: "HEAD", headers: bearer(tokens.prometheus) }), 200);
      assertOutcome(await svc.check({ path: "/metrics", method: "POST", headers: bearer(tokens.prometheus) }), 403);
      assertOutcome(await svc.check({ path: "/metrics", method: "DELETE", headers: bearer(tokens.prometheus) }), 403);
    });
  });

  describe("Rewrites by query parameter and header", () => {
    let svc: RunningService;
    let token: string;
    before(async () => {
      const { cp } = e2e;
      await cp.createServiceAccount("rewrite", "prometheus");
      token = await cp.createToken("rewrite", "prometheus");
      await cp.createNamespace("team-a");
      await cp.createNamespace("team-b");
      await cp.apply(rbac.clusterRole("rewrite-pods-reader", [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] }]));
      for (const ns of ["team-a", "team-b"]) {
        await cp.apply(
          rbac.roleBinding(ns, "rewrite-prometheus", { kind: "ClusterRole", name: "rewrite-pods-reader" }, [
            subjects.serviceAccount("rewrite", "prometheus"),
          ]),
        );
        await waitForRbac(
          cp,
          {
            user: saUser("rewrite", "prometheus"),
            groups: saGroups("rewrite"),
            resourceAttributes: { namespace: ns, verb: "get", version: "v1", resource: "pods" },
          },
          true,
        );
      }
      const config = await e2e.writeFile(
        "rewrites.yaml",
        `authorization:
  resourceAttributes:
    namespace: "{{ .Value }}"
    apiVersion: v1
    resource: pods
  rewrites:
    byQueryParameter:
      name: namespace
    byHttpHeader:
      name: X-Namespace
`,
      );
      svc = await e2e.startService([`--config-file=${config}`]);
    });

    it("asks RBAC about the namespace named by the query parameter or the header", async () => {
      assertOutcome(await svc.check({ path: "/metrics?namespace=team-a", headers: bearer(token) }), 200);
      assertOutcome(await svc.check({ path: "/metrics", headers: { ...bearer(token), "x-namespace": "team-b" } }), 200);
      assertOutcome(await svc.check({ path: "/metrics?namespace=kube-system", headers: bearer(token) }), 403);
      assertOutcome(await svc.check({ path: "/metrics", headers: { ...bearer(token), "x-namespace": "default" } }), 403);
    });

    it("requires every value to be allowed", async () => {
      assertOutcome(await svc.check({ path: "/metrics?namespace=team-a&namespace=team-b", headers: bearer(token) }), 200);
      const both = { ...bearer(token), "x-namespace": "team-b" };
      assertOutcome(await svc.check({ path: "/metrics?namespace=team-a", headers: both }), 200);
      assertOutcome(await svc.check({ path: "/metrics?namespace=team-a", headers: { ...bearer(token), "x-namespace": "default" } }), 403);
      assertOutcome(await svc.check({ path: "/metrics?namespace=team-a&namespace=kube-system", headers: bearer(token) }), 403);
    });

    it("denies 400 a request with no value", async () => {
      assertOutcome(await svc.check({ path: "/metrics", headers: bearer(token) }), 400);
    });
  });
});
