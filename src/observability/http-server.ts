// The metrics listener: GET /metrics (Prometheus text), /healthz (the process runs) and /readyz
// (the service can decide and is not draining).
import { createServer, type Server } from "node:http";
import { listen } from "../listen.ts";
import type { MetricsSource } from "./metrics.ts";

/** Whether the service can decide now, and a line for /readyz (e.g. how old its RBAC state is). */
export type Readiness = () => { ready: boolean; detail: string };

export interface MetricsListener {
  port: number;
  /** Until this is called, /readyz answers 503. */
  setReadiness(readiness: Readiness): void;
  close(): Promise<void>;
}

export async function startMetricsServer(address: string, source: MetricsSource): Promise<MetricsListener> {
  let readiness: Readiness = () => ({ ready: false, detail: "starting" });
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      source.metrics().then(
        (text) => res.writeHead(200, { "content-type": source.contentType }).end(text),
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
  return {
    port: await listen(server, address),
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
