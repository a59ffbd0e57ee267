// What a worker process tells the primary of --workers, over the cluster IPC channel.

export type WorkerMessage =
  /** The worker's listeners are bound (the primary learns the real ports of port 0). */
  | { kre: "listening"; grpcPort: number; httpPort?: number }
  /** The worker's readiness changed (its RBAC state synced, or it started draining). */
  | { kre: "readiness"; ready: boolean; detail: string };

/** Our messages, told apart from prom-client's, which share the channel. */
export function isWorkerMessage(message: unknown): message is WorkerMessage {
  return typeof message === "object" && message !== null && "kre" in message;
}
