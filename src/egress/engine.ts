// Egress: the client side of audience-bound tokens (what kube-audience-proxy does, the Envoy way).
// A client's own Envoy asks before each outgoing request; the answer is allow with
// `authorization: Bearer <token>` set, a token from the TokenRequest API for one configured
// ServiceAccount and for the audience of that destination only. A token stolen from one
// destination is then useless at every other. No MITM CA is needed: Envoy injects the header.
import { type Clock, CoalescingCache } from "../cache/coalescing-cache.ts";
import type { Engine } from "../core/engine.ts";
import { hostWithoutPort } from "../core/profiles.ts";
import type { CheckInput, CheckResult } from "../core/types.ts";
import type { ServiceAccountToken, ServiceAccountTokenRequester } from "../kube/types.ts";

export interface EgressOptions {
  namespace: string;
  serviceAccount: string;
  /** Lifetime asked of the TokenRequest API (it may shorten it). */
  expirationSeconds: number;
  maxEntries: number;
  /** Wall clock in ms since the epoch: token expiry is wall-clock time. */
  now?: () => number;
  clock?: Clock;
}

// An audience is a URL or a name; one with spaces or control characters is not one we understand.
const AUDIENCE = /^[\x21-\x7e]{1,253}$/;

export function egressEngine(api: ServiceAccountTokenRequester, options: EgressOptions): Engine {
  const now = options.now ?? Date.now;
  // Kept for 80% of the token's remaining life, so it is replaced well before it ends; concurrent
  // requests for one audience share one TokenRequest.
  const tokens = new CoalescingCache<ServiceAccountToken>({
    maxEntries: options.maxEntries,
    ttlOf: (t) => 0.8 * (t.expiresAt - now()),
    clock: options.clock,
  });
  const deny = (status: 400 | 503, body: string, detail: string): CheckResult => ({
    allowed: false,
    status,
    body,
    reason: `${body}: ${detail}`,
  });

  return {
    async check(input: CheckInput): Promise<CheckResult> {
      if (input.problem !== undefined) return deny(400, "Bad Request", input.problem);
      const audience = audienceOf(input);
      if (!AUDIENCE.test(audience)) return deny(400, "Bad Request", `no usable audience (${JSON.stringify(audience.slice(0, 64))})`);
      let token: ServiceAccountToken;
      try {
        token = await tokens.get(audience, () =>
          api.requestToken(options.namespace, options.serviceAccount, [audience], options.expirationSeconds),
        );
      } catch (error) {
        return deny(503, "Service Unavailable: no token could be issued", (error as Error).message);
      }
      return {
        allowed: true,
        status: 200,
        reason: `token of ${options.namespace}/${options.serviceAccount} for audience ${audience}`,
        headersToSet: [["authorization", `Bearer ${token.token}`]],
        headersToRemove: [],
      };
    },
  };
}

/** context_extensions["audience"] set per route in Envoy, else the destination host. */
export function audienceOf(input: CheckInput): string {
  return input.contextExtensions.get("audience") ?? hostWithoutPort(input.host);
}
