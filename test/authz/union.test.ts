import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Authorizer, Decision } from "../../src/authz/types.ts";
import { authorizerUnion } from "../../src/authz/union.ts";
import type { NonResourceAttributes, UserInfo } from "../../src/core/types.ts";

const user: UserInfo = { name: "alice", uid: "", groups: [], extra: {} };
const metrics: NonResourceAttributes = { kind: "nonResource", verb: "get", path: "/metrics" };

function named(name: string, decision: Decision, log: string[]): { name: string; authorizer: Authorizer } {
  return {
    name,
    authorizer: {
      async authorize() {
        log.push(name);
        return decision;
      },
    },
  };
}

describe("authorizerUnion", () => {
  const decisive: Array<["allow" | "deny", string, string]> = [
    ["allow", "rule 1 matched", "static: rule 1 matched"],
    ["deny", "forbidden", "static: forbidden"],
    ["allow", "", "static"],
    ["deny", "", "static"],
  ];
  for (const [kind, reason, expected] of decisive) {
    it(`lets the first ${kind} (reason ${JSON.stringify(reason)}) decide, naming the authorizer`, async () => {
      const log: string[] = [];
      const union = authorizerUnion([
        named("none", { kind: "noOpinion", reason: "" }, log),
        named("static", { kind, reason }, log),
        named("sar", { kind: "allow", reason: "later" }, log),
      ]);
      assert.deepEqual(await union.authorize(user, metrics), { kind, reason: expected });
      assert.deepEqual(log, ["none", "static"]);
    });
  }

  it("lets a later allow decide after an earlier error", async () => {
    const log: string[] = [];
    const union = authorizerUnion([
      named("a", { kind: "error", error: new Error("down") }, log),
      named("b", { kind: "allow", reason: "ok" }, log),
    ]);
    assert.deepEqual(await union.authorize(user, metrics), { kind: "allow", reason: "b: ok" });
  });

  it("answers the first error when nobody decided", async () => {
    const first = new Error("first");
    const union = authorizerUnion([
      named("a", { kind: "error", error: first }, []),
      named("b", { kind: "noOpinion", reason: "x" }, []),
      named("c", { kind: "error", error: new Error("second") }, []),
    ]);
    assert.deepEqual(await union.authorize(user, metrics), { kind: "error", error: first });
  });

  it("joins the reasons of every member without an opinion", async () => {
    const union = authorizerUnion([
      named("a", { kind: "noOpinion", reason: "no rule" }, []),
      named("b", { kind: "noOpinion", reason: "" }, []),
      named("c", { kind: "noOpinion", reason: "not mine" }, []),
    ]);
    assert.deepEqual(await union.authorize(user, metrics), { kind: "noOpinion", reason: "a: no rule; c: not mine" });
  });

  it("has no opinion with no members", async () => {
    assert.deepEqual(await authorizerUnion([]).authorize(user, metrics), { kind: "noOpinion", reason: "" });
  });

  it("passes user and attributes to every member", async () => {
    const seen: unknown[] = [];
    const union = authorizerUnion([
      {
        name: "spy",
        authorizer: {
          async authorize(u, a) {
            seen.push([u, a]);
            return { kind: "noOpinion", reason: "" };
          },
        },
      },
    ]);
    await union.authorize(user, metrics);
    assert.deepEqual(seen, [[user, metrics]]);
  });
});
