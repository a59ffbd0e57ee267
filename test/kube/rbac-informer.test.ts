// The informer source through the real client-node against a fake RBAC API: ready after the
// first full sync, changes followed through the watch, and an outage: decisions keep coming from
// the last state, syncedAt stops moving, and once the API is back the state catches up (also with
// what changed meanwhile, through a relist when the watch history is gone).
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { Attributes, UserInfo } from "../../src/core/types.ts";
import { type InformerEvent, type RbacInformerStore, rbacInformerStore } from "../../src/kube/rbac-informer.ts";
import { startFakeRbacApi } from "../authz/rbac/fake-rbac-api.ts";
import { eventually } from "../support/eventually.ts";

const RBAC = "rbac.authorization.k8s.io/v1";
const metrics: Attributes = { kind: "nonResource", verb: "get", path: "/metrics" };
const user = (name: string): UserInfo => ({ name, uid: "", groups: [], extra: {} });
const reader = {
  apiVersion: RBAC,
  kind: "ClusterRole",
  metadata: { name: "metrics" },
  rules: [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }],
};
const bindingFor = (name: string) => ({
  apiVersion: RBAC,
  kind: "ClusterRoleBinding",
  metadata: { name },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "metrics" },
  subjects: [{ kind: "User", name }],
});

describe("the RBAC informer source", () => {
  let api: Awaited<ReturnType<typeof startFakeRbacApi>>;
  let store: RbacInformerStore;
  const events: InformerEvent[] = [];
  const allowed = (name: string) => store.snapshot()?.allowedBy(user(name), metrics) !== undefined;

  before(async () => {
    api = await startFakeRbacApi();
    api.apply(reader);
    api.apply(bindingFor("alice"));
    store = rbacInformerStore(api.kubeConfig, { retryMs: { initial: 20, max: 100 }, rebuildDelayMs: 1, observe: (e) => events.push(e) });
  });
  after(async () => {
    await store.stop();
    await api.close();
  });

  it("is ready after every kind was listed, and decides from it", async () => {
    assert.deepEqual([store.ready, store.syncedAt], [false, undefined]);
    await store.start();
    assert.equal(store.ready, true);
    assert.ok(allowed("alice"));
    assert.ok(Date.now() - (store.syncedAt?.getTime() ?? 0) < 1000);
    assert.deepEqual(events[0], { type: "ready", counts: { Role: 0, ClusterRole: 1, RoleBinding: 0, ClusterRoleBinding: 1 } });
  });

  it("follows changes through the watch", async () => {
    api.apply(bindingFor("bob"));
    await eventually("bob is allowed", () => allowed("bob"), { intervalMs: 10 });
    api.remove(bindingFor("alice"));
    await eventually("alice is not allowed", () => !allowed("alice"), { intervalMs: 10 });
  });

  it("keeps deciding through an outage, says how old its state is, and catches up after", async () => {
    api.setFailing(true);
    await eventually("a retry is reported", () => events.some((e) => e.type === "retrying"), { intervalMs: 10 });
    const frozen = store.syncedAt?.getTime();
    await sleep(100);
    assert.equal(store.syncedAt?.getTime(), frozen, "syncedAt stays at the last moment the state was current");
    assert.ok(allowed("bob"), "the last state still decides");

    // Meanwhile the cluster changes, and forgets the history a resumed watch would need.
    api.remove(bindingFor("bob"));
    api.apply(bindingFor("carol"));
    api.compact();
    api.setFailing(false);
    await eventually("carol is allowed and bob is not", () => allowed("carol") && !allowed("bob"), { intervalMs: 10 });
    await eventually("the state is current again", () => Date.now() - (store.syncedAt?.getTime() ?? 0) < 50, { intervalMs: 10 });
    assert.ok(events.some((e) => e.type === "resynced"));
  });
});
