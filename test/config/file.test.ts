import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfigFile, parseConfigFile } from "../../src/config/file.ts";

describe("parseConfigFile", () => {
  it("reads kube-rbac-proxy's resourceAttributes with rewrites example", () => {
    const text = `
authorization:
  rewrites:
    byQueryParameter:
      name: "namespace"
  resourceAttributes:
    apiVersion: v1
    resource: namespace
    subresource: metrics
    namespace: "{{ .Value }}"
`;
    assert.deepEqual(parseConfigFile(text, "config.yaml").authorization, {
      resourceAttributes: { apiVersion: "v1", resource: "namespace", subresource: "metrics", namespace: "{{ .Value }}" },
      rewrites: { byQueryParameter: { name: "namespace" } },
      static: [],
    });
  });

  it("reads a fixed resource and a header rewrite", () => {
    const text = `
authorization:
  rewrites:
    byHttpHeader:
      name: x-namespace
  resourceAttributes:
    namespace: monitoring
    apiGroup: apps
    resource: deployments
    name: prometheus
`;
    const config = parseConfigFile(text, "c").authorization;
    assert.deepEqual(config.rewrites, { byHttpHeader: { name: "x-namespace" } });
    assert.deepEqual(config.resourceAttributes, { namespace: "monitoring", apiGroup: "apps", resource: "deployments", name: "prometheus" });
  });

  it("reads static rules, defaulting user to {} and resourceRequest to false", () => {
    const text = `
authorization:
  static:
    - user:
        name: system:serviceaccount:default:default
      resourceRequest: false
      path: /metrics
      verb: get
    - user:
        groups: ["monitoring", "ops"]
      path: /federate
    - resourceRequest: true
      namespace: default
      apiGroup: apps
      resource: deployments
      subresource: scale
      name: web
      verb: update
`;
    assert.deepEqual(parseConfigFile(text, "c").authorization, {
      resourceAttributes: undefined,
      rewrites: undefined,
      static: [
        { user: { name: "system:serviceaccount:default:default" }, resourceRequest: false, path: "/metrics", verb: "get" },
        { user: { groups: ["monitoring", "ops"] }, resourceRequest: false, path: "/federate" },
        {
          user: {},
          resourceRequest: true,
          namespace: "default",
          apiGroup: "apps",
          resource: "deployments",
          subresource: "scale",
          name: "web",
          verb: "update",
        },
      ],
    });
  });

  const empty: Array<[string, string]> = [
    ["an empty file", ""],
    ["only a comment", "# nothing here\n"],
    ["a null authorization section", "authorization:\n"],
    ["an empty authorization section", "authorization: {}\n"],
  ];
  for (const [what, text] of empty) {
    it(`reads ${what} as no restriction beyond RBAC`, () => {
      assert.deepEqual(parseConfigFile(text, "c").authorization, { resourceAttributes: undefined, rewrites: undefined, static: [] });
    });
  }

  const errors: Array<[what: string, text: string, message: RegExp]> = [
    ["an unknown top-level key", "authorisation: {}\n", /^--config-file c\.yaml: \(top level\): .*authorisation/],
    [
      "an unknown key in authorization",
      "authorization:\n  resourceAttribute: {}\n",
      /^--config-file c\.yaml: authorization: .*resourceAttribute/,
    ],
    [
      "an unknown key in resourceAttributes",
      "authorization:\n  resourceAttributes:\n    namepsace: x\n",
      /^--config-file c\.yaml: authorization\.resourceAttributes: .*namepsace/,
    ],
    [
      "an unknown key in a rewrite",
      "authorization:\n  rewrites:\n    byQueryParameter:\n      nam: x\n",
      /authorization\.rewrites\.byQueryParameter/,
    ],
    [
      "an unknown key in a static rule",
      "authorization:\n  static:\n    - path: /m\n      verbs: get\n",
      /authorization\.static\.0: .*verbs/,
    ],
    [
      "a rewrite with an empty name",
      "authorization:\n  rewrites:\n    byHttpHeader:\n      name: ''\n",
      /authorization\.rewrites\.byHttpHeader\.name/,
    ],
    ["a non-string field", "authorization:\n  resourceAttributes:\n    namespace: [a]\n", /authorization\.resourceAttributes\.namespace/],
    ["a duplicate key", "authorization:\n  static: []\n  static: []\n", /^--config-file c\.yaml: invalid YAML: .*[Dd]uplicate|unique/],
    ["bad YAML", "authorization:\n  static: [\n", /^--config-file c\.yaml: invalid YAML: /],
    ["a tab-indented YAML", "authorization:\n\tstatic: []\n", /^--config-file c\.yaml: invalid YAML: /],
    ["a scalar document", "just text\n", /^--config-file c\.yaml: \(top level\): /],
    [
      "a static rule with both path and resourceRequest",
      "authorization:\n  static:\n    - path: /metrics\n      resourceRequest: true\n",
      /authorization\.static\.0: a rule sets either resourceRequest: true or a path, not both and not neither/,
    ],
    [
      "a static rule with neither path nor resourceRequest",
      "authorization:\n  static:\n    - verb: get\n",
      /authorization\.static\.0: a rule sets either/,
    ],
    ["static that is not a list", "authorization:\n  static:\n    path: /m\n", /authorization\.static: /],
  ];
  for (const [what, text, message] of errors) {
    it(`rejects ${what} in one line naming the file`, () => {
      assert.throws(
        () => parseConfigFile(text, "c.yaml").authorization,
        (e: Error) => {
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
      );
    });
  }
});

describe("loadConfigFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-config-file-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads and validates the file", async () => {
    const path = join(dir, "config.yaml");
    await writeFile(path, "authorization:\n  static:\n    - path: /metrics\n");
    assert.deepEqual(loadConfigFile(path).authorization.static, [{ user: {}, resourceRequest: false, path: "/metrics" }]);
  });

  it("names the flag and the file when the file cannot be read", () => {
    const path = join(dir, "missing.yaml");
    assert.throws(
      () => loadConfigFile(path),
      (e: Error) => e.message.startsWith(`--config-file ${path}: ENOENT`),
    );
  });

  it("names the flag and the file when the content is invalid", async () => {
    const path = join(dir, "bad.yaml");
    await writeFile(path, "authorization:\n  unknown: 1\n");
    assert.throws(
      () => loadConfigFile(path),
      (e: Error) => e.message.startsWith(`--config-file ${path}: authorization: `),
    );
  });
});
