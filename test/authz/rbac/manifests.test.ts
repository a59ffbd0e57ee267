// RBAC manifests from a file or a folder: documents, lists, other kinds, aggregation across files,
// and errors that name the file and the document.
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { manifestStore } from "../../../src/authz/rbac/manifest-store.ts";
import { loadRbacManifests } from "../../../src/authz/rbac/manifests.ts";
import type { Attributes, UserInfo } from "../../../src/core/types.ts";

const root = mkdtempSync(join(tmpdir(), "kre-rbac-manifests-"));
after(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A fresh folder with these files (paths relative to it). */
function folder(files: Record<string, string>): string {
  const dir = join(root, `case-${++dirs}`);
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const viewer = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics-reader, labels: { agg: "yes" } }
rules:
  - nonResourceURLs: ["/metrics"]
    verbs: ["get"]
`;
const binding = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: prometheus }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: all-readers }
subjects:
  - { kind: User, name: prometheus, apiGroup: rbac.authorization.k8s.io }
`;
const aggregated = `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: all-readers }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { agg: "yes" } }]
rules: []
`;
const aggregatedObject = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "ClusterRole",
  metadata: { name: "all-readers" },
  aggregationRule: { clusterRoleSelectors: [{ matchLabels: { agg: "yes" } }] },
};
const prometheus: UserInfo = { name: "prometheus", uid: "", groups: [], extra: {} };
const metrics: Attributes = { kind: "nonResource", verb: "get", path: "/metrics" };

