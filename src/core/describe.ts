// Human-readable, credential-free descriptions for deny bodies and logs.
import type { AuthnResult } from "../authn/types.ts";
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

/** `get /metrics` or `get services/proxy "kube-state-metrics" in monitoring (group "", version v1)`. */
export function describeAttributes(a: Attributes): string {
  if (a.kind === "nonResource") return `${a.verb} ${a.path} (non-resource URL)`;
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const name = a.name ? ` ${JSON.stringify(a.name)}` : "";
  const scope = a.namespace ? ` in namespace ${a.namespace}` : " cluster-wide";
  return `${a.verb} ${resource}${name}${scope} (group ${JSON.stringify(a.apiGroup)}, version ${JSON.stringify(a.apiVersion)})`;
}

export function describeAuthn(result: AuthnResult): string {
  switch (result.kind) {
    case "none":
      return "no credentials";
    case "rejected":
      return `rejected: ${result.reason}`;
    case "error":
      return `could not be checked: ${result.error.message}`;
    case "authenticated":
      return `${result.credential}: user ${JSON.stringify(result.user.name)}, groups ${JSON.stringify(result.user.groups)}`;
  }
}
