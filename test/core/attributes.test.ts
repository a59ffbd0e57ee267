import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AttributesRequest, attributesBuilder, queryValues } from "../../src/core/attributes.ts";

const request = (over: Partial<AttributesRequest> = {}): AttributesRequest => ({
  method: "GET",
  path: "/metrics",
  query: "",
  headers: new Map(),
  ...over,
});

const RESOURCE = { namespace: "{{ .Value }}", apiVersion: "v1", resource: "services", subresource: "proxy", name: "kube-rbac-proxy" };

describe("attributesBuilder", () => {
  it("asks about the non-resource path and verb without resourceAttributes", () => {
    const build = attributesBuilder(undefined, undefined);
    assert.deepEqual(build(request({ method: "POST", path: "/api/x" })), {
      ok: true,
      attributes: [{ kind: "nonResource", verb: "create", path: "/api/x" }],
    });
  });

  it("ignores rewrites without resourceAttributes", () => {
    const build = attributesBuilder(undefined, { byQueryParameter: { name: "namespace" } });
    assert.deepEqual(build(request()), { ok: true, attributes: [{ kind: "nonResource", verb: "get", path: "/metrics" }] });
  });

  it("asks about one fixed resource, filling unset fields with empty strings", () => {
    const build = attributesBuilder({ namespace: "monitoring", resource: "services", name: "prom" }, undefined);
    assert.deepEqual(build(request({ method: "DELETE" })), {
      ok: true,
      attributes: [
        {
          kind: "resource",
          verb: "delete",
          namespace: "monitoring",
          apiGroup: "",
          apiVersion: "",
          resource: "services",
          subresource: "",
          name: "prom",
        },
      ],
    });
  });

  it("fills the templates from every value of the query parameter, in order", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "namespace" } });
    const result = build(request({ query: "namespace=a&other=x&namespace=b" }));
    assert.equal(result.ok, true);
    if (!result.ok) return;
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && a.namespace),
      ["a", "b"],
    );
    assert.deepEqual(result.attributes[0], {
      kind: "resource",
      verb: "get",
      namespace: "a",
      apiGroup: "",
      apiVersion: "v1",
      resource: "services",
      subresource: "proxy",
      name: "kube-rbac-proxy",
    });
  });

  it("fills every templated field with the same value", () => {
    const build = attributesBuilder({ namespace: "ns-{{ .Value }}", name: "{{.Value}}-svc" }, { byHttpHeader: { name: "x-tenant" } });
    const result = build(request({ headers: new Map([["x-tenant", "t1"]]) }));
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && [a.namespace, a.name]),
      [["ns-t1", "t1-svc"]],
    );
  });

  it("decodes query values as Go does: + is a space and %-escapes are decoded", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "namespace" } });
    const result = build(request({ query: "namespace=a+b&namespace=c%2Fd" }));
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && a.namespace),
      ["a b", "c/d"],
    );
  });

  it("reads the header by a case-insensitive name", () => {
    const build = attributesBuilder(RESOURCE, { byHttpHeader: { name: "X-Namespace" } });
    const result = build(request({ headers: new Map([["x-namespace", "team-a"]]) }));
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && a.namespace),
      ["team-a"],
    );
  });

  it("takes query parameter values first, then the header", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "ns" }, byHttpHeader: { name: "x-ns" } });
    const result = build(request({ query: "ns=q1&ns=q2", headers: new Map([["x-ns", "h"]]) }));
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && a.namespace),
      ["q1", "q2", "h"],
    );
  });

  it("uses the verb of the method for every rewritten attribute", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "ns" } });
    const result = build(request({ method: "PUT", query: "ns=a&ns=b" }));
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.verb),
      ["update", "update"],
    );
  });

  it("answers ok:false when the rewrite finds no value", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "namespace" }, byHttpHeader: { name: "x-namespace" } });
    const result = build(request({ query: "other=1", headers: new Map([["x-other", "v"]]) }));
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.reason, /no value/);
  });

  it("answers ok:false when the only values are malformed", () => {
    const build = attributesBuilder(RESOURCE, { byQueryParameter: { name: "namespace" } });
    assert.equal(build(request({ query: "namespace=%zz&namespace=a;b" })).ok, false);
  });

  it("throws at build time on an unsupported template", () => {
    assert.throws(() => attributesBuilder({ namespace: "{{ .Namespace }}" }, { byQueryParameter: { name: "n" } }), /unsupported/);
  });
});

describe("queryValues", () => {
  const table: Array<[query: string, name: string, values: string[]]> = [
    ["", "a", []],
    ["a=1", "a", ["1"]],
    ["a=1&a=2&b=3", "a", ["1", "2"]],
    ["b=3", "a", []],
    ["a", "a", [""]],
    ["a=", "a", [""]],
    ["a=x=y", "a", ["x=y"]],
    ["a=x+y", "a", ["x y"]],
    ["a=x%2By", "a", ["x+y"]],
    ["a=%E2%9C%93", "a", ["✓"]],
    ["%61=1", "a", ["1"]],
    ["a+b=1", "a b", ["1"]],
    ["a=1;a=2", "a", []],
    ["a=1&a=2;x&a=3", "a", ["1", "3"]],
    ["a=%zz&a=ok", "a", ["ok"]],
    ["a=%&a=ok", "a", ["ok"]],
    ["a=%ff&a=ok", "a", ["ok"]],
    ["&&a=1&&", "a", ["1"]],
    ["A=1", "a", []],
  ];
  for (const [query, name, values] of table) {
    it(`finds ${JSON.stringify(values)} for ${JSON.stringify(name)} in ${JSON.stringify(query)}`, () => {
      assert.deepEqual(queryValues(query, name), values);
    });
  }
});
