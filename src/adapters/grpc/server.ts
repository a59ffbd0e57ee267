// The gRPC adapter: envoy.service.auth.v3.Authorization/Check over one engine, plus
// grpc.health.v1 and server reflection on the same listener.
import { Server, ServerCredentials, type ServerUnaryCall, type sendUnaryData } from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import { HealthImplementation } from "grpc-health-check";
import type { Engine } from "../../core/engine.ts";
import type { CheckInput, CheckResult } from "../../core/types.ts";
import { type CheckRequestMessage, toCheckInput } from "./check-request.ts";
import { toCheckResponse } from "./check-response.ts";
import { loadExtAuthzProtos } from "./protos.ts";

export interface GrpcAdapterOptions {
  engine: Engine;
  /** Told of every answered Check (for metrics and the decision log). */
  onDecision?: (result: CheckResult, input: CheckInput | undefined, seconds: number) => void;
}

export interface GrpcListener {
  /** The port actually bound (useful with port 0). */
  port: number;
  setServing(serving: boolean): void;
  /** Stops accepting, lets in-flight Checks finish (up to `graceMs`), then closes. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startGrpcServer(address: string, options: GrpcAdapterOptions): Promise<GrpcListener> {
  const protos = loadExtAuthzProtos();
  const server = new Server();
  const health = new HealthImplementation({ "": "NOT_SERVING", "envoy.service.auth.v3.Authorization": "NOT_SERVING" });
  health.addToServer(server);
  new ReflectionService(protos.packageDefinition).addToServer(server);

  server.addService(protos.authorizationService, {
    Check(call: ServerUnaryCall<CheckRequestMessage, object>, callback: sendUnaryData<object>) {
      const started = performance.now();
      const converted = toCheckInput(call.request);
      const answer = (result: CheckResult, input?: CheckInput) => {
        options.onDecision?.(result, input, (performance.now() - started) / 1000);
        callback(null, toCheckResponse(result));
      };
      if (!converted.ok) {
        answer({ allowed: false, status: 400, body: "Bad Request", reason: `Bad Request: ${converted.reason}` });
        return;
      }
      options.engine.check(converted.input).then((result) => answer(result, converted.input));
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
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
