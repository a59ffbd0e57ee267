// The embedded example of examples/: its tokens and RBAC manifests load, and decide what
// examples/README.md promises.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadTokenFile } from "../../../src/authn/token-file.ts";
import { newTokenHasher } from "../../../src/authn/token-hash.ts";
import { rbacAuthorizer } from "../../../src/authz/rbac/authorizer.ts";
import { manifestStore } from "../../../src/authz/rbac/manifest-store.ts";
import type { Attributes } from "../../../src/core/types.ts";

const example = (name: string) => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

describe("the embedded example", () => {
  const tokens = loadTokenFile(example("tokens.csv"), newTokenHasher());
  const authorizer = rbacAuthorizer(manifestStore(example("rbac.yaml")));
  const decide = async (token: string, attributes: Attributes) => {
    const authn = await tokens.authenticateToken(token);
    assert.equal(authn.kind, "authenticated");
    return authn.kind === "authenticated" ? (await authorizer.authorize(authn.user, attributes)).kind : "unauthenticated";
  };

  it("lets prometheus GET /metrics", async () => {
    assert.equal(await decide("prometheus-demo-token", { kind: "nonResource", verb: "get", path: "/metrics" }), "allow");
  });

  it("does not let prometheus do anything else", async () => {
    assert.equal(await decide("prometheus-demo-token", { kind: "nonResource", verb: "get", path: "/debug" }), "noOpinion");
    assert.equal(await decide("prometheus-demo-token", { kind: "nonResource", verb: "create", path: "/metrics" }), "noOpinion");
  });

  it("does not let alice GET /metrics", async () => {
    assert.equal(await decide("alice-demo-token", { kind: "nonResource", verb: "get", path: "/metrics" }), "noOpinion");
  });
});
