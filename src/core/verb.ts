// The HTTP method -> Kubernetes verb mapping kube-rbac-proxy and the apiserver use for
// non-resource requests.
const VERBS: Readonly<Record<string, string>> = {
  GET: "get",
  HEAD: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

export function verbFor(method: string): string {
  return VERBS[method.toUpperCase()] ?? "*";
}
