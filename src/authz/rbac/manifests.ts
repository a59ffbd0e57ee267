// RBAC from files, for running with no cluster at all: a file or a folder (searched recursively for
// .yaml, .yml and .json) of Roles, ClusterRoles, RoleBindings and ClusterRoleBindings, several
// documents per file, `kind: List` and the typed lists (`RoleList`, ...) of `kubectl get -o yaml`
// included. Objects of other kinds are skipped and counted; a malformed object is an error naming
// its file and document, and so is the same object twice. Aggregated ClusterRoles are resolved over
// the ClusterRoles of the whole set, as the cluster's controller would.
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { resolveAggregation } from "./aggregation.ts";
import { parseRbacObject, type RbacObjectOf } from "./schema.ts";
import { RBAC_API_VERSION, RBAC_KINDS, type RbacKind, type RbacObjects } from "./types.ts";

export interface RbacManifests {
  objects: RbacObjects;
  /** The files read, in the order read. */
  files: readonly string[];
  /** Objects of other kinds, skipped: count by kind. */
  ignored: Readonly<Record<string, number>>;
}

const EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
const RBAC_GROUP = RBAC_API_VERSION.split("/")[0];

/** Reads `path` (a file or a folder); throws one line naming the file and document at fault. */
export function loadRbacManifests(path: string): RbacManifests {
  const files = statSync(path).isDirectory() ? manifestFiles(path, new Set()) : [path];
  if (files.length === 0) throw new Error(`${path}: no .yaml, .yml or .json files`);
  const collected = new Collector();
  for (const file of files) {
    for (const [index, doc] of documents(file).entries()) {
      if (doc !== null && doc !== undefined) collected.add(doc, `${file}: document ${index + 1}`);
    }
  }
  const { Role, ClusterRole, RoleBinding, ClusterRoleBinding } = collected.lists;
  return {
    objects: {
      roles: Role,
      clusterRoles: resolveAggregation(ClusterRole),
      roleBindings: RoleBinding,
      clusterRoleBindings: ClusterRoleBinding,
    },
    files,
    ignored: collected.ignored,
  };
}

// Sorted, so that the same folder always loads the same way. Names starting with "." are skipped:
// that is where a mounted ConfigMap keeps the real files (`..data/`, `..2024_01_01_.../`) behind
// the symlinks it shows, which would otherwise be read twice.
function manifestFiles(dir: string, seen: Set<string>): string[] {
  const real = realpathSync(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith(".")) continue;
    const full = join(dir, name);
    if (statSync(full).isDirectory()) files.push(...manifestFiles(full, seen));
    else if (EXTENSIONS.has(extname(name).toLowerCase())) files.push(full);
  }
  return files;
}

function documents(file: string): unknown[] {
  const text = readFileSync(file, "utf8");
  if (extname(file).toLowerCase() === ".json") {
    try {
      return [JSON.parse(text)];
    } catch (e) {
      throw new Error(`${file}: invalid JSON: ${(e as Error).message}`);
    }
  }
  return parseAllDocuments(text, { uniqueKeys: true, prettyErrors: false }).map((doc, index) => {
    const error = doc.errors[0];
    if (error) throw new Error(`${file}: document ${index + 1}: invalid YAML: ${error.message.split("\n")[0]}`);
    return doc.toJS();
  });
}

class Collector {
  readonly lists: { [K in RbacKind]: RbacObjectOf<K>[] } = { Role: [], ClusterRole: [], RoleBinding: [], ClusterRoleBinding: [] };
  readonly ignored: Record<string, number> = {};
  private readonly where = new Map<string, string>();

  /** `itemKind`: inside a typed list, whose items may leave out kind and apiVersion. */
  add(doc: unknown, where: string, itemKind?: RbacKind): void {
    if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new Error(`${where}: not an object`);
    const { apiVersion, kind = itemKind, items } = doc as { apiVersion?: unknown; kind?: unknown; items?: unknown };
    if (typeof kind !== "string" || kind === "") throw new Error(`${where}: no kind`);
    const rbacKind = RBAC_KINDS.find((k) => k === kind || `${k}List` === kind);
    const isRbac = rbacKind !== undefined && ((itemKind && apiVersion === undefined) || isRbacApiVersion(apiVersion, where));
    if (kind === "List" || (isRbac && kind !== rbacKind)) {
      if (!Array.isArray(items)) throw new Error(`${where}: ${kind} without items`);
      for (const [i, item] of items.entries()) this.add(item, `${where}, item ${i + 1}`, kind === "List" ? undefined : rbacKind);
    } else if (isRbac) {
      this.addObject(rbacKind, doc, where);
    } else {
      this.ignored[kind] = (this.ignored[kind] ?? 0) + 1;
    }
  }

  private addObject<K extends RbacKind>(kind: K, doc: unknown, where: string): void {
    let object: RbacObjectOf<K>;
    try {
      object = parseRbacObject(kind, doc, "manifest");
    } catch (e) {
      throw new Error(`${where}: ${(e as Error).message}`);
    }
    const key = "namespace" in object ? `${kind} ${object.namespace}/${object.name}` : `${kind} ${object.name}`;
    const first = this.where.get(key);
    if (first) throw new Error(`${where}: ${key} is already defined in ${first}`);
    this.where.set(key, where);
    this.lists[kind].push(object);
  }
}

// A Role in another API group (some CRDs reuse the names) is not ours; an RBAC object of another
// version is a mistake: the apiserver serves only v1.
function isRbacApiVersion(apiVersion: unknown, where: string): boolean {
  if (apiVersion === RBAC_API_VERSION) return true;
  if (typeof apiVersion === "string" && apiVersion.split("/")[0] === RBAC_GROUP) {
    throw new Error(`${where}: apiVersion ${apiVersion} is not served any more, use ${RBAC_API_VERSION}`);
  }
  return false;
}
