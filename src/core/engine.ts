// The decision engine: one Check is request -> canonical path -> identity -> attributes ->
// decision -> response. Every adapter (gRPC, HTTP, CLI) calls this and only translates.
import type { Authenticator } from "../authn/types.ts";
import type { Authorizer } from "../authz/types.ts";
import type { AttributesBuilder } from "./attributes.ts";
import { describeRequest } from "./describe.ts";
import type { PathMatcher } from "./glob.ts";
import { parseTarget } from "./path.ts";
import { allowedResponses, type IdentityHeaders } from "./response.ts";
import type { CheckInput, CheckResult, Denied, DenyStatus, UserInfo } from "./types.ts";

export interface EngineOptions {
  ignorePaths?: PathMatcher;
  allowPaths?: PathMatcher;
  authenticator: Authenticator;
  attributes: AttributesBuilder;
  authorizer: Authorizer;
  identityHeaders: IdentityHeaders;
  /** Called when a step failed unexpectedly; the Check still answers (503). */
  onInternalError?: (error: unknown, input: CheckInput) => void;
}

export interface Engine {
  /** Never rejects: any failure inside is a 503 deny. */
  check(input: CheckInput): Promise<CheckResult>;
}

// Envoy's default limit for all request headers is 60 KiB; more than that did not come from a
// proxy we understand.
export const MAX_HEADER_BYTES = 96 * 1024;

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

export function createEngine(options: EngineOptions): Engine {
  const allowed = allowedResponses(options.identityHeaders);

  async function decide(input: CheckInput): Promise<CheckResult> {
    if (input.problem !== undefined) return deny(400, `Bad Request: ${input.problem}`);
    const target = parseTarget(input.target);
    if (!target.ok) return deny(400, `Bad Request: ${target.reason}`);
    if (headerBytes(input.headers) > MAX_HEADER_BYTES) return deny(400, "Bad Request: request headers too large");
    const { path, query } = target;

    if (options.ignorePaths?.(path)) return allowed.anonymous("path matches --ignore-paths");
    if (options.allowPaths && !options.allowPaths(path)) return deny(404, "Not Found");

    const authn = await options.authenticator.authenticate(input);
    switch (authn.kind) {
      case "none":
        return deny(401, "Unauthorized");
      case "rejected":
        return deny(401, "Unauthorized", undefined, authn.reason);
      case "error":
        return deny(503, "Service Unavailable: authentication could not be completed", undefined, authn.error.message);
    }
    const user = authn.user;
    if (!isPrintable(user)) return deny(401, "Unauthorized", undefined, "identity holds control characters");

    const attrs = options.attributes({ method: input.method, path, query, headers: input.headers });
    if (!attrs.ok) return deny(400, `Bad Request: ${attrs.reason}`, user);

    const reasons: string[] = [];
    for (const a of attrs.attributes) {
      const decision = await options.authorizer.authorize(user, a);
      if (decision.kind === "error") {
        return deny(503, "Service Unavailable: authorization could not be completed", user, decision.error.message);
      }
      if (decision.kind !== "allow") {
        return deny(403, `Forbidden (${describeRequest(user, a)})`, user, decision.reason);
      }
      reasons.push(decision.reason);
    }
    return allowed.authenticated(reasons.join("; "), user, authn.credential);
  }

  return {
    async check(input) {
      try {
        return await decide(input);
      } catch (error) {
        try {
          options.onInternalError?.(error, input);
        } catch {
          // Reporting must not turn an answer into no answer.
        }
        return deny(503, "Service Unavailable: internal error");
      }
    },
  };
}

/** A deny; `detail` goes to the log only, the body stays short. */
function deny(status: DenyStatus, body: string, user?: UserInfo, detail?: string): Denied {
  return { allowed: false, status, reason: detail ? `${body}: ${detail}` : body, body, user };
}

function headerBytes(headers: ReadonlyMap<string, string>): number {
  let n = 0;
  for (const [k, v] of headers) n += k.length + v.length;
  return n;
}

function isPrintable(user: UserInfo): boolean {
  return !CONTROL.test(user.name) && !user.groups.some((g) => CONTROL.test(g));
}
