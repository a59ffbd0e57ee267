// `kube-rbac-extauthz check` run as a user runs it (npm start -- check ...), against the fake API.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { createCA, issueCert } from "../support/pki.ts";
import { runService } from "../support/service-process.ts";

describe("kube-rbac-extauthz check", () => {
  let api: FakeKubeApi;
  let dir: string;
  const check = (...args: string[]) => runService(["check", `--kubeconfig=${api.kubeconfigPath}`, ...args]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-check-cli-"));
    api = await startFakeKubeApi();
    api.tokens.set("prom-token", { user: { username: "system:serviceaccount:monitoring:prometheus", groups: ["system:authenticated"] } });
    api.authorize = (spec) => ({
      allowed:
        spec.nonResourceAttributes?.path === "/metrics" &&
        (spec.user === "system:serviceaccount:monitoring:prometheus" || (spec.groups ?? []).includes("scrapers")),
      reason: spec.nonResourceAttributes?.path === "/metrics" ? 'RBAC: allowed by ClusterRoleBinding "metrics"' : "",
    });
    await writeFile(join(dir, "config.yaml"), 'profiles:\n  api:\n    allowPaths: ["/api/*"]\n');
  });
  after(async () => {
    await api?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("explains an allow by token, step by step, and exits 0", async () => {
    const { code, stdout, stderr } = await check("--path=/metrics", "--token=prom-token");
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^identity +bearer: user "system:serviceaccount:monitoring:prometheus"/m);
    assert.match(
      stdout,
      /^authorization +get \/metrics \(non-resource URL\): allow \(SubjectAccessReview: RBAC: allowed by ClusterRoleBinding "metrics"\)/m,
    );
    assert.match(stdout, /^decision +ALLOWED/m);
    const response = JSON.parse(/^response +(.*)$/m.exec(stdout)?.[1] ?? "{}");
    assert.deepEqual(response.ok_response.headers_to_remove, ["x-remote-user", "x-remote-groups", "authorization"]);
    assert.ok(!stdout.includes("prom-token"), "the token is not printed");
  });

  it("decides for --as and --as-group without authenticating, and exits 1 on a deny", async () => {
    const allowed = await check("--path=/metrics", "--as=carol", "--as-group=scrapers");
    assert.equal(allowed.code, 0, allowed.stdout);
    const denied = await check("--method=POST", "--path=/metrics", "--as=carol");
    assert.equal(denied.code, 1);
    assert.match(denied.stdout, /^decision +DENIED 403: Forbidden \(user=carol, verb=create, path=\/metrics\)/m);
  });

  it("uses the profile and the paths of the configuration", async () => {
    const { code, stdout } = await check(`--config-file=${join(dir, "config.yaml")}`, "--profile=api", "--path=/metrics", "--as=carol");
    assert.equal(code, 1);
    assert.match(stdout, /^profile +api/m);
    assert.match(stdout, /^paths +outside the allow paths/m);
    assert.match(stdout, /DENIED 404/);
  });

  it("authenticates a client certificate from --cert with --client-ca-file", async () => {
    const ca = await createCA(dir, "ca");
    await issueCert(dir, ca, "scraper", { commonName: "scraper", organizations: ["scrapers"], usage: "client" });
    const { code, stdout } = await check(`--client-ca-file=${ca.certFile}`, `--cert=${join(dir, "scraper.crt")}`, "--path=/metrics");
    assert.equal(code, 0, stdout);
    assert.match(stdout, /^identity +x509: user "scraper", groups \["scrapers","system:authenticated"\]/m);
  });

  it("refuses --as-group without --as, and a missing --path, with one line and exit 2", async () => {
    const noAs = await check("--path=/metrics", "--as-group=x");
    assert.equal(noAs.code, 2);
    assert.match(noAs.stderr, /--as-group: needs --as/);
    const noPath = await check("--as=x");
    assert.equal(noPath.code, 2);
    assert.match(noPath.stderr, /--path/);
  });
});
