// The gRPC adapter: envoy.service.auth.v3.Authorization/Check over one engine, plus
// grpc.health.v1 and server reflection on the same listener.
import { createServer, type Socket } from "node:net";
import { Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Engine } from "../../core/engine.ts";
import { unreadableInput, withDecisionId } from "../../core/input.ts";
import { listen } from "../../listen.ts";
import { type CheckRequestMessage, toCheckInput } from "./check-request.ts";
import { checkResponseEncoder, type Serialize } from "./check-response.ts";
import { loadExtAuthzProtos } from "./protos.ts";

export interface GrpcListener {
  /** The port actually bound (useful with port 0). */
  port: number;
  setServing(serving: boolean): void;
  /** Stops accepting, lets in-flight Checks finish (up to `graceMs`), then closes. */
  shutdown(graceMs: number): Promise<void>;
}

/**
 * Serves on `address`. The socket is this module's own (grpc-js is handed each connection), so
 * that worker processes can share the port with SO_REUSEPORT (`reusePort`).
 */
export async function startGrpcServer(
  address: string,
  credentials: ServerCredentials,
  engine: Engine,
  reusePort = false,
): Promise<GrpcListener> {
  const protos = loadExtAuthzProtos();
  const server = new Server();
  // "" and the Authorization service follow readiness; "liveness" only says the server answers
  // (Kubernetes' gRPC liveness probe asks for it, so not being ready never restarts the Pod).
  const health = new HealthImplementation({ "": "NOT_SERVING", "envoy.service.auth.v3.Authorization": "NOT_SERVING", liveness: "SERVING" });
  health.addToServer(server);
  new ReflectionService(protos.packageDefinition).addToServer(server);

  // The handler answers with encoded bytes (see checkResponseEncoder); grpc-js sends them as they are.
  const check = protos.authorizationService.Check;
  const encode = checkResponseEncoder(check.responseSerialize as Serialize);
  const sendBytes = (bytes: Buffer) => bytes;
  server.addService(
    { Check: { ...check, responseSerialize: sendBytes } },
    {
      Check(call: ServerUnaryCall<CheckRequestMessage, Buffer>, callback: sendUnaryData<Buffer>) {
        const converted = toCheckInput(call.request);
        const input = withDecisionId(converted.ok ? converted.input : unreadableInput(converted.reason));
        engine.check(input).then((result) => callback(null, encode(result, input.requestId)));
      },
    },
  );

  const connections = server.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const listener = createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    connections.injectConnection(socket);
  });
  const port = await listen(listener, address, reusePort);
  const setServing = (serving: boolean) => {
    const status = serving ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    health.setStatus("envoy.service.auth.v3.Authorization", status);
  };
  return {
    port,
    setServing,
    async shutdown(graceMs) {
      setServing(false);
      // grpc-js closes its sessions gracefully (GOAWAY, then in-flight calls finish), but reports
      // them closed at once; the listener's close waits until every connection has really ended.
      await new Promise<void>((resolve) => {
        let pending = 2;
        const done = () => {
          if (--pending > 0) return;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          server.forceShutdown();
          for (const socket of sockets) socket.destroy();
          resolve();
        }, graceMs);
        server.tryShutdown(done);
        listener.close(done);
      });
    },
  };
}
