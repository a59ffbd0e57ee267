// A tiny in-process stand-in for the rbac.authorization.k8s.io/v1 list and watch endpoints, for
// testing the informer source through the real client-node: lists with a resourceVersion, watches
// that replay from one and stream what changes, 410 Gone for a history it no longer has, and
// failure on demand (every request 503, open watches cut).
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "./world.ts";

const RESOURCES: Record<string, string> = {
  roles: "Role",
  clusterroles: "ClusterRole",
  rolebindings: "RoleBinding",
  clusterrolebindings: "ClusterRoleBinding",
};
const PATH = /^\/apis\/rbac\.authorization\.k8s\.io\/v1\/(roles|clusterroles|rolebindings|clusterrolebindings)$/;

interface Event {
  rv: number;
  resource: string;
  type: "ADDED" | "MODIFIED" | "DELETED";
  object: KubeObject;
}

export async function startFakeRbacApi() {
  let rv = 1;
  let oldestKept = 0; // watches from before this resourceVersion get 410 Gone
  let failing = false;
  const objects = new Map<string, Map<string, KubeObject>>(Object.keys(RESOURCES).map((r) => [r, new Map()]));
  const events: Event[] = [];
  const watchers = new Set<{ resource: string; res: ServerResponse }>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const resource = PATH.exec(url.pathname)?.[1];
    if (failing || !resource) {
      res.writeHead(failing ? 503 : 404, { "content-type": "application/json" }).end('{"kind":"Status","code":503}');
      return;
    }
    if (url.searchParams.get("watch") !== "true") {
      const items = [...(objects.get(resource)?.values() ?? [])];
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: `${RESOURCES[resource]}List`,
          metadata: { resourceVersion: String(rv) },
          items,
        }),
      );
      return;
    }
    const from = Number(url.searchParams.get("resourceVersion") ?? 0);
    res.writeHead(200, { "content-type": "application/json" }).flushHeaders(); // as the apiserver does: the watch is open
    if (from < oldestKept) {
      res.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } })}\n`);
      return;
    }
    for (const e of events) if (e.resource === resource && e.rv > from) res.write(line(e));
    const watcher = { resource, res };
    watchers.add(watcher);
    res.on("close", () => watchers.delete(watcher));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const change = (type: Event["type"], object: KubeObject) => {
    const resource = `${object.kind.toLowerCase()}s`;
    const key = `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(++rv) } };
    if (type === "DELETED") objects.get(resource)?.delete(key);
    else objects.get(resource)?.set(key, stored);
    const event = { rv, resource, type, object: stored };
    events.push(event);
    for (const w of watchers) if (w.resource === resource) w.res.write(line(event));
  };

  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "fake", server: url, skipTLSVerify: true }],
    users: [{ name: "fake" }],
    contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
    currentContext: "fake",
  });

  return {
    kubeConfig,
    apply: (object: KubeObject) => change(objects.get(`${object.kind.toLowerCase()}s`)?.has(keyOf(object)) ? "MODIFIED" : "ADDED", object),
    remove: (object: KubeObject) => change("DELETED", object),
    /** Every request answers 503 and open watches are cut (true), or service resumes (false). */
    setFailing(value: boolean) {
      failing = value;
      if (value) for (const w of watchers) w.res.destroy();
    },
    /** Forget the history so far: watches resuming from an older resourceVersion get 410 and must relist. */
    compact: () => {
      oldestKept = rv;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ""}/${object.metadata.name}`;
}

function line(e: Event): string {
  return `${JSON.stringify({ type: e.type, object: e.object })}\n`;
}
