// Shared helpers of the end-to-end suite: one real control plane per test file (started in
// before(), stopped in after() whatever happened), services started as a user starts them with the
// control plane's least-privileged kubeconfig, RBAC object builders, and bounded polling.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type ControlPlane, type IssuedCert, type KubeObject, startControlPlane } from "../support/controlplane.ts";
import { type CheckResponse, deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

/** The very first run builds kube-apiserver and etcd from source (many minutes); later runs take seconds. */
export const SETUP_TIMEOUT = 45 * 60_000;
/** A whole describe() of this suite, once the binaries are cached, stays far below this. */
export const SUITE_TIMEOUT = SETUP_TIMEOUT + 5 * 60_000;

export interface RunningService {
  service: ServiceProcess;
  client: EnvoyClient;
  /** Check through Envoy's official protos. */
  check: EnvoyClient["check"];
}

export interface E2E {
  /** The control plane of this file (valid inside tests and hooks after before()). */
  readonly cp: ControlPlane;
  /** A temp dir of this file for config files; removed in after(). */
  readonly dir: string;
  /** Starts `node src/main.ts --kubeconfig=<service kubeconfig> ...flags` on loopback; stopped in after(). */
  startService(flags: string[]): Promise<RunningService>;
  /** Writes `content` to `<dir>/<name>` and returns the path. */
  writeFile(name: string, content: string): Promise<string>;
}

/**
 * Registers before()/after() hooks in the calling describe(): one control plane for the file,
 * every service and client started through the returned handle, all stopped in after().
 */
export function useControlPlane(): E2E {
  let cp: ControlPlane | undefined;
  let dir: string | undefined;
  const running: RunningService[] = [];

  before(
    async () => {
      dir = await mkdtemp(join(tmpdir(), "kre-e2e-"));
      cp = await startControlPlane();
    },
    { timeout: SETUP_TIMEOUT },
  );

  after(
    async () => {
      for (const r of running) r.client.close();
      const codes = await Promise.all(running.map((r) => r.service.stop()));
      await cp?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
      // A service that did not drain and exit 0 on SIGTERM is a finding of its own.
      assert.deepEqual(
        codes,
        running.map(() => 0),
        "every service exits 0 on SIGTERM",
      );
    },
    { timeout: 60_000 },
  );

  return {
    get cp() {
      if (!cp) throw new Error("control plane not started");
      return cp;
    },
    get dir() {
      if (!dir) throw new Error("temp dir not created");
      return dir;
    },
    async startService(flags) {
      if (!cp) throw new Error("control plane not started");
      const service = await startService([`--kubeconfig=${cp.serviceKubeconfigPath}`, ...flags]);
      const client = envoyClient(service.grpcPort);
      const r = { service, client, check: client.check };
      running.push(r);
      return r;
    },
    async writeFile(name, content) {
      if (!dir) throw new Error("temp dir not created");
      const path = join(dir, name);
      await writeFile(path, content);
      return path;
    },
  };
}

// ---------------------------------------------------------------------------
// Outcomes

const GRPC_CODE: Readonly<Record<number, number>> = { 200: 0, 400: 3, 401: 16, 403: 7, 404: 5, 503: 14 };

/** 200 for an allow, else the denial's HTTP status (undefined when the response has neither). */
export function outcome(res: CheckResponse): number | undefined {
  if ((res.status?.code ?? 0) === 0 && res.denied_response === undefined) return 200;
  return deniedStatus(res);
}

/** Asserts the HTTP outcome and the google.rpc status code that goes with it in the contract. */
export function assertOutcome(res: CheckResponse, status: number, message?: string): void {
  const what = message ? `${message}: ` : "";
  assert.equal(outcome(res), status, `${what}want ${status}, got ${JSON.stringify(res)}`);
  assert.equal(res.status?.code ?? 0, GRPC_CODE[status], `${what}status.code for ${status}`);
}

// ---------------------------------------------------------------------------
// Credentials

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** What Envoy puts into attributes.source.certificate: the URL-encoded PEM. */
export const certificate = (cert: IssuedCert): string => encodeURIComponent(cert.certPem);

export const saUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

// ---------------------------------------------------------------------------
// RBAC objects

const RBAC = "rbac.authorization.k8s.io/v1";
const RBAC_GROUP = "rbac.authorization.k8s.io";

export interface Subject {
  kind: "ServiceAccount" | "User" | "Group";
  name: string;
  namespace?: string;
  apiGroup?: string;
}

export const subjects = {
  serviceAccount: (namespace: string, name: string): Subject => ({ kind: "ServiceAccount", namespace, name }),
  user: (name: string): Subject => ({ kind: "User", name, apiGroup: RBAC_GROUP }),
  group: (name: string): Subject => ({ kind: "Group", name, apiGroup: RBAC_GROUP }),
};

export type PolicyRule = KubeObject;

export const rbac = {
  clusterRole: (name: string, rules: PolicyRule[]): KubeObject => ({ apiVersion: RBAC, kind: "ClusterRole", metadata: { name }, rules }),
  role: (namespace: string, name: string, rules: PolicyRule[]): KubeObject => ({
    apiVersion: RBAC,
    kind: "Role",
    metadata: { namespace, name },
    rules,
  }),
  clusterRoleBinding: (name: string, clusterRole: string, to: Subject[]): KubeObject => ({
    apiVersion: RBAC,
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: RBAC_GROUP, kind: "ClusterRole", name: clusterRole },
    subjects: to,
  }),
  roleBinding: (namespace: string, name: string, roleRef: { kind: "Role" | "ClusterRole"; name: string }, to: Subject[]): KubeObject => ({
    apiVersion: RBAC,
    kind: "RoleBinding",
    metadata: { namespace, name },
    roleRef: { apiGroup: RBAC_GROUP, ...roleRef },
    subjects: to,
  }),
};

/** kube-rbac-proxy's classic: `get` on the non-resource URL /metrics. */
export const METRICS_READER_RULES: PolicyRule[] = [{ nonResourceURLs: ["/metrics"], verbs: ["get"] }];

// ---------------------------------------------------------------------------
// Polling, always bounded

/**
 * Calls `probe` until `done(value)` or the deadline; returns the last value and when it was seen.
 * Throws (with `what` and the last value) when the deadline passes first.
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 15_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<{ value: T; at: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    const at = Date.now();
    if (done(value)) return { value, at };
    if (at >= deadline) throw new Error(`${what}: not reached within ${timeoutMs} ms; last: ${JSON.stringify(value)}`);
    await sleep(intervalMs);
  }
}

/**
 * Waits until the apiserver's own SubjectAccessReview answers `allowed` for `spec`: its RBAC
 * authorizer reads through informers, so a change takes a moment to apply.
 */
export async function waitForRbac(cp: ControlPlane, spec: KubeObject, allowed: boolean, timeoutMs = 15_000): Promise<void> {
  await pollUntil(
    `SubjectAccessReview ${JSON.stringify(spec)} allowed=${allowed}`,
    async () => (await cp.subjectAccessReview(spec)).allowed === true,
    (v) => v === allowed,
    { timeoutMs, intervalMs: 50 },
  );
}

/** A SubjectAccessReview spec for `get` on a non-resource path. */
export const nonResourceSpec = (user: string, groups: string[], path: string, verb = "get"): KubeObject => ({
  user,
  groups,
  nonResourceAttributes: { path, verb },
});

/** The sum of the samples of `name` in Prometheus text whose labels include `labels`; 0 when none. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const close = line.lastIndexOf("}");
    const have = Object.fromEntries([...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(line.slice(close + 1).trim());
  }
  return sum;
}
