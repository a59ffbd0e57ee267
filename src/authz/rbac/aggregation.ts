// ClusterRole aggregation, as kube-controller-manager's clusterrole-aggregation controller resolves
// it: an aggregated ClusterRole's rules are the union of the rules of every other ClusterRole that
// one of its selectors matches. The controller writes them into .rules, so objects read from a
// cluster are already resolved; manifests are resolved here, over the ClusterRoles of the manifest
// set. An aggregated role may select another aggregated role: iterate to the least fixed point (the
// controller converges to it too, one sync at a time).
import { selectorMatches } from "./selector.ts";
import type { ClusterRole, PolicyRule } from "./types.ts";

export function resolveAggregation(clusterRoles: readonly ClusterRole[]): ClusterRole[] {
  const byName = [...clusterRoles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // What the controller overwrites starts empty: the manifest's own .rules of an aggregated role
  // are not part of the result, as in a cluster.
  const current = new Map<string, readonly PolicyRule[]>(clusterRoles.map((r) => [r.name, r.aggregationRule ? [] : r.rules]));
  const aggregated = byName.filter((r) => r.aggregationRule);
  for (let changed = true; changed; ) {
    changed = false;
    for (const role of aggregated) {
      const rules = aggregate(role, byName, current);
      if (rules.length !== current.get(role.name)?.length) {
        current.set(role.name, rules);
        changed = true;
      }
    }
  }
  return clusterRoles.map((r) => (r.aggregationRule ? { ...r, rules: current.get(r.name) ?? [] } : r));
}

// The controller's syncClusterRole: selectors in order, matches sorted by name, itself skipped,
// equal rules once.
function aggregate(role: ClusterRole, byName: readonly ClusterRole[], current: ReadonlyMap<string, readonly PolicyRule[]>): PolicyRule[] {
  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  for (const selector of role.aggregationRule?.clusterRoleSelectors ?? []) {
    for (const other of byName) {
      if (other.name === role.name || !selectorMatches(selector, other.labels)) continue;
      for (const rule of current.get(other.name) ?? []) {
        const key = JSON.stringify(rule);
        if (!seen.has(key)) {
          seen.add(key);
          rules.push(rule);
        }
      }
    }
  }
  return rules;
}
