// `kube-rbac-extauthz check` against the real kube-apiserver: the explanation of a real token's
// decision, with the real TokenReview and SubjectAccessReview.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { runService } from "../support/service-process.ts";
import { METRICS_READER_RULES, nonResourceSpec, rbac, SUITE_TIMEOUT, saUser, subjects, useControlPlane, waitForRbac } from "./support.ts";

describe("e2e: kube-rbac-extauthz check", { timeout: SUITE_TIMEOUT }, () => {
  const e2e = useControlPlane();
  let token: string;
  let other: string;

  before(async () => {
    const { cp } = e2e;
    await cp.createServiceAccount("monitoring", "prometheus");
    await cp.createServiceAccount("monitoring", "other");
    await cp.apply(rbac.clusterRole("metrics-reader", METRICS_READER_RULES));
    await cp.apply(rbac.clusterRoleBinding("prometheus-metrics", "metrics-reader", [subjects.serviceAccount("monitoring", "prometheus")]));
    const groups = ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"];
    await waitForRbac(cp, nonResourceSpec(saUser("monitoring", "prometheus"), groups, "/metrics"), true);
    token = await cp.createToken("monitoring", "prometheus");
    other = await cp.createToken("monitoring", "other");
  });

  const check = (...args: string[]) => runService(["check", `--kubeconfig=${e2e.cp.serviceKubeconfigPath}`, ...args]);

  it("explains an allow with the real TokenReview and SubjectAccessReview, exit 0", async () => {
    const { code, stdout } = await check("--path=/metrics", `--token=${token}`);
    assert.equal(code, 0, stdout);
    assert.match(
      stdout,
      /^identity +bearer: user "system:serviceaccount:monitoring:prometheus", groups \["system:serviceaccounts","system:serviceaccounts:monitoring","system:authenticated"\]/m,
    );
    assert.match(
      stdout,
      /^authorization +get \/metrics \(non-resource URL\): allow \(SubjectAccessReview: RBAC: allowed by ClusterRoleBinding "prometheus-metrics"/m,
    );
    assert.ok(!stdout.includes(token), "the token is not printed");
  });

  it("explains a deny, exit 1, and agrees with --as for the same identity", async () => {
    const denied = await check("--path=/metrics", `--token=${other}`);
    assert.equal(denied.code, 1);
    assert.match(
      denied.stdout,
      /^decision +DENIED 403: Forbidden \(user=system:serviceaccount:monitoring:other, verb=get, path=\/metrics\)/m,
    );
    const asserted = await check("--path=/metrics", `--as=${saUser("monitoring", "prometheus")}`, "--as-group=system:serviceaccounts");
    assert.equal(asserted.code, 0, asserted.stdout);
  });
});
