// RBAC from the cluster: list and watch of the four rbac.authorization.k8s.io/v1 kinds through
// client-node's informer (ListWatch, what makeInformer builds, given a Watch that reports when its
// connection is open). Ready after every kind has been listed once. A watch that breaks is started
// again after a backoff; it resumes from the last resourceVersion, and relists when the apiserver
// no longer has it (410), so the state catches up with whatever happened meanwhile. Decisions keep
// reading the last complete snapshot throughout.
import { type KubeConfig, type KubernetesObject, ListWatch, RbacAuthorizationV1Api, Watch } from "@kubernetes/client-node";
import type { RbacStore } from "../authz/rbac/authorizer.ts";
import { type FeedOptions, type FeedState, rbacFeeds } from "../authz/rbac/feeds.ts";
import type { RbacKind } from "../authz/rbac/types.ts";

export type InformerEvent =
  | Parameters<FeedOptions["observe"]>[0]
  | { type: "retrying"; kind: RbacKind; error: Error; retryInMs: number }
  | { type: "resynced"; kind: RbacKind };

export interface RbacInformerOptions {
  /** Wait after a failed list or watch: doubles from `initial` up to `max`. Default 500ms to 10s. */
  retryMs?: { initial: number; max: number };
  /** Changes within this window are folded into one snapshot rebuild. Default 20ms. */
  rebuildDelayMs?: number;
  /** For logs. */
  observe?: (event: InformerEvent) => void;
  now?: () => Date;
}

export interface RbacInformerStore extends RbacStore {
  /** Starts listing and watching; resolves at the first complete sync (rejects if stopped first). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const RBAC_PATH = "/apis/rbac.authorization.k8s.io/v1";

export function rbacInformerStore(kc: KubeConfig, options: RbacInformerOptions = {}): RbacInformerStore {
  const retry = options.retryMs ?? { initial: 500, max: 10_000 };
  const observe = options.observe ?? (() => {});
  const api = kc.makeApiClient(RbacAuthorizationV1Api);
  const sources: Record<RbacKind, ListSource> = {
    Role: { path: `${RBAC_PATH}/roles`, list: () => api.listRoleForAllNamespaces() },
    ClusterRole: { path: `${RBAC_PATH}/clusterroles`, list: () => api.listClusterRole() },
    RoleBinding: { path: `${RBAC_PATH}/rolebindings`, list: () => api.listRoleBindingForAllNamespaces() },
    ClusterRoleBinding: { path: `${RBAC_PATH}/clusterrolebindings`, list: () => api.listClusterRoleBinding() },
  };
  const feeds = rbacFeeds({ rebuildDelayMs: options.rebuildDelayMs ?? 20, now: options.now ?? (() => new Date()), observe });
  const informers = feeds.states.map((feed) => {
    const watch = new ConnectionTrackingWatch(kc, { open: () => feeds.connected(feed), close: () => feeds.disconnected(feed) });
    return new ListWatch<KubernetesObject>(sources[feed.kind].path, watch, sources[feed.kind].list, false);
  });
  let stopped = false;

  // client-node's ListWatch stops for good after an error other than a watch timeout or a 410:
  // start it again after a backoff. start() resumes the watch, or relists when it has never listed.
  const failed = (feed: FeedState, informer: ListWatch<KubernetesObject>, error: unknown) => {
    if (stopped) return;
    feed.failures++;
    const retryInMs = feed.backoffMs;
    feed.backoffMs = Math.min(retry.max, retryInMs * 2);
    observe({ type: "retrying", kind: feed.kind, error: error instanceof Error ? error : new Error(String(error)), retryInMs });
    clearTimeout(feed.retry);
    feed.retry = setTimeout(() => void run(feed, informer, true), retryInMs);
  };
  const run = async (feed: FeedState, informer: ListWatch<KubernetesObject>, wasBroken: boolean) => {
    const failuresBefore = feed.failures;
    try {
      await informer.start();
    } catch (error) {
      failed(feed, informer, error);
      return;
    }
    if (stopped || feed.failures !== failuresBefore) return;
    feed.backoffMs = retry.initial;
    feeds.listed(feed);
    if (wasBroken) observe({ type: "resynced", kind: feed.kind });
  };
  for (const [i, informer] of informers.entries()) {
    const feed = feeds.states[i];
    feed.backoffMs = retry.initial;
    informer.on("add", (o) => feeds.upsert(feed, o));
    informer.on("update", (o) => feeds.upsert(feed, o));
    informer.on("delete", (o) => feeds.remove(feed, o));
    informer.on("error", (error: unknown) => failed(feed, informer, error));
  }

  return {
    get ready() {
      return feeds.ready;
    },
    get syncedAt() {
      return feeds.syncedAt();
    },
    snapshot: () => feeds.snapshot,
    start() {
      for (const [i, informer] of informers.entries()) void run(feeds.states[i], informer, false);
      return feeds.whenReady;
    },
    async stop() {
      stopped = true;
      feeds.stop();
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}

interface ListSource {
  path: string;
  list: () => Promise<{ items: KubernetesObject[] }>;
}

// A Watch that marks its feed connected while a watch response is open. ListWatch reconnects on
// its own after a clean end or a timeout without telling anyone; this is how a broken or
// reconnecting watch shows in syncedAt.
class ConnectionTrackingWatch extends Watch {
  private readonly connection: { open(): void; close(): void };

  constructor(kc: KubeConfig, connection: { open(): void; close(): void }) {
    super(kc);
    this.connection = connection;
  }

  async watch(path: string, query: Parameters<Watch["watch"]>[1], callback: Parameters<Watch["watch"]>[2], done: (err: unknown) => void) {
    let ended = false;
    const controller = await super.watch(path, query, callback, (err: unknown) => {
      ended = true;
      this.connection.close();
      done(err);
    });
    if (!ended) this.connection.open();
    return controller;
  }
}
