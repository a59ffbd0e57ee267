// The decision engine: one Check is request -> canonical path -> identity -> attributes ->
// decision -> response. Every adapter (gRPC, HTTP, CLI) calls this and only translates.
import type { Authenticator } from "../authn/types.ts";
import type { Authorizer } from "../authz/types.ts";
import type { AttributesBuilder } from "./attributes.ts";
import { describeAttributes, describeAuthn, describeRequest } from "./describe.ts";
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
  /** Told what each step found, for `kube-rbac-extauthz check`; absent on the serving path. */
  trace?: Tracer;
}

export type Step = "path" | "paths" | "identity" | "attributes" | "authorization";
export type Tracer = (step: Step, detail: string) => void;

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
  // Called as trace?.(...): without a tracer the details are not even built.
  const trace = options.trace;

  const printable = new WeakSet<UserInfo>();

  async function decide(input: CheckInput): Promise<CheckResult> {
    if (input.problem !== undefined) return deny(400, `Bad Request: ${input.problem}`);
    const target = parseTarget(input.target);
    if (!target.ok) return deny(400, `Bad Request: ${target.reason}`);
    if (headerBytes(input.headers) > MAX_HEADER_BYTES) return deny(400, "Bad Request: request headers too large");
    const { path, query } = target;
    trace?.("path", `${path}${query ? ` (query ${JSON.stringify(query)})` : ""}`);

    if (options.ignorePaths?.(path)) {
      trace?.("paths", "matches the ignore paths: allowed without authentication");
      return allowed.anonymous("path matches --ignore-paths");
    }
    if (options.allowPaths && !options.allowPaths(path)) {
      trace?.("paths", "outside the allow paths");
      return deny(404, "Not Found");
    }
    trace?.("paths", options.allowPaths ? "within the allow paths" : "no path restriction");

    const authn = await options.authenticator.authenticate(input);
    trace?.("identity", describeAuthn(authn));
    switch (authn.kind) {
      case "none":
        return deny(401, "Unauthorized");
      case "rejected":
        return deny(401, "Unauthorized", undefined, authn.reason);
      case "error":
        return deny(503, "Service Unavailable: authentication could not be completed", undefined, authn.error.message);
    }
    const user = authn.user;
    if (!printable.has(user)) {
      if (!isPrintable(user)) return deny(401, "Unauthorized", undefined, "identity holds control characters");
      // Cached identities come back as the same object: check each once.
      printable.add(user);
    }

    const attrs = options.attributes({ method: input.method, path, query, headers: input.headers });
    if (!attrs.ok) {
      trace?.("attributes", attrs.reason);
      return deny(400, `Bad Request: ${attrs.reason}`, user);
    }
    for (const a of attrs.attributes) trace?.("attributes", describeAttributes(a));

    const reasons: string[] = [];
    for (const a of attrs.attributes) {
      const decision = await options.authorizer.authorize(user, a);
      trace?.(
        "authorization",
        `${describeAttributes(a)}: ${decision.kind === "error" ? `error: ${decision.error.message}` : `${decision.kind} (${decision.reason || "no reason given"})`}`,
      );
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
