import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CoalescingCache } from "../../src/cache/coalescing-cache.ts";

interface Box {
  value: string;
  ttl: number;
}

const manualClock = (t = 1_000_000) => ({
  t,
  now() {
    return this.t;
  },
});

function setup(options: { maxEntries?: number; clock?: { now(): number }; purgeEveryMs?: number } = {}) {
  const counts = { hit: 0, miss: 0 };
  const cache = new CoalescingCache<Box>({
    maxEntries: options.maxEntries ?? 10,
    ttlOf: (b) => b.ttl,
    clock: options.clock ?? manualClock(),
    observer: { hit: () => counts.hit++, miss: () => counts.miss++ },
    purgeEveryMs: options.purgeEveryMs ?? 0,
  });
  const loads: string[] = [];
  const loader =
    (key: string, value: string, ttl = 1000) =>
    () => {
      loads.push(key);
      return Promise.resolve({ value, ttl });
    };
  const get = (key: string, value = key, ttl = 1000) => cache.get(key, loader(key, value, ttl));
  return { cache, counts, loads, get };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe("CoalescingCache", () => {
  it("serves a loaded value until its TTL has passed", async () => {
    const clock = manualClock();
    const { get, loads, counts } = setup({ clock });
    assert.equal((await get("k", "v1")).value, "v1");
    clock.t += 1000;
    assert.equal((await get("k", "v2")).value, "v1");
    clock.t += 1;
    assert.equal((await get("k", "v3")).value, "v3");
    assert.deepEqual(loads, ["k", "k"]);
    assert.deepEqual(counts, { hit: 1, miss: 2 });
  });

  it("uses each value's own TTL", async () => {
    const clock = manualClock();
    const { get, loads } = setup({ clock });
    await get("short", "s", 10);
    await get("long", "l", 10_000);
    clock.t += 100;
    await get("short");
    await get("long");
    assert.deepEqual(loads, ["short", "long", "short"]);
  });

  for (const ttl of [0, -1]) {
    it(`does not keep a value whose TTL is ${ttl}`, async () => {
      const { cache, get, loads } = setup();
      await get("k", "v", ttl);
      await get("k", "v", ttl);
      assert.deepEqual(loads, ["k", "k"]);
      assert.equal(cache.size, 0);
    });
  }

  it("merges concurrent look-ups of one key into one load, even when the value is not kept", async () => {
    const { cache, counts } = setup();
    const gate = deferred<Box>();
    let loads = 0;
    const load = () => {
      loads++;
      return gate.promise;
    };
    const waiting = [cache.get("k", load), cache.get("k", load), cache.get("k", load)];
    gate.resolve({ value: "v", ttl: 0 });
    const values = await Promise.all(waiting);
    assert.deepEqual(
      values.map((b) => b.value),
      ["v", "v", "v"],
    );
    assert.equal(loads, 1);
    assert.deepEqual(counts, { hit: 2, miss: 1 });
    await cache.get("k", async () => {
      loads++;
      return { value: "again", ttl: 0 };
    });
    assert.equal(loads, 2, "once settled, a value with TTL 0 is loaded again");
  });

  it("loads different keys separately", async () => {
    const { get, loads } = setup();
    await Promise.all([get("a"), get("b"), get("a")]);
    assert.deepEqual(loads, ["a", "b"]);
  });

  it("rejects every waiter of a failed load and does not keep the failure", async () => {
    const { cache, counts } = setup();
    const gate = deferred<Box>();
    const failure = new Error("down");
    const waiting = [cache.get("k", () => gate.promise), cache.get("k", () => gate.promise)];
    gate.reject(failure);
    for (const w of waiting) await assert.rejects(w, (e) => e === failure);
    assert.equal((await cache.get("k", async () => ({ value: "ok", ttl: 1000 }))).value, "ok");
    assert.deepEqual(counts, { hit: 1, miss: 2 });
  });

  it("evicts the least recently used entry beyond maxEntries", async () => {
    const { cache, get, loads } = setup({ maxEntries: 2 });
    await get("a");
    await get("b");
    await get("a"); // a is now more recent than b
    await get("c"); // evicts b
    assert.equal(cache.size, 2);
    await get("a");
    await get("c");
    assert.deepEqual(loads, ["a", "b", "c"]);
    await get("b");
    assert.deepEqual(loads, ["a", "b", "c", "b"]);
  });

  it("expires an entry stored when the clock read 0 (the clock's origin is arbitrary)", async () => {
    const clock = manualClock(0);
    const { get, loads } = setup({ clock });
    await get("k");
    clock.t += 1001;
    await get("k");
    assert.deepEqual(loads, ["k", "k"]);
  });

  it("drops expired entries on purgeStale, keeping fresh ones", async () => {
    const clock = manualClock();
    const { cache, get } = setup({ clock });
    await get("short", "s", 10);
    await get("long", "l", 10_000);
    clock.t += 100;
    assert.equal(cache.size, 2, "lru-cache keeps expired entries until read or purged");
    cache.purgeStale();
    assert.equal(cache.size, 1);
  });

  it("purges expired entries on its own every purgeEveryMs", async (t) => {
    t.mock.timers.enable({ apis: ["setInterval"] });
    const clock = manualClock();
    const { cache, get } = setup({ clock, purgeEveryMs: 10_000 });
    await get("k", "v", 10);
    clock.t += 100;
    t.mock.timers.tick(9_999);
    assert.equal(cache.size, 1);
    t.mock.timers.tick(1);
    assert.equal(cache.size, 0);
  });
});
