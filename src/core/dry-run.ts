// --dry-run: every Check is decided (and, by the decorators inside, counted and logged as
// decided) but answered allow, so a policy can be watched in production before it is enforced.
import type { Engine } from "./engine.ts";
import type { Allowed } from "./types.ts";

export function dryRunEngine(engine: Engine, identityHeaders: readonly string[]): Engine {
  // A request let through despite a deny still loses any identity headers the client sent.
  const stripIdentity = Object.freeze(identityHeaders.map((h) => h.toLowerCase()));
  return {
    async check(input) {
      const result = await engine.check(input);
      if (result.allowed) return result;
      const allowed: Allowed = {
        allowed: true,
        status: 200,
        reason: `dry run; would deny ${result.status}: ${result.reason}`,
        user: result.user,
        profile: result.profile,
        headersToSet: [],
        headersToRemove: stripIdentity,
      };
      return allowed;
    },
  };
}
