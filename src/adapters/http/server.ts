// The HTTP adapter: the same engine behind an HTTP endpoint for proxies that ask with a
// subrequest. 200 allows (identity headers in the answer); a deny carries the contract's status
// and body.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Engine } from "../../core/engine.ts";
import type { CheckInput, CheckResult } from "../../core/types.ts";
import { splitAddress } from "../../observability/http-server.ts";
import { toCheckInput } from "./request.ts";

export interface HttpAdapterOptions {
  engine: Engine;
  pathPrefix: string;
  onDecision?: (result: CheckResult, input: CheckInput | undefined, seconds: number) => void;
}

export interface HttpListener {
  port: number;
  close(): Promise<void>;
}

// Envoy's http_service removes the headers named here from the original request.
const HEADERS_TO_REMOVE = "x-envoy-auth-headers-to-remove";

export async function startHttpServer(address: string, options: HttpAdapterOptions): Promise<HttpListener> {
  const server = createServer((req, res) => {
    const started = performance.now();
    const converted = toCheckInput(req.method ?? "GET", req.url ?? "/", req.headers, { pathPrefix: options.pathPrefix });
    const answer = (result: CheckResult, input?: CheckInput) => {
      options.onDecision?.(result, input, (performance.now() - started) / 1000);
      if (result.allowed) {
        const headers: Record<string, string> = {};
        for (const [name, value] of result.headersToSet) headers[name] = value;
        if (result.headersToRemove.length > 0) headers[HEADERS_TO_REMOVE] = result.headersToRemove.join(",");
        res.writeHead(200, headers).end();
      } else {
        res.writeHead(result.status, { "content-type": "text/plain; charset=utf-8" }).end(`${result.body}\n`);
      }
    };
    // The subrequest's body is never read: nothing in it can matter to the decision.
    req.resume();
    if (!converted.ok) {
      answer({ allowed: false, status: 400, body: "Bad Request", reason: `Bad Request: ${converted.reason}` });
      return;
    }
    options.engine.check(converted.input).then((result) => answer(result, converted.input));
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const { host, port } = splitAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
