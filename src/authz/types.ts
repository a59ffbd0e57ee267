// Authorization in the shape of k8s.io/apiserver: allow, deny, or no opinion (let the next
// authorizer decide), plus error, which a union collects and never turns into an allow.
import type { Attributes, UserInfo } from "../core/types.ts";

export type Decision =
  | { kind: "allow"; reason: string }
  | { kind: "deny"; reason: string }
  | { kind: "noOpinion"; reason: string }
  | { kind: "error"; error: Error };

export interface Authorizer {
  authorize(user: UserInfo, attributes: Attributes): Promise<Decision>;
}
