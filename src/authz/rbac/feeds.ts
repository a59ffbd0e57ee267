// The bookkeeping behind the informer source, free of client-node: the current objects of each of
// the four kinds, whether each has been listed and is being watched, and the snapshot they make.
// The snapshot is built at the first complete sync and rebuilt (at most once per rebuildDelayMs)
// after changes; decisions read whichever snapshot is current, never a half-applied change.
import { parseRbacObject, type RbacObjectOf } from "./schema.ts";
import { buildSnapshot, type RbacSnapshot } from "./snapshot.ts";
import { RBAC_KINDS, type RbacKind } from "./types.ts";

export interface FeedState {
  readonly kind: RbacKind;
  /** By namespace/name. */
  readonly objects: Map<string, RbacObjectOf<RbacKind>>;
  listed: boolean;
  /** A watch response is open: the objects are current. */
  connected: boolean;
  /** When the objects were last known current (the last moment the watch was open). */
  currentAt: Date;
  /** Failed lists and watches, ever; the informer compares counts around a start. */
  failures: number;
  backoffMs: number;
  retry?: ReturnType<typeof setTimeout>;
}

export interface FeedOptions {
  rebuildDelayMs: number;
  now: () => Date;
  observe: (
    event: { type: "ready"; counts: Record<RbacKind, number> } | { type: "invalidObject"; kind: RbacKind; name: string; error: Error },
  ) => void;
}

interface RawObject {
  metadata?: { name?: string; namespace?: string };
}

export function rbacFeeds(options: FeedOptions) {
  const states: FeedState[] = RBAC_KINDS.map((kind) => ({
    kind,
    objects: new Map(),
    listed: false,
    connected: false,
    currentAt: options.now(),
    failures: 0,
    backoffMs: 0,
  }));
  let snapshot: RbacSnapshot | undefined;
  let rebuildTimer: ReturnType<typeof setTimeout> | undefined;
  const ready = Promise.withResolvers<void>();
  ready.promise.catch(() => {}); // a caller that never awaits start() must not see an unhandled rejection

  const objectsOf = <K extends RbacKind>(kind: K) =>
    [...(states.find((s) => s.kind === kind)?.objects.values() ?? [])] as RbacObjectOf<K>[];
  const rebuild = () => {
    clearTimeout(rebuildTimer);
    rebuildTimer = undefined;
    snapshot = buildSnapshot({
      roles: objectsOf("Role"),
      clusterRoles: objectsOf("ClusterRole"),
      roleBindings: objectsOf("RoleBinding"),
      clusterRoleBindings: objectsOf("ClusterRoleBinding"),
    });
  };
  const changed = () => {
    if (snapshot && !rebuildTimer) rebuildTimer = setTimeout(rebuild, options.rebuildDelayMs);
  };
  const keyOf = (o: RawObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

  return {
    states,
    whenReady: ready.promise,
    get snapshot() {
      return snapshot;
    },
    get ready() {
      return snapshot !== undefined;
    },
    /** The oldest "last known current" of the four; now while every watch is open. */
    syncedAt(): Date | undefined {
      if (!snapshot) return undefined;
      const stale = states.filter((s) => !s.connected).map((s) => s.currentAt.getTime());
      return stale.length ? new Date(Math.min(...stale)) : options.now();
    },
    upsert(feed: FeedState, raw: RawObject) {
      const key = keyOf(raw);
      try {
        feed.objects.set(key, parseRbacObject(feed.kind, raw, "cluster"));
      } catch (e) {
        // RBAC only grants: leaving out an object it cannot read can only deny more, never allow.
        feed.objects.delete(key);
        options.observe({ type: "invalidObject", kind: feed.kind, name: key, error: e as Error });
      }
      changed();
    },
    remove(feed: FeedState, raw: RawObject) {
      feed.objects.delete(keyOf(raw));
      changed();
    },
    connected(feed: FeedState) {
      feed.connected = true;
    },
    disconnected(feed: FeedState) {
      if (!feed.connected) return;
      feed.connected = false;
      feed.currentAt = options.now();
    },
    /** The feed's list (and watch) succeeded: the first time all four have, the store is ready. */
    listed(feed: FeedState) {
      feed.listed = true;
      if (snapshot || !states.every((s) => s.listed)) return;
      rebuild();
      options.observe({
        type: "ready",
        counts: Object.fromEntries(states.map((s) => [s.kind, s.objects.size])) as Record<RbacKind, number>,
      });
      ready.resolve();
    },
    stop() {
      clearTimeout(rebuildTimer);
      for (const s of states) clearTimeout(s.retry);
      ready.reject(new Error("the RBAC informers were stopped before their first sync"));
    },
  };
}
