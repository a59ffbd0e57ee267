// One PolicyRule against one request, exactly as kube-apiserver decides it: RuleAllows of
// plugin/pkg/auth/authorizer/rbac and the matchers of pkg/apis/rbac/v1/evaluation_helpers.go. Every
// comparison is literal; `*` is special only where the apiserver makes it so.
import type { Attributes } from "../../core/types.ts";
import type { PolicyRule } from "./types.ts";

/** A request in the form the matchers read, computed once per decision. */
export type RuleRequest =
  | { resource: false; verb: string; path: string }
  | { resource: true; verb: string; apiGroup: string; combinedResource: string; subresource: string; name: string };

export function ruleRequest(a: Attributes): RuleRequest {
  if (a.kind === "nonResource") return { resource: false, verb: a.verb, path: a.path };
  return {
    resource: true,
    verb: a.verb,
    apiGroup: a.apiGroup,
    // The apiserver matches `pods/log` against the rule's resources as one string.
    combinedResource: a.subresource ? `${a.resource}/${a.subresource}` : a.resource,
    subresource: a.subresource,
    name: a.name,
  };
}

export function rulesAllow(request: RuleRequest, rules: readonly PolicyRule[]): boolean {
  for (const rule of rules) if (ruleAllows(request, rule)) return true;
  return false;
}

export function ruleAllows(request: RuleRequest, rule: PolicyRule): boolean {
  if (!verbMatches(rule, request.verb)) return false;
  if (!request.resource) return nonResourceURLMatches(rule, request.path);
  return (
    apiGroupMatches(rule, request.apiGroup) &&
    resourceMatches(rule, request.combinedResource, request.subresource) &&
    resourceNameMatches(rule, request.name)
  );
}

// Plain loops, not some(): these run for every candidate rule of every decision.

export function verbMatches(rule: PolicyRule, verb: string): boolean {
  for (const v of rule.verbs) if (v === "*" || v === verb) return true;
  return false;
}

export function apiGroupMatches(rule: PolicyRule, group: string): boolean {
  for (const g of rule.apiGroups) if (g === "*" || g === group) return true;
  return false;
}

/** `*` matches any resource and subresource; `*\/scale` any resource's `scale` subresource. */
export function resourceMatches(rule: PolicyRule, combinedResource: string, subresource: string): boolean {
  for (const r of rule.resources) {
    if (r === "*" || r === combinedResource) return true;
    if (subresource !== "" && r.length === subresource.length + 2 && r.startsWith("*/") && r.endsWith(subresource)) return true;
  }
  return false;
}

/** No resourceNames: any name. Otherwise the name must be listed, so a request without a name
 *  (list, create) is not allowed, unless the list holds "" (which the apiserver accepts). */
export function resourceNameMatches(rule: PolicyRule, name: string): boolean {
  return rule.resourceNames.length === 0 || rule.resourceNames.includes(name);
}

/** `*` matches every path; `/logs/*` (any trailing `*`s) every path starting with `/logs/`. */
export function nonResourceURLMatches(rule: PolicyRule, path: string): boolean {
  for (const u of rule.nonResourceURLs) {
    if (u === "*" || u === path || (u.endsWith("*") && path.startsWith(trimTrailingStars(u)))) return true;
  }
  return false;
}

function trimTrailingStars(s: string): string {
  let end = s.length;
  while (end > 0 && s[end - 1] === "*") end--;
  return s.slice(0, end);
}
