// The worker side of --workers: the service runs as usual, with its listeners shared
// (SO_REUSEPORT) and no metrics listener of its own, and tells the primary how it is doing.
import type { Readiness } from "../observability/http-server.ts";
import type { WorkerMessage } from "./messages.ts";

export interface WorkerLink {
  listening(ports: { grpcPort: number; httpPort?: number }): void;
  /** Called on every readiness poll; the primary hears only when readiness flips. */
  readiness(state: ReturnType<Readiness>): void;
}

export function workerLink(send: (message: WorkerMessage) => void): WorkerLink {
  let last: boolean | undefined;
  return {
    listening: (ports) => send({ kre: "listening", ...ports }),
    readiness(state) {
      if (state.ready === last) return;
      last = state.ready;
      send({ kre: "readiness", ...state });
    },
  };
}