describe("RBAC manifests", () => {
  it("read a folder recursively: documents, lists, JSON, other kinds counted, hidden entries skipped", () => {
    const dir = folder({
      "roles.yaml": `${viewer}---\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: { name: x }\n`,
      "nested/deeper/bindings.yml": binding,
      "aggregated.json": JSON.stringify({
        apiVersion: "v1",
        kind: "List",
        items: [aggregatedObject, { apiVersion: "v1", kind: "Namespace", metadata: { name: "n" } }],
      }),
      "typed-list.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: RoleList
items:
  - metadata: { name: r, namespace: ns }
    rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }]
`,
      "README.md": "not a manifest",
      "..data/roles.yaml": viewer, // a mounted ConfigMap's real files: read through the symlinks only
      "other.yaml": "apiVersion: iam.example.com/v1\nkind: Role\nmetadata: { name: not-rbac }\n",
    });
    const m = loadRbacManifests(dir);
    assert.deepEqual(
      m.files.map((f) => f.slice(dir.length + 1)),
      ["aggregated.json", "nested/deeper/bindings.yml", "other.yaml", "roles.yaml", "typed-list.yaml"],
    );
    assert.deepEqual(m.ignored, { ServiceAccount: 1, Namespace: 1, Role: 1 });
    assert.equal(m.objects.clusterRoles.length, 2);
    assert.deepEqual(m.objects.roles, [
      {
        name: "r",
        namespace: "ns",
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"], resourceNames: [], nonResourceURLs: [] }],
      },
    ]);
    // all-readers was resolved from metrics-reader, which is in another file.
    const store = manifestStore(dir);
    assert.equal(
      store.snapshot()?.allowedBy(prometheus, metrics),
      'allowed by ClusterRoleBinding "prometheus" of ClusterRole "all-readers" to User "prometheus"',
    );
  });

  it("read one file", () => {
    const dir = folder({ "all.yaml": `${viewer}---\n${binding.replace("all-readers", "metrics-reader")}` });
    const m = loadRbacManifests(join(dir, "all.yaml"));
    assert.equal(m.objects.clusterRoleBindings.length, 1);
  });

  it("follow symlinked folders once", () => {
    const dir = folder({ "real/roles.yaml": viewer });
    symlinkSync(join(dir, "real"), join(dir, "link"));
    symlinkSync(dir, join(dir, "real", "loop"));
    assert.equal(loadRbacManifests(dir).objects.clusterRoles.length, 1);
  });

  const errors: Array<[string, Record<string, string>, RegExp]> = [
    ["no manifest files", { "notes.txt": "x" }, /: no \.yaml, \.yml or \.json files$/],
    ["invalid YAML", { "a.yaml": `${viewer}---\nkind: [oops\n` }, /a\.yaml: document 2: invalid YAML: /],
    ["a duplicate key", { "a.yaml": "kind: Role\nkind: Role\n" }, /a\.yaml: document 1: invalid YAML: /],
    ["invalid JSON", { "a.json": "{" }, /a\.json: invalid JSON: /],
    ["not an object", { "a.yaml": `${viewer}---\njust a string\n` }, /a\.yaml: document 2: not an object$/],
    ["no kind", { "a.yaml": "apiVersion: v1\nmetadata: {}\n" }, /a\.yaml: document 1: no kind$/],
    ["a List without items", { "a.yaml": "apiVersion: v1\nkind: List\n" }, /a\.yaml: document 1: List without items$/],
    [
      "an old RBAC version",
      { "a.yaml": viewer.replace("/v1", "/v1beta1") },
      /a\.yaml: document 1: apiVersion rbac\.authorization\.k8s\.io\/v1beta1 is not served any more/,
    ],
    [
      "a Role without namespace",
      { "a.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: { name: r }\n" },
      /a\.yaml: document 1: Role: metadata\.namespace: /,
    ],
    [
      "a rule without verbs",
      { "a.yaml": viewer.replace('verbs: ["get"]', "verbs: []") },
      /document 1: ClusterRole: rules\.0: verbs must contain at least one value$/,
    ],
    [
      "a namespaced URL rule",
      {
        "a.yaml":
          "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: { name: r, namespace: n }\nrules: [{ nonResourceURLs: [/x], verbs: [get] }]\n",
      },
      /Role: rules\.0: namespaced rules cannot apply to non-resource URLs$/,
    ],
    [
      "a rule for both",
      { "a.yaml": viewer.replace('verbs: ["get"]', 'verbs: ["get"]\n    resources: ["pods"]') },
      /rules cannot apply to both regular resources and non-resource URLs$/,
    ],
    [
      "a resource rule without apiGroups",
      { "a.yaml": viewer.replace('nonResourceURLs: ["/metrics"]', 'resources: ["pods"]') },
      /resource rules must supply at least one api group$/,
    ],
    ["a lower-case subject kind", { "a.yaml": binding.replace("kind: User", "kind: user") }, /ClusterRoleBinding: subjects\.0\.kind: /],
    [
      "a ClusterRoleBinding to a Role",
      { "a.yaml": binding.replace("kind: ClusterRole,", "kind: Role,") },
      /ClusterRoleBinding: roleRef\.kind: /,
    ],
    [
      "a cluster-wide ServiceAccount without namespace",
      { "a.yaml": binding.replace("kind: User, name: prometheus", "kind: ServiceAccount, name: p") },
      /subjects\.0\.namespace: a ServiceAccount subject of a ClusterRoleBinding needs a namespace$/,
    ],
    [
      "an In selector without values",
      { "a.yaml": aggregated.replace('{ matchLabels: { agg: "yes" } }', "{ matchExpressions: [{ key: a, operator: In }] }") },
      /In and NotIn need values/,
    ],
    [
      "the same object twice",
      { "a.yaml": viewer, "b/c.yaml": `${binding}---\n${viewer}` },
      /b\/c\.yaml: document 2: ClusterRole metrics-reader is already defined in .*a\.yaml: document 1$/,
    ],
    [
      "a bad list item",
      { "a.yaml": "apiVersion: v1\nkind: List\nitems:\n  - kind: ServiceAccount\n  - 3\n" },
      /a\.yaml: document 1, item 2: not an object$/,
    ],
  ];
  for (const [why, files, message] of errors) {
    it(`reject ${why}, naming file and document`, () => {
      assert.throws(() => loadRbacManifests(folder(files)), message);
    });
  }

  it("reject a path that does not exist", () => {
    assert.throws(() => loadRbacManifests(join(root, "nope")), /ENOENT.*nope/);
  });
});

describe("a manifest store", () => {
  it("is ready at once, and reload() switches to the new files or keeps the old state", () => {
    const dir = folder({ "a.yaml": `${viewer}---\n${binding.replace("all-readers", "metrics-reader")}` });
    let clock = 1000;
    const store = manifestStore(dir, () => new Date(clock));
    assert.equal(store.ready, true);
    assert.equal(store.syncedAt?.getTime(), 1000);
    assert.ok(store.snapshot()?.allowedBy(prometheus, metrics));

    writeFileSync(join(dir, "a.yaml"), viewer);
    clock = 2000;
    store.reload();
    assert.equal(store.snapshot()?.allowedBy(prometheus, metrics), undefined);
    assert.equal(store.syncedAt?.getTime(), 2000);

    writeFileSync(join(dir, "a.yaml"), "kind: [");
    clock = 3000;
    assert.throws(() => store.reload(), /a\.yaml: document 1: invalid YAML/);
    assert.equal(store.syncedAt?.getTime(), 2000);
    assert.equal(store.manifests.objects.clusterRoles.length, 1);
  });
});
