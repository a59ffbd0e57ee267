// The baseline of the benchmark: a grpc-js Check server that decodes the request with the same
// protos and answers OK without deciding anything. Its throughput is the limit of this service on
// the machine. Prints its port on stdout.
import { Server, ServerCredentials } from "@grpc/grpc-js";
import { loadExtAuthzProtos } from "../src/adapters/grpc/protos.ts";

const OK = { status: { code: 0 }, ok_response: {} };
const server = new Server();
server.addService(loadExtAuthzProtos().authorizationService, {
  Check: (_call: unknown, callback: (e: null, r: object) => void) => callback(null, OK),
});
server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.stdout.write(`${port}\n`);
});
process.on("SIGTERM", () => server.forceShutdown());
