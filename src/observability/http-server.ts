// The metrics listener: GET /metrics (Prometheus text), /healthz (the process runs) and /readyz
// (the service can decide and is not draining).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

/** Whether the service can decide now, and a line for /readyz (e.g. how old its RBAC state is). */
export type Readiness = () => { ready: boolean; detail: string };

export interface MetricsListener {
  port: number;
  /** Until this is called, /readyz answers 503. */
  setReadiness(readiness: Readiness): void;
  close(): Promise<void>;
}

export async function startMetricsServer(address: string, registry: Registry): Promise<MetricsListener> {
  let readiness: Readiness = () => ({ ready: false, detail: "starting" });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
        () => res.writeHead(500).end("metrics unavailable\n"),
      );
    } else if (path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else if (path === "/readyz") {
      const { ready, detail } = readiness();
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" }).end(`${ready ? "ok" : "not ready"}: ${detail}\n`);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    setReadiness: (value) => {
      readiness = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** `host:port` or `[v6]:port` -> parts for net.listen. */
export function splitAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, "$1");
  return { host: host || "0.0.0.0", port: Number(address.slice(colon + 1)) };
}
