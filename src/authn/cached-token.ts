// Caches token authentication results keyed by a keyed hash of the token, never the token itself.
// Successes and rejections are kept for the TTL; errors are never kept, so an API outage does not
// outlive itself.
import { type CacheObserver, type Clock, CoalescingCache } from "../cache/coalescing-cache.ts";
import type { TokenHasher } from "./token-hash.ts";
import type { TokenAuthenticator, TokenResult } from "./types.ts";

export interface TokenCacheOptions {
  ttlMs: number;
  maxEntries: number;
  hash: TokenHasher;
  clock?: Clock;
  observer?: CacheObserver;
}

export function cachedTokenAuthenticator(inner: TokenAuthenticator, options: TokenCacheOptions): TokenAuthenticator {
  const cache = new CoalescingCache<TokenResult>({
    maxEntries: options.maxEntries,
    ttlOf: (result) => (result.kind === "error" ? 0 : options.ttlMs),
    clock: options.clock,
    observer: options.observer,
  });
  return {
    authenticateToken: (token) => cache.get(options.hash(token), () => inner.authenticateToken(token)),
  };
}
