import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { toCheckInput } from "../../../src/adapters/http/request.ts";

const none = { pathPrefix: "" };

describe("HTTP subrequest -> CheckInput", () => {
  it("reads nginx auth_request's X-Original-URI and X-Original-Method", () => {
    const r = toCheckInput("GET", "/auth", { "x-original-uri": "/metrics?a=1", "x-original-method": "POST", host: "h" }, none);
    assert.ok(r.ok);
    assert.equal(r.style, "nginx");
    assert.equal(r.input.target, "/metrics?a=1");
    assert.equal(r.input.method, "POST");
  });

  it("defaults nginx's method to GET (auth_request subrequests do not carry it)", () => {
    const r = toCheckInput("GET", "/auth", { "x-original-uri": "/metrics" }, none);
    assert.ok(r.ok);
    assert.equal(r.input.method, "GET");
  });

  it("reads Traefik forwardAuth's X-Forwarded-Method, -Uri and -Host", () => {
    const r = toCheckInput("GET", "/", { "x-forwarded-method": "DELETE", "x-forwarded-uri": "/x", "x-forwarded-host": "svc:80" }, none);
    assert.ok(r.ok);
    assert.deepEqual([r.style, r.input.method, r.input.target, r.input.host], ["traefik", "DELETE", "/x", "svc:80"]);
  });

  it("refuses X-Forwarded-Uri without a method rather than guessing one", () => {
    assert.equal(toCheckInput("GET", "/", { "x-forwarded-uri": "/x" }, none).ok, false);
  });

  it("prefers nginx's headers over Traefik's when both are present", () => {
    const r = toCheckInput("GET", "/", { "x-original-uri": "/a", "x-forwarded-uri": "/b", "x-forwarded-method": "GET" }, none);
    assert.ok(r.ok);
    assert.equal(r.input.target, "/a");
  });

  it("reads Envoy http_service's own method and path, after the prefix", () => {
    const r = toCheckInput("PUT", "/authz/metrics?q", { authorization: "Bearer t" }, { pathPrefix: "/authz" });
    assert.ok(r.ok);
    assert.deepEqual([r.style, r.input.method, r.input.target], ["envoy", "PUT", "/metrics?q"]);
    assert.equal(r.input.headers.get("authorization"), "Bearer t");
  });

  it("turns the bare prefix into /", () => {
    const r = toCheckInput("GET", "/authz", {}, { pathPrefix: "/authz" });
    assert.ok(r.ok);
    assert.equal(r.input.target, "/");
  });

  it("refuses a path outside the prefix", () => {
    assert.equal(toCheckInput("GET", "/metrics", {}, { pathPrefix: "/authz" }).ok, false);
  });

  it("joins repeated headers with a comma and takes x-request-id", () => {
    const r = toCheckInput("GET", "/", { "x-a": ["1", "2"], "x-request-id": "rid" }, none);
    assert.ok(r.ok);
    assert.equal(r.input.headers.get("x-a"), "1,2");
    assert.equal(r.input.requestId, "rid");
    assert.equal(r.input.peerCertificate, "");
  });
});
