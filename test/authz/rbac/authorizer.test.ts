import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RbacStore, rbacAuthorizer } from "../../../src/authz/rbac/authorizer.ts";
import { buildSnapshot } from "../../../src/authz/rbac/snapshot.ts";
import type { Attributes, UserInfo } from "../../../src/core/types.ts";
import { toObjects } from "./world.ts";

const RBAC = "rbac.authorization.k8s.io/v1";
const snapshot = buildSnapshot(
  toObjects([
    { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: "m" }, rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }] },
    {
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: { name: "b" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "m" },
      subjects: [{ kind: "Group", name: "scrapers" }],
    },
  ]),
);
const store = (s = snapshot): RbacStore => ({ snapshot: () => s, ready: s !== undefined, syncedAt: s && new Date() });
const user = (groups: string[]): UserInfo => ({ name: "u", uid: "", groups, extra: {} });
const metrics: Attributes = { kind: "nonResource", verb: "get", path: "/metrics" };

describe("the RBAC authorizer", () => {
  it("allows with the binding, role and subject as the reason", async () => {
    assert.deepEqual(await rbacAuthorizer(store()).authorize(user(["scrapers"]), metrics), {
      kind: "allow",
      reason: 'allowed by ClusterRoleBinding "b" of ClusterRole "m" to Group "scrapers"',
    });
  });

  it("has no opinion when no binding allows: RBAC never denies", async () => {
    const decision = await rbacAuthorizer(store()).authorize(user([]), metrics);
    assert.equal(decision.kind, "noOpinion");
  });

  it("fails (503, not a deny) before the store's first sync", async () => {
    const decision = await rbacAuthorizer({ snapshot: () => undefined, ready: false, syncedAt: undefined }).authorize(
      user(["scrapers"]),
      metrics,
    );
    assert.equal(decision.kind, "error");
    assert.match(decision.kind === "error" ? decision.error.message : "", /not synced yet/);
  });
});
