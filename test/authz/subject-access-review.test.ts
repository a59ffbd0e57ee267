import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { subjectAccessReviewAuthorizer } from "../../src/authz/subject-access-review.ts";
import type { NonResourceAttributes, UserInfo } from "../../src/core/types.ts";
import { KubeApiError, type SubjectAccessReviewer, type SubjectAccessReviewStatus } from "../../src/kube/types.ts";

const user: UserInfo = { name: "alice", uid: "u1", groups: ["dev"], extra: { scopes: ["a"] } };
const metrics: NonResourceAttributes = { kind: "nonResource", verb: "get", path: "/metrics" };
const status = (over: Partial<SubjectAccessReviewStatus>): SubjectAccessReviewStatus => ({
  allowed: false,
  denied: false,
  reason: "",
  evaluationError: "",
  ...over,
});

function api(answer: SubjectAccessReviewStatus | Error) {
  const calls: unknown[] = [];
  const reviewer: SubjectAccessReviewer = {
    async subjectAccessReview(u, a) {
      calls.push([u, a]);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { reviewer, calls };
}

describe("subjectAccessReviewAuthorizer", () => {
  it("allows what the API server allows, with its reason, asking about the user and attributes", async () => {
    const { reviewer, calls } = api(status({ allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "x"' }));
    assert.deepEqual(await subjectAccessReviewAuthorizer(reviewer).authorize(user, metrics), {
      kind: "allow",
      reason: 'RBAC: allowed by ClusterRoleBinding "x"',
    });
    assert.deepEqual(calls, [[user, metrics]]);
  });

  it("denies when the API server does not allow", async () => {
    const { reviewer } = api(status({ reason: "no RBAC policy matched" }));
    assert.deepEqual(await subjectAccessReviewAuthorizer(reviewer).authorize(user, metrics), {
      kind: "deny",
      reason: "no RBAC policy matched",
    });
  });

  it("denies when an authorizer explicitly denied, even if allowed is also set", async () => {
    const { reviewer } = api(status({ allowed: true, denied: true, reason: "webhook denied" }));
    assert.deepEqual(await subjectAccessReviewAuthorizer(reviewer).authorize(user, metrics), { kind: "deny", reason: "webhook denied" });
  });

  it("gives the evaluation error as the reason when there is no reason", async () => {
    const { reviewer } = api(status({ evaluationError: "role not found" }));
    assert.deepEqual(await subjectAccessReviewAuthorizer(reviewer).authorize(user, metrics), { kind: "deny", reason: "role not found" });
  });

  it("answers error when the API call throws", async () => {
    const failure = new KubeApiError("500", "Kubernetes API answered 500");
    const { reviewer } = api(failure);
    assert.deepEqual(await subjectAccessReviewAuthorizer(reviewer).authorize(user, metrics), { kind: "error", error: failure });
  });
});
