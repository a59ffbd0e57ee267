// kube-rbac-proxy's static authorizer: a rule allows, with no API call, a request whose attributes
// equal every field the rule sets. Unlike kube-rbac-proxy, a rule's `user.groups` is honoured: a
// rule with groups matches only a user in at least one of them.
import type { Attributes, UserInfo } from "../core/types.ts";
import type { Authorizer, Decision } from "./types.ts";

export interface StaticRule {
  user: { name?: string; groups?: readonly string[] };
  verb?: string;
  namespace?: string;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  resourceRequest: boolean;
  path?: string;
}

export function staticAuthorizer(rules: readonly StaticRule[]): Authorizer {
  return {
    async authorize(user: UserInfo, attributes: Attributes): Promise<Decision> {
      const match = rules.findIndex((rule) => matches(rule, user, attributes));
      return match === -1 ? { kind: "noOpinion", reason: "" } : { kind: "allow", reason: `rule ${match + 1} matched` };
    },
  };
}

export function matches(rule: StaticRule, user: UserInfo, a: Attributes): boolean {
  const resource = a.kind === "resource";
  return (
    rule.resourceRequest === resource &&
    field(rule.user.name, user.name) &&
    inGroups(rule.user.groups, user.groups) &&
    field(rule.verb, a.verb) &&
    field(rule.path, resource ? "" : a.path) &&
    field(rule.namespace, resource ? a.namespace : "") &&
    field(rule.apiGroup, resource ? a.apiGroup : "") &&
    field(rule.resource, resource ? a.resource : "") &&
    field(rule.subresource, resource ? a.subresource : "") &&
    field(rule.name, resource ? a.name : "")
  );
}

// An unset (or empty) field in a rule matches anything, as in kube-rbac-proxy.
function field(want: string | undefined, got: string): boolean {
  return !want || want === got;
}

function inGroups(want: readonly string[] | undefined, got: readonly string[]): boolean {
  return !want || want.length === 0 || got.some((g) => want.includes(g));
}
