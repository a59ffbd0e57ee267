// A real, throwaway Kubernetes control plane (etcd + kube-apiserver, no
// controllers, no nodes) for end-to-end tests of kube-rbac-extauthz: real
// TokenReview, SubjectAccessReview, RBAC and x509 client authentication.
//
// Binaries are built from pinned Go modules by test/e2e/controlplane/build.sh
// and cached, so only the very first run is slow. Everything listens on
// 127.0.0.1 only, and all state lives in one temp dir that stop() removes.
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type CertificateAuthority, createCA, createServiceAccountKeys, type IssuedCert, issueCert } from "./pki.ts";

export type { IssuedCert } from "./pki.ts";

const BUILD_SCRIPT = fileURLToPath(new URL("../e2e/controlplane/build.sh", import.meta.url));
export const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";
/** Namespace and ServiceAccount name of the identity the service under test runs as. */
export const SERVICE_IDENTITY = { namespace: "kube-rbac-extauthz", name: "kube-rbac-extauthz" } as const;
const FIELD_MANAGER = "kube-rbac-extauthz-e2e";

// API objects are whatever JSON the apiserver returns; tests poke into them freely.
// biome-ignore lint/suspicious/noExplicitAny: untyped Kubernetes JSON
export type KubeObject = Record<string, any>;

export interface ControlPlaneOptions {
  /** Extra kube-apiserver flags, appended last: they override single-valued defaults
   *  (e.g. '--anonymous-auth=false') but add to list flags such as --etcd-servers. */
  apiserverArgs?: string[];
  /** How long to wait for /readyz on each (re)start. Default 90s. */
  readyTimeoutMs?: number;
}

/** Credentials for a kubeconfig or a request: a bearer token, or a client cert (files or PEM). */
export type Credentials = { token: string } | { certFile: string; keyFile: string } | { certPem: string; keyPem: string };

export interface RequestOptions {
  /** Who to call as; default the admin (system:masters). `null` sends no credentials (anonymous). */
  as?: Credentials | null;
  /** Content-Type of the body; default application/json. */
  contentType?: string;
}

export interface ApiResponse {
  status: number;
  /** The parsed JSON response, or {} when it is not JSON. */
  body: KubeObject;
  /** The raw response text. */
  text: string;
}

export interface ControlPlane {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** CA that signed the apiserver serving certificate. */
  caFile: string;
  caPem: string;
  /** CA the apiserver trusts for x509 client certificates (--client-ca-file). */
  clientCaFile: string;
  clientCaPem: string;
  /** A CA the apiserver does NOT trust, for negative tests (signClientCert(..., { ca: 'other' })). */
  otherCaFile: string;
  /** Kubeconfig for a system:masters client certificate. */
  adminKubeconfigPath: string;
  /** Kubeconfig for ServiceAccount kube-rbac-extauthz/kube-rbac-extauthz, allowed only to create
   *  TokenReviews and SubjectAccessReviews: what the service under test should run with. */
  serviceKubeconfigPath: string;
  serviceToken: string;
  /** The temp dir holding certs, kubeconfigs, etcd data and the logs. */
  dir: string;
  logFiles: { apiserver: string; etcd: string };

