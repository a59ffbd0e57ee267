// The gRPC adapter: envoy.service.auth.v3.Authorization/Check over one engine, plus
// grpc.health.v1 and server reflection on the same listener.
import { Server, type ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Engine } from "../../core/engine.ts";
import { unreadableInput, withDecisionId } from "../../core/input.ts";
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

export async function startGrpcServer(address: string, credentials: ServerCredentials, engine: Engine): Promise<GrpcListener> {
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
  server.addService({ Check: { ...check, responseSerialize: sendBytes } }, {
    Check(call: ServerUnaryCall<CheckRequestMessage, Buffer>, callback: sendUnaryData<Buffer>) {
      const converted = toCheckInput(call.request);
      const input = withDecisionId(converted.ok ? converted.input : unreadableInput(converted.reason));
      engine.check(input).then((result) => callback(null, encode(result, input.requestId)));
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
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
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}
