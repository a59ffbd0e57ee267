// Picks the engine of the profile a Check belongs to: the one Envoy names per route in
// context_extensions["profile"], else the first whose hosts match the request's host, else the
// default. A name that no profile has is a deny, never a silent fall back to another policy.
import type { Engine } from "./engine.ts";
import type { PathMatcher } from "./glob.ts";
import type { CheckInput, CheckResult } from "./types.ts";

export interface ProfileEngine {
  name: string;
  hosts?: PathMatcher;
  engine: Engine;
}

export function profileRouter(defaultEngine: Engine, profiles: readonly ProfileEngine[]): Engine {
  if (profiles.length === 0) return defaultEngine;
  const byName = new Map(profiles.map((p) => [p.name, p]));
  const byHost = profiles.filter((p) => p.hosts);
  const tagged = async (p: ProfileEngine, input: CheckInput): Promise<CheckResult> => ({
    ...(await p.engine.check(input)),
    profile: p.name,
  });
  return {
    async check(input) {
      const named = input.contextExtensions.get("profile");
      if (named !== undefined) {
        const p = byName.get(named);
        if (p) return tagged(p, input);
        const body = "Forbidden: unknown profile";
        return { allowed: false, status: 403, body, reason: `${body} ${JSON.stringify(named)} (context_extensions["profile"])` };
      }
      const host = hostWithoutPort(input.host);
      const p = byHost.find((candidate) => candidate.hosts?.(host));
      return p ? tagged(p, input) : defaultEngine.check(input);
    },
  };
}

/** `example.com:8080` -> `example.com`, `[::1]:80` -> `::1`; lower case, as hosts compare. */
export function hostWithoutPort(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith("[")) return h.slice(1, h.indexOf("]") === -1 ? undefined : h.indexOf("]"));
  const colon = h.lastIndexOf(":");
  return colon === -1 || h.indexOf(":") !== colon ? h : h.slice(0, colon);
}
