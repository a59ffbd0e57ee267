import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowedResponses, type IdentityHeaders } from "../../src/core/response.ts";
import type { UserInfo } from "../../src/core/types.ts";

const alice: UserInfo = { name: "alice", uid: "u1", groups: ["dev", "ops"], extra: {} };
const headers = (enabled: boolean): IdentityHeaders => ({
  enabled,
  userHeader: "X-Remote-User",
  groupsHeader: "X-Remote-Groups",
  groupsSeparator: "|",
});

describe("allowedResponses", () => {
  it("allows an ignored path anonymously, stripping client-sent identity headers", () => {
    for (const enabled of [false, true]) {
      const r = allowedResponses(headers(enabled)).anonymous("ignored");
      assert.deepEqual(r, {
        allowed: true,
        status: 200,
        reason: "ignored",
        headersToSet: [],
        headersToRemove: ["x-remote-user", "x-remote-groups"],
      });
    }
  });

  it("with identity headers disabled, strips identity headers and the bearer token", () => {
    const r = allowedResponses(headers(false)).authenticated("rbac", alice, "bearer");
    assert.deepEqual(r, {
      allowed: true,
      status: 200,
      reason: "rbac",
      user: alice,
      headersToSet: [],
      headersToRemove: ["x-remote-user", "x-remote-groups", "authorization"],
    });
  });

  it("with identity headers disabled, keeps the authorization header of an x509 caller", () => {
    const r = allowedResponses(headers(false)).authenticated("rbac", alice, "x509");
    assert.deepEqual(r.headersToSet, []);
    assert.deepEqual(r.headersToRemove, ["x-remote-user", "x-remote-groups"]);
  });

  it("with identity headers enabled, sets lower-cased user and joined groups headers and strips the token", () => {
    const r = allowedResponses(headers(true)).authenticated("rbac", alice, "bearer");
    assert.deepEqual(r.headersToSet, [
      ["x-remote-user", "alice"],
      ["x-remote-groups", "dev|ops"],
    ]);
    assert.deepEqual(r.headersToRemove, ["authorization"]);
  });

  it("hands out the same frozen header lists for the same identity (the gRPC adapter reuses their encoding)", () => {
    for (const enabled of [false, true]) {
      const responses = allowedResponses(headers(enabled));
      const first = responses.authenticated("rbac", alice, "bearer");
      const second = responses.authenticated("other reason", alice, "bearer");
      assert.equal(first.headersToSet, second.headersToSet);
      assert.equal(first.headersToRemove, second.headersToRemove);
      assert.ok(Object.isFrozen(first.headersToSet) && first.headersToSet.every((pair) => Object.isFrozen(pair)));
      assert.ok(Object.isFrozen(first.headersToRemove));
    }
    const bob = { ...alice, name: "bob" };
    const responses = allowedResponses(headers(true));
    assert.deepEqual(responses.authenticated("rbac", bob, "bearer").headersToSet[0], ["x-remote-user", "bob"]);
  });

  it("with identity headers enabled, removes nothing for an x509 caller (the set headers overwrite)", () => {
    const r = allowedResponses(headers(true)).authenticated("rbac", alice, "x509");
    assert.deepEqual(r.headersToSet, [
      ["x-remote-user", "alice"],
      ["x-remote-groups", "dev|ops"],
    ]);
    assert.deepEqual(r.headersToRemove, []);
  });

  it("sets an empty groups header for a user without groups, so a client's copy is overwritten", () => {
    const r = allowedResponses({ ...headers(true), groupsSeparator: "," }).authenticated("", { ...alice, groups: [] }, "x509");
    assert.deepEqual(r.headersToSet, [
      ["x-remote-user", "alice"],
      ["x-remote-groups", ""],
    ]);
  });

  it("joins groups with the configured separator", () => {
    const r = allowedResponses({ ...headers(true), groupsSeparator: ", " }).authenticated("", alice, "x509");
    assert.deepEqual(r.headersToSet[1], ["x-remote-groups", "dev, ops"]);
  });
});
