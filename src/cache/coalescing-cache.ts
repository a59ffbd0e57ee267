// A bounded TTL cache that merges concurrent look-ups of one key into one load. lru-cache does the
// bounding, recency and expiry; the in-flight map on top is what merges a stampede of identical
// checks into a single Kubernetes API call. The token cache and the decision cache are both
// instances of it.
import { LRUCache } from "lru-cache";

/** Milliseconds from an arbitrary origin; injected so TTL tests need no sleeping. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => performance.now() };

export interface CacheObserver {
  /** Answered from the cache, or by joining a load already in flight. */
  hit(): void;
  /** A new load was started. */
  miss(): void;
}

export interface CoalescingCacheOptions<V> {
  maxEntries: number;
  /** How long a loaded value may be served, in ms; 0 or less means "do not keep it". */
  ttlOf: (value: V) => number;
  clock?: Clock;
  observer?: CacheObserver;
  /**
   * How often expired entries are dropped, in real ms (default 10 s; 0: never). lru-cache only
   * drops an expired entry when it is read again, so without this a burst of one-time identities
   * would hold memory until evicted by newer ones.
   */
  purgeEveryMs?: number;
}

export class CoalescingCache<V extends object> {
  readonly #entries: LRUCache<string, V>;
  readonly #inFlight = new Map<string, Promise<V>>();
  readonly #ttlOf: (value: V) => number;
  readonly #observer: CacheObserver | undefined;

  constructor(options: CoalescingCacheOptions<V>) {
    this.#ttlOf = options.ttlOf;
    this.#observer = options.observer;
    const clock = options.clock ?? systemClock;
    this.#entries = new LRUCache<string, V>({
      max: options.maxEntries,
      ttlResolution: 0,
      // lru-cache reads a start time of 0 as "no TTL"; the shift keeps any clock's 0 a real time.
      perf: { now: () => clock.now() + 1 },
    });
    const every = options.purgeEveryMs ?? 10_000;
    if (every > 0) {
      // The timer holds the entries weakly, so a cache nobody uses any more can be collected.
      const entries = new WeakRef(this.#entries);
      const timer = setInterval(() => {
        const live = entries.deref();
        if (live) live.purgeStale();
        else clearInterval(timer);
      }, every);
      timer.unref();
    }
  }

  /**
   * The cached value for `key`, or the result of `load`, run once however many callers ask at
   * the same time. A rejected load rejects every caller waiting on it and is not kept.
   */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const cached = this.#entries.get(key);
    if (cached !== undefined) {
      this.#observer?.hit();
      return Promise.resolve(cached);
    }
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) {
      this.#observer?.hit();
      return pending;
    }
    this.#observer?.miss();
    const loading = load()
      .then((value) => {
        const ttl = this.#ttlOf(value);
        if (ttl > 0) this.#entries.set(key, value, { ttl });
        return value;
      })
      .finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, loading);
    return loading;
  }

  /** Entries held, expired ones included until the next purge. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops expired entries now. */
  purgeStale(): void {
    this.#entries.purgeStale();
  }
}
