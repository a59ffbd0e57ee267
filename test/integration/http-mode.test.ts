// The HTTP authorization service (--http-address): the same engine asked the way Envoy's
// http_service, nginx's auth_request and Traefik's forwardAuth ask.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

describe("HTTP authorization mode", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let base: string;

  before(async () => {
    api = await startFakeKubeApi();
    api.tokens.set("prom", { user: { username: "prometheus", groups: ["monitoring", "system:authenticated"] } });
    api.tokens.set("other", { user: { username: "other", groups: [] } });
    api.authorize = (spec) => ({
      allowed: spec.user === "prometheus" && spec.nonResourceAttributes?.path === "/metrics" && spec.nonResourceAttributes.verb === "get",
    });
    service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      "--http-address=127.0.0.1:0",
      "--http-path-prefix=/authz",
      "--auth-header-fields-enabled",
      "--ignore-paths=/healthz",
    ]);
    base = `http://127.0.0.1:${service.httpPort}`;
  });
  after(async () => {
    await service?.stop();
    await api?.close();
  });

  it("answers Envoy's http_service: 200 with identity headers and the token to strip", async () => {
    const res = await fetch(`${base}/authz/metrics`, { headers: { authorization: "Bearer prom" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-remote-user"), "prometheus");
    assert.equal(res.headers.get("x-remote-groups"), "monitoring|system:authenticated");
    assert.equal(res.headers.get("x-envoy-auth-headers-to-remove"), "authorization");
  });

  it("uses the subrequest's own method with http_service", async () => {
    const res = await fetch(`${base}/authz/metrics`, { method: "DELETE", headers: { authorization: "Bearer prom" } });
    assert.equal(res.status, 403);
    assert.equal(
      await res.text(),
      `Forbidden (user=prometheus, verb=delete, path=/metrics)\ndecision id: ${res.headers.get("x-decision-id")}\n`,
    );
  });

  it("refuses a path outside the prefix with 400", async () => {
    const res = await fetch(`${base}/metrics`, { headers: { authorization: "Bearer prom" } });
    assert.equal(res.status, 400);
  });

  it("answers nginx auth_request from X-Original-URI and X-Original-Method", async () => {
    const ok = await fetch(`${base}/auth`, {
      headers: { authorization: "Bearer prom", "x-original-uri": "/metrics?x=1", "x-original-method": "GET" },
    });
    assert.equal(ok.status, 200);
    const denied = await fetch(`${base}/auth`, { headers: { authorization: "Bearer other", "x-original-uri": "/metrics" } });
    assert.equal(denied.status, 403);
    const none = await fetch(`${base}/auth`, { headers: { "x-original-uri": "/metrics" } });
    assert.equal(none.status, 401);
    assert.match(await none.text(), /^Unauthorized\ndecision id: /);
  });

  it("answers Traefik forwardAuth from X-Forwarded-Method, -Uri and -Host", async () => {
    const ok = await fetch(`${base}/`, {
      headers: {
        authorization: "Bearer prom",
        "x-forwarded-method": "GET",
        "x-forwarded-uri": "/metrics",
        "x-forwarded-host": "node:9100",
      },
    });
    assert.equal(ok.status, 200);
    const bad = await fetch(`${base}/`, {
      headers: { authorization: "Bearer prom", "x-forwarded-method": "GET", "x-forwarded-uri": "/a/../metrics" },
    });
    assert.equal(bad.status, 400);
  });

  it("allows an ignored path without credentials, telling the proxy to strip identity headers", async () => {
    const res = await fetch(`${base}/auth`, { headers: { "x-original-uri": "/healthz" } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-envoy-auth-headers-to-remove"), "x-remote-user,x-remote-groups");
  });

  it("counts HTTP decisions in the same metrics", async () => {
    assert.match(await service.metrics(), /kube_rbac_extauthz_decisions_total\{decision="deny",status="403"\} [1-9]/);
  });
});
