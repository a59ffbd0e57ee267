// The HTTP adapter: the same engine behind an HTTP endpoint for proxies that ask with a
// subrequest. 200 allows (identity headers in the answer); a deny carries the contract's status
// and body.
import { createServer } from "node:http";
import type { Engine } from "../../core/engine.ts";
import { unreadableInput, withDecisionId } from "../../core/input.ts";
import type { CheckResult } from "../../core/types.ts";
import { listen } from "../../listen.ts";
import { denyBody } from "../grpc/check-response.ts";
import { toCheckInput } from "./request.ts";

export interface HttpListener {
  port: number;
  close(): Promise<void>;
}

// Envoy's http_service removes the headers named here from the original request.
const HEADERS_TO_REMOVE = "x-envoy-auth-headers-to-remove";
const DECISION_ID = "x-decision-id";

export async function startHttpServer(address: string, pathPrefix: string, engine: Engine, reusePort = false): Promise<HttpListener> {
  const server = createServer((req, res) => {
    // The subrequest's body is never read: nothing in it can matter to the decision.
    req.resume();
    const converted = toCheckInput(req.method ?? "GET", req.url ?? "/", req.headers, { pathPrefix });
    const input = withDecisionId(converted.ok ? converted.input : unreadableInput(converted.reason));
    engine.check(input).then((result: CheckResult) => {
      if (result.allowed) {
        const headers: Record<string, string> = { [DECISION_ID]: input.requestId };
        for (const [name, value] of result.headersToSet) headers[name] = value;
        if (result.headersToRemove.length > 0) headers[HEADERS_TO_REMOVE] = result.headersToRemove.join(",");
        res.writeHead(200, headers).end();
      } else {
        res
          .writeHead(result.status, { "content-type": "text/plain; charset=utf-8", [DECISION_ID]: input.requestId })
          .end(denyBody(result.body, input.requestId));
      }
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  return {
    port: await listen(server, address, reusePort),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
