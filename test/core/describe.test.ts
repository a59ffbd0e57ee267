import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeRequest } from "../../src/core/describe.ts";
import type { ResourceAttributes, UserInfo } from "../../src/core/types.ts";

const alice: UserInfo = { name: "alice", uid: "u1", groups: ["dev"], extra: {} };
const resource = (over: Partial<ResourceAttributes> = {}): ResourceAttributes => ({
  kind: "resource",
  verb: "get",
  namespace: "",
  apiGroup: "",
  apiVersion: "",
  resource: "services",
  subresource: "",
  name: "",
  ...over,
});

describe("describeRequest", () => {
  it("names user, verb and path of a non-resource request", () => {
    assert.equal(describeRequest(alice, { kind: "nonResource", verb: "get", path: "/metrics" }), "user=alice, verb=get, path=/metrics");
  });

  it("names only the set fields of a resource request", () => {
    assert.equal(describeRequest(alice, resource()), "user=alice, verb=get, resource=services");
  });

  it("names every field of a fully set resource request in a fixed order", () => {
    const a = resource({ verb: "update", namespace: "ns", apiGroup: "apps", apiVersion: "v1", subresource: "scale", name: "web" });
    assert.equal(
      describeRequest(alice, a),
      "user=alice, verb=update, namespace=ns, apiGroup=apps, resource=services, subresource=scale, name=web",
    );
  });

  it("does not mention groups, uid or extra", () => {
    const text = describeRequest({ ...alice, extra: { secret: ["x"] } }, resource());
    assert.doesNotMatch(text, /dev|u1|secret/);
  });
});
