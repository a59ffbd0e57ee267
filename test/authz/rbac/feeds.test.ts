// The informer source's bookkeeping without a cluster: ready after all four kinds were listed,
// snapshots rebuilt after changes, unreadable objects left out, and how stale the state is.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type FeedOptions, rbacFeeds } from "../../../src/authz/rbac/feeds.ts";
import type { Attributes, UserInfo } from "../../../src/core/types.ts";

const alice: UserInfo = { name: "alice", uid: "", groups: [], extra: {} };
const metrics: Attributes = { kind: "nonResource", verb: "get", path: "/metrics" };
const role = { metadata: { name: "m" }, rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }] };
const binding = { metadata: { name: "b" }, roleRef: { kind: "ClusterRole", name: "m" }, subjects: [{ kind: "User", name: "alice" }] };

function setup() {
  let clock = 0;
  const events: Parameters<FeedOptions["observe"]>[0][] = [];
  const feeds = rbacFeeds({ rebuildDelayMs: 1, now: () => new Date(clock), observe: (e) => events.push(e) });
  const feed = (kind: string) => feeds.states.find((s) => s.kind === kind) ?? assert.fail(kind);
  return { feeds, feed, events, tick: (ms: number) => (clock += ms) };
}

describe("the informer feeds", () => {
  it("are ready only once all four kinds are listed", async () => {
    const { feeds, feed, events } = setup();
    feeds.upsert(feed("ClusterRole"), role);
    feeds.upsert(feed("ClusterRoleBinding"), binding);
    for (const kind of ["Role", "ClusterRole", "RoleBinding"]) feeds.listed(feed(kind));
    assert.equal(feeds.ready, false);
    assert.equal(feeds.syncedAt(), undefined);
    feeds.listed(feed("ClusterRoleBinding"));
    await feeds.whenReady;
    assert.ok(feeds.snapshot?.allowedBy(alice, metrics));
    assert.deepEqual(events, [{ type: "ready", counts: { Role: 0, ClusterRole: 1, RoleBinding: 0, ClusterRoleBinding: 1 } }]);
  });

  it("rebuild the snapshot after changes; a snapshot never changes under a reader", async () => {
    const { feeds, feed } = setup();
    feeds.upsert(feed("ClusterRole"), role);
    for (const s of feeds.states) feeds.listed(s);
    const before = feeds.snapshot;
    feeds.upsert(feed("ClusterRoleBinding"), binding);
    assert.equal(feeds.snapshot, before);
    await sleep(20);
    assert.ok(feeds.snapshot?.allowedBy(alice, metrics));
    assert.equal(before?.allowedBy(alice, metrics), undefined);
    feeds.remove(feed("ClusterRoleBinding"), binding);
    await sleep(20);
    assert.equal(feeds.snapshot?.allowedBy(alice, metrics), undefined);
  });

  it("leave out an object they cannot read, also its earlier version", async () => {
    const { feeds, feed, events } = setup();
    feeds.upsert(feed("ClusterRole"), role);
    feeds.upsert(feed("ClusterRoleBinding"), binding);
    for (const s of feeds.states) feeds.listed(s);
    const unreadable = { ...binding, subjects: [{ kind: "Robot", name: "alice" }] };
    feeds.upsert(feed("ClusterRoleBinding"), unreadable);
    await sleep(20);
    assert.equal(feeds.snapshot?.allowedBy(alice, metrics), undefined);
    assert.equal(events[1]?.type, "invalidObject");
  });

  it("take objects as stored, even rules a manifest would be refused for", () => {
    const { feeds, feed } = setup();
    // Mixing resources and URLs is refused on write today; the apiserver still evaluates what is stored.
    const stored = { ...role, rules: [{ verbs: [] }, { nonResourceURLs: ["/metrics"], resources: ["pods"], verbs: ["get"] }] };
    feeds.upsert(feed("ClusterRole"), stored);
    feeds.upsert(feed("ClusterRoleBinding"), binding);
    for (const s of feeds.states) feeds.listed(s);
    assert.ok(feeds.snapshot?.allowedBy(alice, metrics));
  });

  it("are current while every watch is open, and as old as the first broken one otherwise", () => {
    const { feeds, feed, tick } = setup();
    for (const s of feeds.states) {
      feeds.connected(s);
      feeds.listed(s);
    }
    tick(1000);
    assert.equal(feeds.syncedAt()?.getTime(), 1000);
    feeds.disconnected(feed("Role"));
    tick(1000);
    feeds.disconnected(feed("ClusterRole"));
    feeds.disconnected(feed("Role")); // again: still broken since 1000
    tick(5000);
    assert.equal(feeds.syncedAt()?.getTime(), 1000);
    feeds.connected(feed("Role"));
    assert.equal(feeds.syncedAt()?.getTime(), 2000);
    feeds.connected(feed("ClusterRole"));
    assert.equal(feeds.syncedAt()?.getTime(), 7000);
  });

  it("reject whenReady when stopped before the first sync", async () => {
    const { feeds } = setup();
    feeds.stop();
    await assert.rejects(feeds.whenReady, /stopped before their first sync/);
  });
});
