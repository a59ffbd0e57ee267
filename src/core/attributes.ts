// Step 3 of a Check: turn the request into the authorization attributes that RBAC is asked about,
// as kube-rbac-proxy's `authorization:` section describes them. Without resourceAttributes: the
// non-resource URL (path + verb). With them: a fixed resource, or with `rewrites` one resource per
// value taken from a query parameter or header, every one of which must be allowed.
import { compileTemplate, type Template } from "./template.ts";
import type { Attributes, ResourceAttributes } from "./types.ts";
import { verbFor } from "./verb.ts";

export interface ResourceAttributesConfig {
  namespace?: string;
  apiGroup?: string;
  apiVersion?: string;
  resource?: string;
  subresource?: string;
  name?: string;
}

export interface RewritesConfig {
  byQueryParameter?: { name: string };
  byHttpHeader?: { name: string };
}

export interface AttributesRequest {
  method: string;
  path: string;
  query: string;
  headers: ReadonlyMap<string, string>;
}

export type AttributesResult = { ok: true; attributes: Attributes[] } | { ok: false; reason: string };

export type AttributesBuilder = (request: AttributesRequest) => AttributesResult;

type Field = "namespace" | "apiGroup" | "apiVersion" | "resource" | "subresource" | "name";
const FIELDS: readonly Field[] = ["namespace", "apiGroup", "apiVersion", "resource", "subresource", "name"];

/** Compiles the configuration once; throws on a template it does not understand. */
export function attributesBuilder(resource: ResourceAttributesConfig | undefined, rewrites: RewritesConfig | undefined): AttributesBuilder {
  if (!resource) {
    return (r) => ({ ok: true, attributes: [{ kind: "nonResource", verb: verbFor(r.method), path: r.path }] });
  }
  if (!rewrites) {
    return (r) => ({ ok: true, attributes: [{ kind: "resource", verb: verbFor(r.method), ...fixedResource(resource) }] });
  }
  const templates = Object.fromEntries(FIELDS.map((f) => [f, compileTemplate(resource[f] ?? "")])) as Record<Field, Template>;
  return (r) => {
    const values = rewriteValues(rewrites, r);
    if (values.length === 0) return { ok: false, reason: "the request carries no value for the configured rewrite" };
    const verb = verbFor(r.method);
    return {
      ok: true,
      attributes: values.map((value) => ({
        kind: "resource",
        verb,
        namespace: templates.namespace(value),
        apiGroup: templates.apiGroup(value),
        apiVersion: templates.apiVersion(value),
        resource: templates.resource(value),
        subresource: templates.subresource(value),
        name: templates.name(value),
      })),
    };
  };
}

function fixedResource(resource: ResourceAttributesConfig): Omit<ResourceAttributes, "kind" | "verb"> {
  return {
    namespace: resource.namespace ?? "",
    apiGroup: resource.apiGroup ?? "",
    apiVersion: resource.apiVersion ?? "",
    resource: resource.resource ?? "",
    subresource: resource.subresource ?? "",
    name: resource.name ?? "",
  };
}

/** Values of the rewrite sources in kube-rbac-proxy's order: query parameter values, then the header. */
function rewriteValues(rewrites: RewritesConfig, r: AttributesRequest): string[] {
  const values: string[] = [];
  if (rewrites.byQueryParameter?.name) values.push(...queryValues(r.query, rewrites.byQueryParameter.name));
  if (rewrites.byHttpHeader?.name) {
    const header = r.headers.get(rewrites.byHttpHeader.name.toLowerCase());
    if (header !== undefined) values.push(header);
  }
  return values;
}

/**
 * All values of `name` in a raw query string, decoded as Go's url.ParseQuery does: `+` is a space,
 * a pair holding `;` or a bad escape is skipped.
 */
export function queryValues(query: string, name: string): string[] {
  const values: string[] = [];
  for (const pair of query.split("&")) {
    if (pair === "" || pair.includes(";")) continue;
    const eq = pair.indexOf("=");
    const key = unescapeQuery(eq === -1 ? pair : pair.slice(0, eq));
    const value = unescapeQuery(eq === -1 ? "" : pair.slice(eq + 1));
    if (key === name && value !== undefined) values.push(value);
  }
  return values;
}

function unescapeQuery(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}
