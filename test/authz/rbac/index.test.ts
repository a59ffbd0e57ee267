// The subject index answers exactly as a brute-force walk over every binding (the apiserver's
// VisitRulesFor, without any index), over seeded random worlds and requests.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ruleRequest, rulesAllow } from "../../../src/authz/rbac/rules.ts";
import { buildSnapshot } from "../../../src/authz/rbac/snapshot.ts";
import { appliesToUser } from "../../../src/authz/rbac/subjects.ts";
import type { RbacObjects, RoleRef } from "../../../src/authz/rbac/types.ts";
import type { Attributes, UserInfo } from "../../../src/core/types.ts";
import { randomCase } from "./cases.ts";
import { generateWorld, prng, toObjects } from "./world.ts";

function bruteForce(objects: RbacObjects, user: UserInfo, attributes: Attributes): boolean {
  const request = ruleRequest(attributes);
  const rulesOf = (ref: RoleRef, namespace: string) =>
    ref.kind === "ClusterRole"
      ? (objects.clusterRoles.find((r) => r.name === ref.name)?.rules ?? [])
      : (objects.roles.find((r) => r.namespace === namespace && r.name === ref.name)?.rules ?? []);
  for (const b of objects.clusterRoleBindings) {
    if (
      b.roleRef.kind === "ClusterRole" &&
      b.subjects.some((s) => appliesToUser(user, s, "")) &&
      rulesAllow(request, rulesOf(b.roleRef, ""))
    )
      return true;
  }
  const namespace = attributes.kind === "resource" ? attributes.namespace : "";
  if (!namespace) return false;
  return objects.roleBindings.some(
    (b) =>
      b.namespace === namespace &&
      b.subjects.some((s) => appliesToUser(user, s, namespace)) &&
      rulesAllow(request, rulesOf(b.roleRef, namespace)),
  );
}

describe("the subject index", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`answers as a brute-force walk (seed ${seed}, 4000 requests)`, () => {
      const rng = prng(seed);
      const objects = toObjects(generateWorld(rng).objects);
      const snapshot = buildSnapshot(objects);
      let allowed = 0;
      for (let i = 0; i < 4000; i++) {
        const { user, attributes } = randomCase(rng);
        const expected = bruteForce(objects, user, attributes);
        assert.equal(snapshot.allowedBy(user, attributes) !== undefined, expected, JSON.stringify({ user, attributes }));
        if (expected) allowed++;
      }
      // Both answers occur often enough for the comparison to mean something.
      assert.ok(allowed > 200 && allowed < 3800, `allowed ${allowed} of 4000`);
    });
  }
});