  writeKubeconfig(path: string, credentials: Credentials): Promise<string>;
  request(method: string, path: string, body?: unknown, opts?: RequestOptions): Promise<ApiResponse>;
  /** Create or update (server-side apply, forced) any object; returns the stored object. */
  apply(obj: KubeObject): Promise<KubeObject>;
  /** Delete by API path or by object; false if it did not exist. */
  delete(target: string | KubeObject): Promise<boolean>;
  createNamespace(name: string): Promise<KubeObject>;
  /** Creates the namespace too when missing. */
  createServiceAccount(namespace: string, name: string): Promise<KubeObject>;
  /** A bound ServiceAccount token from the TokenRequest API. */
  createToken(namespace: string, serviceAccount: string, opts?: { audiences?: string[]; expirationSeconds?: number }): Promise<string>;
  /** A client certificate for user `commonName` with groups `organizations`, signed by the trusted
   *  client CA or by the untrusted 'other' CA. */
  signClientCert(commonName: string, organizations?: string[], opts?: { ca?: "client" | "other"; days?: number }): Promise<IssuedCert>;
  /** TokenReview as admin; returns its status. */
  tokenReview(token: string, audiences?: string[]): Promise<KubeObject>;
  /** SubjectAccessReview as admin; `spec` is the SAR spec, returns its status. */
  subjectAccessReview(spec: KubeObject): Promise<KubeObject>;
  /** Stop only kube-apiserver (for outage tests); etcd and all data stay. */
  stopApiserver(): Promise<void>;
  /** Start kube-apiserver again on the same port with the same data; resolves when ready. */
  startApiserver(): Promise<void>;
  /** Kill everything and delete the temp dir. Idempotent. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Child processes. Besides stop(), two safety nets make sure no etcd or
// kube-apiserver outlives the test process: an 'exit' hook for normal exits,
// and a watchdog shell that kills them when our pipe to it closes, which also
// covers SIGTERM/SIGKILL from a test runner timeout (no 'exit' event then).

const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>(); // temp dirs of control planes not stop()ped yet
const keepDirs = Boolean(process.env.KRE_E2E_KEEP_DIR); // debugging: keep certs, logs, etcd data

process.on("exit", () => {
  for (const child of liveChildren) child.kill("SIGKILL");
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
});

// Reads "+pid N", "-pid N", "+dir PATH", "-dir PATH" lines; at EOF (we are gone
// or done) kills the pids and removes the dirs still listed.
const WATCHDOG_SCRIPT = `
declare -A pids dirs
while IFS= read -r line; do
  case "$line" in
    "+pid "*) pids[\${line#+pid }]=1 ;;
    "-pid "*) unset "pids[\${line#-pid }]" ;;
    "+dir "*) dirs[\${line#+dir }]=1 ;;
    "-dir "*) unset "dirs[\${line#-dir }]" ;;
  esac
done
(( \${#pids[@]} )) && kill -KILL "\${!pids[@]}" 2>/dev/null
(( \${#dirs[@]} )) && rm -rf -- "\${!dirs[@]}"
exit 0`;
let watchdog: ChildProcess | undefined;

function tellWatchdog(line: string): void {
  if (!watchdog) {
    // detached: its own process group, so a Ctrl-C aimed at us does not take it down first.
    watchdog = spawn("bash", ["-c", WATCHDOG_SCRIPT], { stdio: ["pipe", "ignore", "ignore"], detached: true });
    watchdog.on("error", () => {}); // best effort only
    // Never keep the test process alive just for the watchdog.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void }).unref();
  }
  watchdog.stdin?.write(`${line}\n`);
}

function trackDir(dir: string, live: boolean): void {
  if (keepDirs) return;
  if (live) liveDirs.add(dir);
  else liveDirs.delete(dir);
  tellWatchdog(`${live ? "+" : "-"}dir ${dir}`);
}

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
}

function startProcess(bin: string, args: string[], logFile: string): Proc {
  const fd = openSync(logFile, "a"); // append: a restarted apiserver keeps one log
  const child = spawn(bin, args, { stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.once("error", (err) => {
      writeFile(logFile, `spawn ${bin} failed: ${err.message}\n`, { flag: "a" }).finally(resolve);
    });
  });
  // Unref: a test that forgets stop() should not hang; the safety nets clean up.
  child.unref();
  if (child.pid !== undefined) {
    const pid = child.pid;
    liveChildren.add(child);
    tellWatchdog(`+pid ${pid}`);
    void exited.then(() => {
      liveChildren.delete(child);
      tellWatchdog(`-pid ${pid}`);
    });
  }
  return { child, exited };
}

/** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
async function stopProcess(proc: Proc | undefined, graceMs = 10_000): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.ref(); // children are unref'd: keep the event loop alive until it has exited
  proc.child.kill("SIGTERM");
  const timer = setTimeout(() => proc.child.kill("SIGKILL"), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

function logTail(file: string, lines = 40): string {
  try {
    return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

// ---------------------------------------------------------------------------
// Helpers

/** Builds the binaries if missing (see build.sh; a no-op when cached) and returns their paths. */
async function ensureBinaries(): Promise<{ kubeApiserver: string; etcd: string }> {
  // stderr is inherited so a first, slow build shows its progress.
  const child = spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
  });
  // Lines of name=path.
  const paths = Object.fromEntries(out.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
  if (code !== 0 || !paths["kube-apiserver"] || !paths.etcd) {
    throw new Error(`${BUILD_SCRIPT} failed (exit ${code}): ${out}`);
  }
  return { kubeApiserver: paths["kube-apiserver"], etcd: paths.etcd };
}

