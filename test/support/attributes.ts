// Authorization attributes that tests of several units share.
import type { NonResourceAttributes, ResourceAttributes } from "../../src/core/types.ts";

/** `get /metrics`, the request of every Prometheus scrape. */
export const METRICS: NonResourceAttributes = { kind: "nonResource", verb: "get", path: "/metrics" };

/** A resource request: `get pods` in namespace `ns`, with any field overridden. */
export function resource(overrides: Partial<Omit<ResourceAttributes, "kind">> = {}): ResourceAttributes {
  return {
    kind: "resource",
    verb: "get",
    namespace: "ns",
    apiGroup: "",
    apiVersion: "v1",
    resource: "pods",
    subresource: "",
    name: "",
    ...overrides,
  };
}

/** A request that sets every resource field: `list deployments/scale "web"` in ns1 of group apps. */
export const DEPLOYMENT_SCALE = resource({
  verb: "list",
  namespace: "ns1",
  apiGroup: "apps",
  resource: "deployments",
  subresource: "scale",
  name: "web",
});
