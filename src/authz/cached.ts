// Caches decisions per (user, uid, groups, extra, attributes): allows and denies for their own
// TTLs, errors never (an outage must not be remembered after it ends).
import { type CacheObserver, type Clock, CoalescingCache } from "../cache/coalescing-cache.ts";
import type { Attributes, UserInfo } from "../core/types.ts";
import type { Authorizer, Decision } from "./types.ts";

export interface DecisionCacheOptions {
  allowTtlMs: number;
  denyTtlMs: number;
  maxEntries: number;
  clock?: Clock;
  observer?: CacheObserver;
}

export function cachedAuthorizer(inner: Authorizer, options: DecisionCacheOptions): Authorizer {
  const cache = new CoalescingCache<Decision>({
    maxEntries: options.maxEntries,
    ttlOf: (d) => (d.kind === "allow" ? options.allowTtlMs : d.kind === "error" ? 0 : options.denyTtlMs),
    clock: options.clock,
    observer: options.observer,
  });
  return {
    authorize: (user, attributes) => cache.get(decisionKey(user, attributes), () => inner.authorize(user, attributes)),
  };
}

/**
 * A key that differs whenever anything the API server could decide on differs. JSON of a fixed
 * field order cannot collide the way joined strings can ("a,b" + "c" vs "a" + "b,c").
 */
export function decisionKey(user: UserInfo, a: Attributes): string {
  const extra = Object.keys(user.extra)
    .sort()
    .map((k) => [k, user.extra[k]]);
  const attrs =
    a.kind === "resource" ? [a.verb, a.namespace, a.apiGroup, a.apiVersion, a.resource, a.subresource, a.name] : [a.verb, a.path];
  return JSON.stringify([user.name, user.uid, user.groups, extra, a.kind, attrs]);
}
