// Asks authorizers in order; the first allow or deny decides. Errors are remembered: if nobody
// decided and someone failed, the answer is the error (fail closed with 503), not a deny that
// would hide the outage or an allow that would hide the missing answer.
import type { Attributes, UserInfo } from "../core/types.ts";
import type { Authorizer, Decision } from "./types.ts";

export interface NamedAuthorizer {
  name: string;
  authorizer: Authorizer;
}

export function authorizerUnion(members: readonly NamedAuthorizer[]): Authorizer {
  return {
    async authorize(user: UserInfo, attributes: Attributes): Promise<Decision> {
      const reasons: string[] = [];
      let firstError: Error | undefined;
      for (const { name, authorizer } of members) {
        const decision = await authorizer.authorize(user, attributes);
        if (decision.kind === "allow" || decision.kind === "deny") {
          return { kind: decision.kind, reason: decision.reason ? `${name}: ${decision.reason}` : name };
        }
        if (decision.kind === "error") firstError ??= decision.error;
        else if (decision.reason) reasons.push(`${name}: ${decision.reason}`);
      }
      if (firstError) return { kind: "error", error: firstError };
      return { kind: "noOpinion", reason: reasons.join("; ") };
    },
  };
}
