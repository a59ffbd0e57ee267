import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tokenReviewAuthenticator } from "../../src/authn/token-review.ts";
import type { UserInfo } from "../../src/core/types.ts";
import { KubeApiError, type TokenReviewer, type TokenReviewStatus } from "../../src/kube/types.ts";

const sa: UserInfo = { name: "system:serviceaccount:monitoring:prometheus", uid: "u1", groups: ["system:serviceaccounts"], extra: {} };

function reviewer(answer: TokenReviewStatus | Error) {
  const calls: Array<[string, readonly string[]]> = [];
  const api: TokenReviewer = {
    async tokenReview(token, audiences) {
      calls.push([token, audiences]);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  };
  return { api, calls };
}

describe("tokenReviewAuthenticator", () => {
  it("authenticates the user the API server names, sending the token and audiences", async () => {
    const { api, calls } = reviewer({ authenticated: true, user: sa, audiences: ["https://kubernetes.default.svc"] });
    assert.deepEqual(await tokenReviewAuthenticator(api, []).authenticateToken("tok"), { kind: "authenticated", user: sa });
    assert.deepEqual(calls, [["tok", []]]);
  });

  it("rejects a token the API server did not authenticate, with its error", async () => {
    const { api } = reviewer({ authenticated: false, error: "invalid bearer token" });
    assert.deepEqual(await tokenReviewAuthenticator(api, []).authenticateToken("tok"), {
      kind: "rejected",
      reason: "token review: invalid bearer token",
    });
  });

  it("rejects a token the API server did not authenticate, without an error", async () => {
    const { api } = reviewer({ authenticated: false });
    assert.deepEqual(await tokenReviewAuthenticator(api, []).authenticateToken("tok"), {
      kind: "rejected",
      reason: "token not authenticated",
    });
  });

  it("rejects an authenticated answer that names no user", async () => {
    const { api } = reviewer({ authenticated: true });
    assert.equal((await tokenReviewAuthenticator(api, []).authenticateToken("tok")).kind, "rejected");
  });

  it("authenticates a token valid for one of the required audiences", async () => {
    const { api, calls } = reviewer({ authenticated: true, user: sa, audiences: ["other", "my-service"] });
    const result = await tokenReviewAuthenticator(api, ["my-service", "my-service-2"]).authenticateToken("tok");
    assert.equal(result.kind, "authenticated");
    assert.deepEqual(calls[0][1], ["my-service", "my-service-2"]);
  });

  it("denies a token for another audience", async () => {
    const { api } = reviewer({ authenticated: true, user: sa, audiences: ["https://kubernetes.default.svc"] });
    assert.deepEqual(await tokenReviewAuthenticator(api, ["my-service"]).authenticateToken("tok"), {
      kind: "rejected",
      reason: "token not valid for the required audiences",
    });
  });

  it("denies a token when audiences are required and the answer names none", async () => {
    const { api } = reviewer({ authenticated: true, user: sa });
    assert.equal((await tokenReviewAuthenticator(api, ["my-service"]).authenticateToken("tok")).kind, "rejected");
  });

  it("answers error (not a rejection) when the API call fails", async () => {
    const failure = new KubeApiError("timeout", "slow");
    const { api } = reviewer(failure);
    assert.deepEqual(await tokenReviewAuthenticator(api, []).authenticateToken("tok"), { kind: "error", error: failure });
  });
});
