// metav1.LabelSelector as LabelSelectorAsSelector reads it: matchLabels are equalities, and an
// expression's operator is In, NotIn, Exists or DoesNotExist. An empty selector matches everything.
// Selectors are checked when parsed (In/NotIn need values, Exists/DoesNotExist none), so matching
// cannot fail here.
import type { LabelSelector } from "./types.ts";

export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (!Object.hasOwn(labels, key) || labels[key] !== value) return false;
  }
  for (const { key, operator, values } of selector.matchExpressions) {
    const has = Object.hasOwn(labels, key);
    switch (operator) {
      case "In":
        if (!has || !values.includes(labels[key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
    }
  }
  return true;
}
