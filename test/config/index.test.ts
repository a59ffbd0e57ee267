import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Flags, parseFlags } from "../../src/config/flags.ts";
import { named, resolveConfig } from "../../src/config/index.ts";
import { createCA } from "../support/pki.ts";

const flags = (...argv: string[]): Flags => parseFlags(argv, (c) => c.exitOverride().configureOutput({ writeErr: () => {} }));

describe("resolveConfig", () => {
  let dir: string;
  let caFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-resolve-"));
    caFile = (await createCA(dir, "ca")).certFile;
    await writeFile(join(dir, "tokens.csv"), 'tok-1,alice,uid-1,"dev,ops"\n');
    await writeFile(
      join(dir, "config.yaml"),
      'authorization:\n  resourceAttributes:\n    namespace: "{{ .Value }}"\n    resource: pods\n  rewrites:\n    byQueryParameter:\n      name: ns\n',
    );
    await writeFile(
      join(dir, "bad-template.yaml"),
      'authorization:\n  resourceAttributes:\n    namespace: "{{ .Namespace }}"\n  rewrites:\n    byHttpHeader:\n      name: x-ns\n',
    );
    await writeFile(join(dir, "not-a-ca.pem"), "hello\n");
    await writeFile(join(dir, "bad-tokens.csv"), "tok-only\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("with only defaults, has no optional parts and asks about non-resource paths", () => {
    const config = resolveConfig(flags());
    assert.equal(config.policy.staticTokens, undefined);
    assert.equal(config.policy.defaultProfile.allowPaths, undefined);
    assert.equal(config.policy.defaultProfile.ignorePaths, undefined);
    assert.equal(config.policy.clientCas, undefined);
    assert.equal(config.kubeConfig, undefined, "no --kubeconfig and not in a cluster");
    assert.deepEqual(config.policy.defaultProfile.authorization, { static: [] });
    assert.deepEqual(config.policy.defaultProfile.attributes({ method: "GET", path: "/metrics", query: "", headers: new Map() }), {
      ok: true,
      attributes: [{ kind: "nonResource", verb: "get", path: "/metrics" }],
    });
  });

  it("compiles the path globs", () => {
    const config = resolveConfig(flags("--allow-paths=/metrics,/api/*", "--ignore-paths=/healthz"));
    assert.equal(config.policy.defaultProfile.allowPaths?.("/api/v1"), true);
    assert.equal(config.policy.defaultProfile.allowPaths?.("/debug"), false);
    assert.equal(config.policy.defaultProfile.ignorePaths?.("/healthz"), true);
  });

  it("loads the static tokens, keyed by the config's token hash", async () => {
    const config = resolveConfig(flags(`--token-auth-file=${join(dir, "tokens.csv")}`));
    assert.deepEqual(await config.policy.staticTokens?.authenticateToken("tok-1"), {
      kind: "authenticated",
      user: { name: "alice", uid: "uid-1", groups: ["dev", "ops"], extra: {} },
    });
    assert.notEqual(config.tokenHash("tok-1"), "tok-1");
    assert.equal(config.tokenHash("tok-1"), config.tokenHash("tok-1"));
  });

  it("loads the client CA bundle", () => {
    const config = resolveConfig(flags(`--client-ca-file=${caFile}`));
    assert.equal(config.policy.clientCas?.length, 1);
    assert.equal(config.policy.clientCas?.[0].ca, true);
  });

  it("compiles the config file's attributes", () => {
    const config = resolveConfig(flags(`--config-file=${join(dir, "config.yaml")}`));
    const result = config.policy.defaultProfile.attributes({ method: "GET", path: "/", query: "ns=a", headers: new Map() });
    assert.ok(result.ok);
    assert.deepEqual(
      result.attributes.map((a) => a.kind === "resource" && [a.namespace, a.resource]),
      [["a", "pods"]],
    );
  });

  it("loads the kubeconfig file", async () => {
    const path = join(dir, "kubeconfig");
    await writeFile(
      path,
      "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\nusers:\n- name: u\n  user:\n    token: t\ncurrent-context: c\n",
    );
    const config = resolveConfig(flags(`--kubeconfig=${path}`));
    assert.equal(config.kubeConfig?.getCurrentCluster()?.server, "https://127.0.0.1:6443");
  });

  const errors: Array<[what: string, argv: () => string[], prefix: RegExp]> = [
    ["a malformed --allow-paths glob", () => ["--allow-paths=/ok,/bad["], /^--allow-paths: syntax error in pattern "\/bad\["$/],
    ["a malformed --ignore-paths glob", () => ["--ignore-paths=["], /^--ignore-paths: syntax error in pattern/],
    ["a missing --token-auth-file", () => [`--token-auth-file=${join(dir, "missing.csv")}`], /^--token-auth-file: ENOENT/],
    [
      "a malformed --token-auth-file",
      () => [`--token-auth-file=${join(dir, "bad-tokens.csv")}`],
      /^--token-auth-file: .*bad-tokens\.csv: line 1: /,
    ],
    ["a missing --client-ca-file", () => [`--client-ca-file=${join(dir, "missing.pem")}`], /^--client-ca-file: ENOENT/],
    [
      "a --client-ca-file without certificates",
      () => [`--client-ca-file=${join(dir, "not-a-ca.pem")}`],
      /^--client-ca-file: .*no PEM certificate found$/,
    ],
    ["a missing --config-file", () => [`--config-file=${join(dir, "missing.yaml")}`], /^--config-file .*missing\.yaml: ENOENT/],
    [
      "an unsupported template in --config-file",
      () => [`--config-file=${join(dir, "bad-template.yaml")}`],
      /^--config-file: unsupported template action/,
    ],
    ["a missing --kubeconfig", () => [`--kubeconfig=${join(dir, "missing-kubeconfig")}`], /^--kubeconfig: /],
  ];
  for (const [what, argv, message] of errors) {
    it(`reports ${what} in one line naming the flag`, () => {
      assert.throws(
        () => resolveConfig(flags(...argv())),
        (e: Error) => {
          assert.match(e.message, message);
          assert.doesNotMatch(e.message, /\n/);
          return true;
        },
      );
    });
  }
});

describe("named", () => {
  it("returns what the loader returns", () => {
    assert.equal(
      named("--x", () => 42),
      42,
    );
  });

  it("prefixes an error with the flag", () => {
    assert.throws(
      () =>
        named("--x", () => {
          throw new Error("boom");
        }),
      { message: "--x: boom" },
    );
  });

  it("does not prefix an error that already starts with the flag", () => {
    assert.throws(
      () =>
        named("--config-file", () => {
          throw new Error("--config-file /c.yaml: bad");
        }),
      { message: "--config-file /c.yaml: bad" },
    );
  });

  it("keeps only the first line of the message", () => {
    assert.throws(
      () =>
        named("--x", () => {
          throw new Error("first\nsecond");
        }),
      { message: "--x: first" },
    );
  });

  it("reports a thrown non-Error value", () => {
    assert.throws(
      () =>
        named("--x", () => {
          throw "plain string";
        }),
      { message: "--x: plain string" },
    );
  });
});
