// Caches decisions per (user, uid, groups, extra, attributes): allows and denies for their own
// TTLs, errors never (an outage must not be remembered after it ends).
import { hash } from "node:crypto";
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

// Identities cached by the authenticators come back as the same object on every Check, so their
// half of the key is built once per object.
const userKeys = new WeakMap<UserInfo, string>();

/**
 * A key that differs whenever anything the API server could decide on differs. JSON of a fixed
 * field order cannot collide the way joined strings can ("a,b" + "c" vs "a" + "b,c"); the identity
 * half is a fixed-length hash of that JSON, so the concatenation with the attributes' JSON is
 * unambiguous too.
 */
export function decisionKey(user: UserInfo, a: Attributes): string {
  let who = userKeys.get(user);
  if (who === undefined) {
    const extra = Object.keys(user.extra)
      .sort()
      .map((k) => [k, user.extra[k]]);
    // Hashed: a SHA-256 of the identity is a fifth of its JSON, and this half is kept per identity.
    who = hash("sha256", JSON.stringify([user.name, user.uid, user.groups, extra]), "base64url");
    userKeys.set(user, who);
  }
  const what =
    a.kind === "resource"
      ? JSON.stringify([a.kind, a.verb, a.namespace, a.apiGroup, a.apiVersion, a.resource, a.subresource, a.name])
      : JSON.stringify([a.kind, a.verb, a.path]);
  return who + what;
}