/** Distinct free loopback ports (all held open at once so they differ). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => {
      const srv = createServer();
      return new Promise<typeof srv>((resolve, reject) => {
        srv.once("error", reject);
        srv.listen(0, "127.0.0.1", () => resolve(srv));
      });
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

interface HttpCall {
  method: string;
  url: URL;
  headers?: Record<string, string>;
  body?: string;
  tls?: { ca: string; cert?: string; key?: string };
  timeoutMs?: number;
}

function httpCall(c: HttpCall): Promise<{ status: number; text: string; contentType: string }> {
  const send = c.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    // agent: false, no keep-alive: no pooled sockets to confuse apiserver restart tests.
    const req = send(c.url, { method: c.method, headers: c.headers, agent: false, timeout: c.timeoutMs ?? 30_000, ...c.tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString("utf8"),
          contentType: String(res.headers["content-type"] ?? ""),
        }),
      );
    });
    req.on("timeout", () => req.destroy(new Error(`${c.method} ${c.url} timed out`)));
    req.on("error", reject);
    req.end(c.body);
  });
}

function kubeconfig(server: string, caPem: string, credentials: Credentials): KubeObject {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const user =
    "token" in credentials
      ? { token: credentials.token }
      : "certFile" in credentials
        ? { "client-certificate": credentials.certFile, "client-key": credentials.keyFile }
        : { "client-certificate-data": b64(credentials.certPem), "client-key-data": b64(credentials.keyPem) };
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "e2e", cluster: { server, "certificate-authority-data": b64(caPem) } }],
    users: [{ name: "e2e", user }],
    contexts: [{ name: "e2e", context: { cluster: "e2e", user: "e2e" } }],
    "current-context": "e2e",
  };
}

function describe(res: ApiResponse): string {
  return res.body.message ?? res.text.slice(0, 500);
}

function ok(res: ApiResponse, what: string): KubeObject {
  if (res.status < 200 || res.status > 299) {
    throw new Error(`${what}: HTTP ${res.status}: ${describe(res)}`);
  }
  return res.body;
}

// ---------------------------------------------------------------------------

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const bins = await ensureBinaries();
  const dir = await mkdtemp(join(tmpdir(), "kre-controlplane-"));
  trackDir(dir, true);
  const pkiDir = join(dir, "pki");
  await mkdir(pkiDir);
  const logFiles = { apiserver: join(dir, "kube-apiserver.log"), etcd: join(dir, "etcd.log") };
  let etcd: Proc | undefined;
  let apiserver: Proc | undefined;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(apiserver);
    await stopProcess(etcd);
    if (keepDirs) console.error(`control plane dir kept: ${dir}`);
    else await rm(dir, { recursive: true, force: true });
    trackDir(dir, false);
  };

  try {
    const [servingCa, clientCa, otherCa, saKeys, [apiPort, etcdClientPort, etcdPeerPort]] = await Promise.all([
      createCA(pkiDir, "serving-ca"),
      createCA(pkiDir, "client-ca"),
      createCA(pkiDir, "other-ca"),
      createServiceAccountKeys(pkiDir),
      freePorts(3),
    ]);
    const [serving, admin] = await Promise.all([
      issueCert(pkiDir, servingCa, "apiserver", {
        commonName: "kube-apiserver",
        usage: "server",
        altNames: ["IP:127.0.0.1", "DNS:localhost", "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"],
      }),
      issueCert(pkiDir, clientCa, "admin", { commonName: "e2e-admin", organizations: ["system:masters"], usage: "client" }),
    ]);

    const url = `https://127.0.0.1:${apiPort}`;
    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;

    const request = async (method: string, path: string, body?: unknown, ropts: RequestOptions = {}): Promise<ApiResponse> => {
      const as = ropts.as === undefined ? { certPem: admin.certPem, keyPem: admin.keyPem } : ropts.as;
      const headers: Record<string, string> = { Accept: "application/json" };
      const tls: HttpCall["tls"] = { ca: servingCa.certPem };
      if (as && "token" in as) headers.Authorization = `Bearer ${as.token}`;
      else if (as && "certFile" in as) Object.assign(tls, { cert: await readFile(as.certFile), key: await readFile(as.keyFile) });
      else if (as) Object.assign(tls, { cert: as.certPem, key: as.keyPem });
      if (body !== undefined) headers["Content-Type"] = ropts.contentType ?? "application/json";
      const res = await httpCall({
        method,
        url: new URL(path, url),
        headers,
        tls,
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const isJson = res.contentType.includes("json") && res.text !== "";
      return { status: res.status, body: isJson ? JSON.parse(res.text) : {}, text: res.text };
    };

    // --- etcd: plain HTTP is fine, it is only reachable on loopback. ------------
    etcd = startProcess(
      bins.etcd,
      [
        "--name=e2e",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeerPort}`,
        `--initial-cluster=e2e=http://127.0.0.1:${etcdPeerPort}`,
        "--unsafe-no-fsync", // throwaway data: trade durability for speed
        "--log-level=warn",
      ],
      logFiles.etcd,
    );
    await waitFor("etcd", etcd, logFiles.etcd, 30_000, async () => {
      const res = await httpCall({ method: "GET", url: new URL("/health", etcdUrl), timeoutMs: 2_000 });
      return res.status === 200 && JSON.parse(res.text).health === "true";
    });

    // --- kube-apiserver ---------------------------------------------------------
    const apiserverArgs = [
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--etcd-servers=${etcdUrl}`,
      `--tls-cert-file=${serving.certFile}`,
      `--tls-private-key-file=${serving.keyFile}`,
      `--client-ca-file=${clientCa.certFile}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${saKeys.publicKeyFile}`,
      `--service-account-signing-key-file=${saKeys.privateKeyFile}`,
      `--api-audiences=${SERVICE_ACCOUNT_ISSUER}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      // No kube-controller-manager runs, so nothing creates each namespace's
      // "default" ServiceAccount that this plugin requires for pods. We create no
      // pods, but disabling it avoids surprises (envtest does the same).
      "--disable-admission-plugins=ServiceAccount",
      // The lease reconciler would try to publish 127.0.0.1 as the endpoint of the
      // "kubernetes" Service, which is invalid (loopback) and only logs errors.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      ...(opts.apiserverArgs ?? []),
    ];

    const startApiserver = async () => {
      if (stopped) throw new Error("control plane is stopped");
      if (apiserver && apiserver.child.exitCode === null && apiserver.child.signalCode === null) return;
      apiserver = startProcess(bins.kubeApiserver, apiserverArgs, logFiles.apiserver);
      const proc = apiserver;
      let lastReadyz = "";
      await waitFor("kube-apiserver", proc, logFiles.apiserver, readyTimeoutMs, async () => {
        const res = await request("GET", "/readyz?verbose");
        lastReadyz = res.text;
        return res.status === 200;
      }).catch((err: Error) => {
        // The failing checks are the useful part of /readyz?verbose.
        const failing = lastReadyz.split("\n").filter((l) => l.startsWith("[-]"));
        throw failing.length ? new Error(`${err.message}\n--- failing /readyz checks ---\n${failing.join("\n")}`) : err;
      });
    };
    const stopApiserver = () => stopProcess(apiserver);

    await startApiserver();

    const writeKubeconfig = async (path: string, credentials: Credentials) => {
      await writeFile(path, `${JSON.stringify(kubeconfig(url, servingCa.certPem, credentials), null, 2)}\n`, { mode: 0o600 });
      return path;
    };

    // apply() needs the resource (plural) name and scope of a kind: ask discovery, cached per group/version.
    const discovery = new Map<string, KubeObject[]>();
    const resourceFor = async (apiVersion: string, kind: string): Promise<KubeObject> => {
      const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      for (const fresh of [false, true]) {
        if (fresh || !discovery.has(base)) discovery.set(base, ok(await request("GET", base), `discovery ${base}`).resources);
        const found = discovery.get(base)?.find((r) => r.kind === kind && !r.name.includes("/"));
        if (found) return { ...found, base };
      }
      throw new Error(`no resource for ${apiVersion} ${kind}`);
    };
    const pathOf = async (obj: KubeObject): Promise<string> => {
      const r = await resourceFor(obj.apiVersion, obj.kind);
      const ns = r.namespaced ? `/namespaces/${encodeURIComponent(obj.metadata?.namespace ?? "default")}` : "";
      return `${r.base}${ns}/${r.name}/${encodeURIComponent(obj.metadata.name)}`;
    };

    const apply = async (obj: KubeObject) => {
      const path = `${await pathOf(obj)}?fieldManager=${FIELD_MANAGER}&force=true`;
      // Server-side apply creates or updates in one call; JSON is valid YAML.
      return ok(
        await request("PATCH", path, obj, { contentType: "application/apply-patch+yaml" }),
        `apply ${obj.kind} ${obj.metadata?.name}`,
      );
    };

    const del = async (target: string | KubeObject) => {
      const path = typeof target === "string" ? target : await pathOf(target);
      const res = await request("DELETE", path);
      if (res.status === 404) return false;
      ok(res, `delete ${path}`);
      return true;
    };

    const createNamespace = (name: string) => apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

    const createServiceAccount = async (namespace: string, name: string) => {
      await createNamespace(namespace);
      return apply({ apiVersion: "v1", kind: "ServiceAccount", metadata: { namespace, name } });
    };

    const createToken = async (
      namespace: string,
      serviceAccount: string,
      topts: { audiences?: string[]; expirationSeconds?: number } = {},
    ) => {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(serviceAccount)}/token`;
      const body = {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { audiences: topts.audiences, expirationSeconds: topts.expirationSeconds },
      };
      return ok(await request("POST", path, body), `TokenRequest ${namespace}/${serviceAccount}`).status.token as string;
    };

    let certCount = 0;
    const signClientCert = (commonName: string, organizations: string[] = [], copts: { ca?: "client" | "other"; days?: number } = {}) => {
      const ca: CertificateAuthority = copts.ca === "other" ? otherCa : clientCa;
      return issueCert(pkiDir, ca, `client-${++certCount}`, { commonName, organizations, usage: "client", days: copts.days });
    };

    const tokenReview = async (token: string, audiences?: string[]) => {
      const body = { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token, audiences } };
      return ok(await request("POST", "/apis/authentication.k8s.io/v1/tokenreviews", body), "TokenReview").status as KubeObject;
    };

    const subjectAccessReview = async (spec: KubeObject) => {
      const body = { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec };
      return ok(await request("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body), "SubjectAccessReview")
        .status as KubeObject;
    };

    // --- the service's own, least-privileged identity ----------------------------
    const { namespace: svcNs, name: svcName } = SERVICE_IDENTITY;
    await createServiceAccount(svcNs, svcName);
    await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: svcName },
      rules: [
        { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
        { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
      ],
    });
    await apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: svcName },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: svcName },
      subjects: [{ kind: "ServiceAccount", namespace: svcNs, name: svcName }],
    });
    const serviceToken = await createToken(svcNs, svcName, { expirationSeconds: 24 * 3600 });
    const serviceKubeconfigPath = await writeKubeconfig(join(dir, "service.kubeconfig"), { token: serviceToken });
    const adminKubeconfigPath = await writeKubeconfig(join(dir, "admin.kubeconfig"), { certFile: admin.certFile, keyFile: admin.keyFile });

    return {
      url,
      port: apiPort,
      caFile: servingCa.certFile,
      caPem: servingCa.certPem,
      clientCaFile: clientCa.certFile,
      clientCaPem: clientCa.certPem,
      otherCaFile: otherCa.certFile,
      adminKubeconfigPath,
      serviceKubeconfigPath,
      serviceToken,
      dir,
      logFiles,
      writeKubeconfig,
      request,
      apply,
      delete: del,
      createNamespace,
      createServiceAccount,
      createToken,
      signClientCert,
      tokenReview,
      subjectAccessReview,
      stopApiserver,
      startApiserver,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Polls `probe` until true; fails early if the process exits, and with its log tail on timeout. */
async function waitFor(name: string, proc: Proc, logFile: string, timeoutMs: number, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void proc.exited.then(() => {
    exited = true;
  });
  while (!exited && Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  const why = exited ? `exited with ${proc.child.exitCode ?? proc.child.signalCode}` : `not ready after ${timeoutMs / 1000}s`;
  throw new Error(`${name} ${why}; last lines of ${logFile}:\n${logTail(logFile)}`);
}
