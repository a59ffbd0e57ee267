// Helpers adapters use to hand the engine what they could read of a request.
import { randomUUID } from "node:crypto";
import type { CheckInput } from "./types.ts";

const NO_HEADERS: ReadonlyMap<string, string> = new Map();

/** An input for a request the adapter could not read; the engine denies it with 400 and `problem`. */
export function unreadableInput(problem: string): CheckInput {
  return {
    method: "",
    target: "",
    host: "",
    headers: NO_HEADERS,
    peerCertificate: "",
    sourcePrincipal: "",
    contextExtensions: NO_HEADERS,
    requestId: "",
    problem,
  };
}

/**
 * Every decision gets an id: the proxy's request id when it sent one, else a new one, so a denied
 * request in an access log can be found in the decision log.
 */
export function withDecisionId(input: CheckInput): CheckInput {
  return input.requestId ? input : { ...input, requestId: randomUUID() };
}
