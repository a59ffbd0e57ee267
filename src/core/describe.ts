// Human-readable, credential-free descriptions for deny bodies and logs.
import type { Attributes, UserInfo } from "./types.ts";

/** `user=alice, verb=get, path=/metrics` or `user=alice, verb=get, resource=services, ...`. */
export function describeRequest(user: UserInfo, a: Attributes): string {
  if (a.kind === "nonResource") return `user=${user.name}, verb=${a.verb}, path=${a.path}`;
  const parts = [`user=${user.name}`, `verb=${a.verb}`];
  if (a.namespace) parts.push(`namespace=${a.namespace}`);
  if (a.apiGroup) parts.push(`apiGroup=${a.apiGroup}`);
  parts.push(`resource=${a.resource}`);
  if (a.subresource) parts.push(`subresource=${a.subresource}`);
  if (a.name) parts.push(`name=${a.name}`);
  return parts.join(", ");
}
