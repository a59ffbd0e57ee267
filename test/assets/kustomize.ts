// The small subset of `kustomize build` that deploy/ uses, so tests can apply exactly what
// `kubectl apply -k` would, without a kustomize binary:
//   * `resources:` that are YAML files inside the kustomization directory (multi-document);
//   * `configMapGenerator:` entries with `name`, `namespace` and `files` (`path` or `key=path`),
//     named `<name>-<hash>` with kustomize's content hash, and the references to them from pod
//     templates (volumes, projected volumes, env valueFrom, envFrom) renamed to match.
// Anything else in a kustomization.yaml (bases, patches, namespace, labels, images, other
// generators, options) is refused with an error, so the subset cannot silently diverge from what
// kustomize would do. test/assets/deploy.test.ts also compares the result with `kubectl kustomize`
// when kubectl is installed.
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { parseAllDocuments } from "yaml";

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here
export type KubeObject = Record<string, any>;

export interface RenderedObject {
  object: KubeObject;
  /** The file it came from, relative to the kustomization directory, or `configMapGenerator`. */
  source: string;
}

const KUSTOMIZATION_KEYS = new Set(["apiVersion", "kind", "resources", "configMapGenerator"]);
const GENERATOR_KEYS = new Set(["name", "namespace", "files"]);

export function render(dir: string): RenderedObject[] {
  const kustomization = parseOne(join(dir, "kustomization.yaml"));
  if (kustomization.apiVersion !== "kustomize.config.k8s.io/v1beta1" || kustomization.kind !== "Kustomization") {
    throw new Error(`${dir}/kustomization.yaml: want apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization`);
  }
  for (const key of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_KEYS.has(key))
      throw new Error(`${dir}/kustomization.yaml: "${key}" is outside the kustomize subset the tests implement`);
  }
  const out: RenderedObject[] = [];
  for (const entry of kustomization.resources ?? []) {
    const path = inside(dir, entry);
    if (!statSync(path).isFile()) throw new Error(`${dir}: resource ${entry} is not a file (directories are outside the subset)`);
    for (const object of parseAll(path)) out.push({ object, source: entry });
  }
  const renames = new Map<string, string>(); // "<namespace>/<name>" -> generated name
  for (const generator of kustomization.configMapGenerator ?? []) {
    for (const key of Object.keys(generator)) {
      if (!GENERATOR_KEYS.has(key)) throw new Error(`${dir}: configMapGenerator "${key}" is outside the subset`);
    }
    const data: Record<string, string> = {};
    for (const spec of generator.files ?? []) {
      const [key, file] = String(spec).includes("=") ? String(spec).split("=", 2) : [basename(String(spec)), String(spec)];
      if (key in data) throw new Error(`${dir}: configMapGenerator ${generator.name}: duplicate key ${key}`);
      data[key] = readFileSync(inside(dir, file), "utf8");
    }
    const name = `${generator.name}-${configMapHash(data)}`;
    const metadata: KubeObject = { name };
    if (generator.namespace) metadata.namespace = generator.namespace;
    renames.set(`${generator.namespace ?? ""}/${generator.name}`, name);
    out.push({ object: { apiVersion: "v1", kind: "ConfigMap", metadata, data }, source: "configMapGenerator" });
  }
  for (const { object } of out) renameConfigMapReferences(object, renames);
  return out;
}

/**
 * kustomize's name suffix of a generated ConfigMap (sigs.k8s.io/kustomize/api/hasher): SHA-256 of
 * the JSON of {data, kind: "ConfigMap", name} as Go's encoding/json writes it (sorted keys,
 * HTML-safe escapes), its first 10 hex digits with 0 1 3 a e replaced so that the suffix reads as
 * no word. `name` is always "" there: kustomize looks it up as the single field "metadata/name",
 * which never exists (checked against kubectl kustomize v5.5.0, and by a test when kubectl exists).
 */
export function configMapHash(data: Record<string, string>): string {
  const sortedData = Object.fromEntries(
    Object.keys(data)
      .sort()
      .map((k) => [k, data[k]]),
  );
  const json = goJson({ data: sortedData, kind: "ConfigMap", name: "" });
  const hex = createHash("sha256").update(json).digest("hex").slice(0, 10);
  return hex.replace(/[013ae]/g, (c) => ({ "0": "g", "1": "h", "3": "k", a: "m", e: "t" })[c] as string);
}

function goJson(value: unknown): string {
  // Keys are already in sorted order; Go additionally escapes <, >, & and U+2028/U+2029.
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function renameConfigMapReferences(object: KubeObject, renames: Map<string, string>): void {
  const podSpec = object.kind === "Pod" ? object.spec : object.spec?.template?.spec;
  if (!podSpec) return;
  const namespace = object.metadata?.namespace ?? "";
  const rename = (ref: KubeObject | undefined) => {
    const to = ref?.name !== undefined ? renames.get(`${namespace}/${ref.name}`) : undefined;
    if (ref && to) ref.name = to;
  };
  for (const volume of podSpec.volumes ?? []) {
    rename(volume.configMap);
    for (const source of volume.projected?.sources ?? []) rename(source.configMap);
  }
  for (const container of [...(podSpec.initContainers ?? []), ...(podSpec.containers ?? [])]) {
    for (const env of container.env ?? []) rename(env.valueFrom?.configMapKeyRef);
    for (const from of container.envFrom ?? []) rename(from.configMapRef);
  }
}

function inside(dir: string, entry: unknown): string {
  const text = String(entry);
  const path = resolve(dir, text);
  const rel = relative(resolve(dir), path);
  if (/^[a-z]+:\/\//i.test(text) || isAbsolute(text) || rel.startsWith("..")) {
    throw new Error(`${dir}: ${text} is outside the kustomization directory (kustomize refuses it too)`);
  }
  return path;
}

function parseAll(path: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(readFileSync(path, "utf8"))) {
    if (doc.errors.length) throw new Error(`${path}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

function parseOne(path: string): KubeObject {
  const [first, ...rest] = parseAll(path);
  if (!first || rest.length) throw new Error(`${path}: want exactly one YAML document`);
  return first;
}
