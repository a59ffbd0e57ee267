// Seeded random requests against the world of world.ts: ServiceAccounts (with some of the groups
// their tokens carry) and users with random groups; resource requests in the world's namespaces,
// in another one and cluster-wide; non-resource paths around the world's URL rules.
import type { Attributes, UserInfo } from "../../../src/core/types.ts";
import { API_GROUPS, GROUPS, NAMESPACES, RESOURCE_NAMES, type Rng, SA_NAMES, USERS, VERBS } from "./world.ts";

const RESOURCES = ["pods", "deployments", "secrets", "jobs", "*"];
const SUBRESOURCES = ["", "", "log", "exec", "scale", "status", "*"];
const PATHS = [
  "/metrics",
  "/metrics/",
  "/metrics/cadvisor",
  "/metricsx",
  "/logs",
  "/logs/",
  "/logs/app",
  "/logsx",
  "/healthz",
  "/healthz/x",
  "/api",
  "/api/v1",
  "/",
  "/a*b",
  "/axb",
  "/version",
];

export interface Case {
  user: UserInfo;
  attributes: Attributes;
}

export function randomCase(rng: Rng): Case {
  return { user: randomUser(rng), attributes: rng.chance(0.35) ? nonResource(rng) : resource(rng) };
}

function randomUser(rng: Rng): UserInfo {
  if (rng.chance(0.5)) {
    const namespace = rng.pick([...NAMESPACES, "rb-other"]);
    const groups = ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"].filter(() => rng.chance(0.7));
    return { name: `system:serviceaccount:${namespace}:${rng.pick(SA_NAMES)}`, uid: "", groups, extra: {} };
  }
  return { name: rng.pick([...USERS, "dave"]), uid: "", groups: GROUPS.filter(() => rng.chance(0.25)), extra: {} };
}

function resource(rng: Rng): Attributes {
  return {
    kind: "resource",
    verb: rng.pick(VERBS),
    namespace: rng.pick([...NAMESPACES, "", "rb-other"]),
    apiGroup: rng.pick(API_GROUPS),
    apiVersion: "v1",
    resource: rng.pick(RESOURCES),
    subresource: rng.pick(SUBRESOURCES),
    name: rng.pick(["", "", ...RESOURCE_NAMES]),
  };
}

function nonResource(rng: Rng): Attributes {
  return { kind: "nonResource", verb: rng.pick(VERBS), path: rng.pick(PATHS) };
}
