// A strict checker of proto3 JSON (as parsed from YAML) against protobuf message types loaded with
// protobufjs from Envoy's OFFICIAL protos (the ones @grpc/grpc-js-xds ships). It is what Envoy does
// to a YAML bootstrap before it runs (YAML -> JSON -> proto, then protoc-gen-validate rules), minus
// Envoy's own semantic checks, so a typo, a wrong type or a deprecated field fails a test here
// instead of a Pod in CrashLoopBackOff.
//
// What is checked, naming the path of each failure:
//   * every key is a field of the message: snake_case names only (Envoy also accepts lowerCamelCase;
//     we require one spelling, the one Envoy's docs use). Fields and enum values marked deprecated
//     or disallowed_by_default are failures (Envoy warns on the former, rejects the latter);
//   * types per the proto3 JSON mapping: messages are objects, repeated are arrays, maps are objects
//     with keys of the key type; int32/uint32 numbers in range (or strings of them), 64-bit ints as
//     safe integers or decimal strings, floats as numbers; bools as booleans, strings as strings,
//     bytes as base64; enums by NAME (numbers are valid proto3 JSON, but we require names); null is
//     refused (in YAML it is a key with no value: a slip, not a default);
//   * well-known types: Duration ("1s", "0.5s"), Timestamp (RFC 3339), wrappers (the bare value),
//     Struct/Value/ListValue (any JSON), FieldMask, Empty;
//   * google.protobuf.Any (typed_config): "@type" must be type.googleapis.com/<full name> of a type
//     in the loaded Root, and the rest is checked against that type;
//   * oneofs: at most one member set, and one set when the oneof is (validate.required);
//   * a subset of protoc-gen-validate rules that Envoy enforces at load: message/duration/any
//     `required`, string min_len/max_len/min_bytes/max_bytes/len/prefix/in/not_in, numeric
//     const/lt/lte/gt/gte/in/not_in, duration lt/lte/gt/gte, repeated min_items/max_items (and
//     item rules), map min_pairs/max_pairs, any `in`, enum defined_only. Like PGV, rules apply to
//     the default value of an absent field outside a oneof (an absent `cluster_name` with min_len 1
//     fails). Not implemented: string `pattern` and `well_known_regex` (RE2), email/hostname/ip/uri
//     formats, and rules on map keys and values.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

type Root = protobuf.Root;
type Type = protobuf.Type;
type Field = protobuf.Field;

const DEPS = fileURLToPath(new URL("../../node_modules/@grpc/grpc-js-xds/deps/", import.meta.url));
/** Where Envoy's official protos and their imports live (as in test/support/envoy-client.ts). */
export const OFFICIAL_PROTO_DIRS = ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(DEPS, d));
// google/protobuf/descriptor.proto (imported by the annotation protos) is not in those four; the
// copy protobufjs ships is the official one. Other google/protobuf/*.proto are built into protobufjs.
const PROTOBUFJS_DIR = fileURLToPath(new URL("../../node_modules/protobufjs/", import.meta.url));

/** Loads the given .proto files (paths relative to the include dirs) and everything they import. */
export function loadProtos(files: readonly string[]): Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const dir of [...OFFICIAL_PROTO_DIRS, PROTOBUFJS_DIR]) {
      const path = join(dir, target);
      if (existsSync(path)) return path;
    }
    throw new Error(`${target} is in none of ${OFFICIAL_PROTO_DIRS.join(", ")}`);
  };
  root.loadSync(files as string[], { keepCase: true });
  root.resolveAll();
  return root;
}

const TYPE_URL_PREFIX = "type.googleapis.com/";

// biome-ignore lint/suspicious/noExplicitAny: PGV rules are untyped option objects
type Rules = Record<string, any>;

/** Checks `value` as the proto3 JSON of message `typeName`; returns the failures (empty: valid). */
export function checkMessage(root: Root, typeName: string, value: unknown, path = "$"): string[] {
  const failures: string[] = [];
  new Checker(root, failures).message(root.lookupType(typeName), value, path);
  return failures;
}

class Checker {
  private readonly root: Root;
  private readonly failures: string[];

  constructor(root: Root, failures: string[]) {
    this.root = root;
    this.failures = failures;
  }

  private fail(path: string, message: string): void {
    this.failures.push(`${path}: ${message}`);
  }

  message(type: Type, value: unknown, path: string): void {
    const name = fullName(type);
    if (WELL_KNOWN[name]) {
      WELL_KNOWN[name](value, path, (p, m) => this.fail(p, m), this);
      return;
    }
    if (!isObject(value)) {
      this.fail(path, `want an object (message ${name}), got ${describe(value)}`);
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const childPath = `${path}.${key}`;
      const field = Object.hasOwn(type.fields, key) ? type.fields[key] : undefined;
      if (!field) {
        const camel = type.fieldsArray.find((f) => jsonName(f) === key);
        if (camel) this.fail(childPath, `write the field as ${camel.name} (snake_case, as Envoy's docs do)`);
        else this.fail(childPath, `unknown field of ${name}${suggest(key, type)}`);
        continue;
      }
      if (field.options?.deprecated) this.fail(childPath, `field ${name}.${key} is deprecated`);
      if (field.options?.["(envoy.annotations.disallowed_by_default)"])
        this.fail(childPath, `field ${name}.${key} is disallowed by default`);
      if (child === null) {
        this.fail(childPath, "null (a key with no value): remove the key or give it a value");
        continue;
      }
      this.field(field, child, childPath);
    }
    this.oneofs(type, value, path);
    this.rules(type, value, path);
  }

  private oneofs(type: Type, value: Record<string, unknown>, path: string): void {
    for (const oneof of type.oneofsArray) {
      const set = oneof.oneof.filter((n) => value[n] !== undefined && value[n] !== null);
      if (set.length > 1) this.fail(path, `at most one of oneof ${oneof.name} may be set, got ${set.join(", ")}`);
      if (set.length === 0 && oneof.options?.["(validate.required)"]) {
        this.fail(path, `one of ${oneof.oneof.join(", ")} is required (oneof ${oneof.name})`);
      }
    }
  }

  /** protoc-gen-validate rules of every field of `type`, on the present value or the default. */
  private rules(type: Type, value: Record<string, unknown>, path: string): void {
    if (type.options?.["(validate.disabled)"] || type.options?.["(validate.ignored)"]) return;
    for (const field of type.fieldsArray) {
      const rules = pgvRules(field);
      if (!rules) continue;
      const present = value[field.name] !== undefined && value[field.name] !== null;
      // PGV validates a oneof's member only when it is the one set.
      if (!present && field.partOf && !field.partOf.name.startsWith("_")) continue;
      this.applyRules(field, rules, present ? value[field.name] : undefined, `${path}.${field.name}`);
    }
  }

  private applyRules(field: Field, rules: Rules, value: unknown, path: string): void {
    if (field.map) {
      const pairs = isObject(value) ? Object.keys(value).length : 0;
      if (rules.map?.min_pairs !== undefined && pairs < Number(rules.map.min_pairs))
        this.fail(path, `want at least ${rules.map.min_pairs} entries`);
      if (rules.map?.max_pairs !== undefined && pairs > Number(rules.map.max_pairs))
        this.fail(path, `want at most ${rules.map.max_pairs} entries`);
      return;
    }
    if (field.repeated) {
      const items = Array.isArray(value) ? value : [];
      if (rules.repeated?.min_items !== undefined && items.length < Number(rules.repeated.min_items)) {
        this.fail(path, `want at least ${rules.repeated.min_items} item(s), got ${items.length}`);
      }
      if (rules.repeated?.max_items !== undefined && items.length > Number(rules.repeated.max_items)) {
        this.fail(path, `want at most ${rules.repeated.max_items} item(s), got ${items.length}`);
      }
      const itemRules = rules.repeated?.items;
      if (itemRules) {
        for (const [i, item] of items.entries()) this.singleRules(field, itemRules, item, `${path}[${i}]`);
      }
      return;
    }
    this.singleRules(field, rules, value, path);
  }

  private singleRules(field: Field, rules: Rules, value: unknown, path: string): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) {
      const kind = fullName(resolved);
      const required = rules.message?.required || rules.duration?.required || rules.timestamp?.required || rules.any?.required;
      if (value === undefined) {
        if (required) this.fail(path, "required");
        return;
      }
      if (kind === "google.protobuf.Duration" && rules.duration && typeof value === "string" && DURATION.test(value)) {
        const nanos = durationNanos(value);
        const bound = (b: Rules | undefined) => (b ? BigInt(b.seconds ?? 0) * 1_000_000_000n + BigInt(b.nanos ?? 0) : undefined);
        const d = rules.duration;
        const [lt, lte, gt, gte] = [bound(d.lt), bound(d.lte), bound(d.gt), bound(d.gte)];
        if (lt !== undefined && !(nanos < lt)) this.fail(path, `duration must be < ${fmtNanos(lt)}`);
        if (lte !== undefined && !(nanos <= lte)) this.fail(path, `duration must be <= ${fmtNanos(lte)}`);
        if (gt !== undefined && !(nanos > gt)) this.fail(path, `duration must be > ${fmtNanos(gt)}`);
        if (gte !== undefined && !(nanos >= gte)) this.fail(path, `duration must be >= ${fmtNanos(gte)}`);
      }
      if (kind === "google.protobuf.Any" && Array.isArray(rules.any?.in) && isObject(value)) {
        if (!rules.any.in.includes(value["@type"])) this.fail(path, `@type must be one of ${rules.any.in.join(", ")}`);
      }
      // Wrapper types carry scalar rules on their bare value.
      if (WRAPPERS[kind] && value !== undefined) this.scalarRules(WRAPPERS[kind], rules, value, path);
      return;
    }
    if (resolved instanceof protobuf.Enum) {
      // Names are enforced by the type check already: defined_only holds for every name.
      return;
    }
    this.scalarRules(field.type, rules, value ?? defaultOf(field.type), path);
  }

  private scalarRules(scalar: string, rules: Rules, value: unknown, path: string): void {
    if (scalar === "string" && rules.string && typeof value === "string") {
      const r = rules.string;
      if (r.ignore_empty && value === "") return;
      const chars = [...value].length;
      const bytes = Buffer.byteLength(value);
      if (r.min_len !== undefined && chars < Number(r.min_len))
        this.fail(path, value === "" ? "required (non-empty string)" : `want at least ${r.min_len} characters`);
      if (r.max_len !== undefined && chars > Number(r.max_len)) this.fail(path, `want at most ${r.max_len} characters`);
      if (r.len !== undefined && chars !== Number(r.len)) this.fail(path, `want exactly ${r.len} characters`);
      if (r.min_bytes !== undefined && bytes < Number(r.min_bytes))
        this.fail(path, value === "" ? "required (non-empty string)" : `want at least ${r.min_bytes} bytes`);
      if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) this.fail(path, `want at most ${r.max_bytes} bytes`);
      if (r.prefix !== undefined && !value.startsWith(r.prefix)) this.fail(path, `must start with ${JSON.stringify(r.prefix)}`);
      if (Array.isArray(r.in) && !r.in.includes(value)) this.fail(path, `must be one of ${r.in.join(", ")}`);
      if (Array.isArray(r.not_in) && r.not_in.includes(value)) this.fail(path, `must not be ${JSON.stringify(value)}`);
      return;
    }
    const numeric = rules[scalar];
    if (NUMERIC.has(scalar) && numeric && (typeof value === "number" || typeof value === "string")) {
      const n = Number(value);
      if (numeric.const !== undefined && n !== Number(numeric.const)) this.fail(path, `must be ${numeric.const}`);
      if (numeric.lt !== undefined && !(n < Number(numeric.lt))) this.fail(path, `must be < ${numeric.lt}`);
      if (numeric.lte !== undefined && !(n <= Number(numeric.lte))) this.fail(path, `must be <= ${numeric.lte}`);
      if (numeric.gt !== undefined && !(n > Number(numeric.gt))) this.fail(path, `must be > ${numeric.gt}`);
      if (numeric.gte !== undefined && !(n >= Number(numeric.gte))) this.fail(path, `must be >= ${numeric.gte}`);
      if (Array.isArray(numeric.in) && !numeric.in.map(Number).includes(n)) this.fail(path, `must be one of ${numeric.in.join(", ")}`);
      if (Array.isArray(numeric.not_in) && numeric.not_in.map(Number).includes(n)) this.fail(path, `must not be ${n}`);
    }
  }

  field(field: Field, value: unknown, path: string): void {
    if (field.map) {
      if (!isObject(value)) {
        this.fail(path, `want an object (map<${keyTypeOf(field)}, ${fieldTypeName(field)}>), got ${describe(value)}`);
        return;
      }
      const keyType = keyTypeOf(field);
      for (const [k, v] of Object.entries(value)) {
        const p = `${path}[${JSON.stringify(k)}]`;
        if (keyType === "bool" && k !== "true" && k !== "false") this.fail(p, "map key must be true or false");
        else if (keyType !== "string" && keyType !== "bool" && !/^-?\d+$/.test(k)) this.fail(p, `map key must be an integer (${keyType})`);
        if (v === null) this.fail(p, "null map value");
        else this.single(field, v, p);
      }
      return;
    }
    if (field.repeated) {
      if (!Array.isArray(value)) {
        this.fail(path, `want a list (repeated ${fieldTypeName(field)}), got ${describe(value)}`);
        return;
      }
      for (const [i, item] of value.entries()) {
        if (item === null) this.fail(`${path}[${i}]`, "null list item");
        else this.single(field, item, `${path}[${i}]`);
      }
      return;
    }
    this.single(field, value, path);
  }

  private single(field: Field, value: unknown, path: string): void {
    const resolved = field.resolvedType;
    if (resolved instanceof protobuf.Type) this.message(resolved, value, path);
    else if (resolved instanceof protobuf.Enum) this.enumValue(resolved, value, path);
    else this.scalar(field.type, value, path, (m) => this.fail(path, m));
  }

  private enumValue(e: protobuf.Enum, value: unknown, path: string): void {
    const name = fullName(e);
    if (name === "google.protobuf.NullValue") {
      if (value !== null) this.fail(path, "want null (NullValue)");
      return;
    }
    if (typeof value !== "string") {
      this.fail(path, `want an enum name of ${name} (${Object.keys(e.values).join(", ")}), got ${describe(value)}`);
      return;
    }
    if (!(value in e.values)) {
      this.fail(path, `unknown value ${JSON.stringify(value)} of enum ${name}; known: ${Object.keys(e.values).join(", ")}`);
      return;
    }
    const options = e.valuesOptions?.[value];
    if (options?.deprecated) this.fail(path, `enum value ${name}.${value} is deprecated`);
    if (options?.["(envoy.annotations.disallowed_by_default_enum)"])
      this.fail(path, `enum value ${name}.${value} is disallowed by default`);
  }

  scalar(type: string, value: unknown, _path: string, fail: (m: string) => void): void {
    switch (type) {
      case "string":
        if (typeof value !== "string") fail(`want a string, got ${describe(value)}`);
        return;
      case "bool":
        if (typeof value !== "boolean") fail(`want true or false, got ${describe(value)}`);
        return;
      case "bytes":
        if (typeof value !== "string" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value)) fail(`want base64 bytes, got ${describe(value)}`);
        return;
      case "double":
      case "float":
        if (typeof value === "number") return;
        if (typeof value === "string" && (/^(NaN|-?Infinity)$/.test(value) || isDecimal(value))) return;
        fail(`want a number (${type}), got ${describe(value)}`);
        return;
      default: {
        const range = INT_RANGES[type];
        if (!range) {
          fail(`unsupported scalar type ${type}`);
          return;
        }
        let n: bigint;
        if (typeof value === "number" && Number.isInteger(value)) {
          if (!Number.isSafeInteger(value)) {
            fail(`integer ${value} is not exact in JSON: write it as a string`);
            return;
          }
          n = BigInt(value);
        } else if (typeof value === "string" && /^-?\d+$/.test(value)) n = BigInt(value);
        else {
          fail(`want an integer (${type}), got ${describe(value)}`);
          return;
        }
        if (n < range[0] || n > range[1]) fail(`${n} is out of range for ${type} [${range[0]}, ${range[1]}]`);
      }
    }
  }

  any(value: unknown, path: string): void {
    if (!isObject(value)) {
      this.fail(path, `want an object with "@type" (google.protobuf.Any), got ${describe(value)}`);
      return;
    }
    const url = value["@type"];
    if (typeof url !== "string" || !url.startsWith(TYPE_URL_PREFIX)) {
      this.fail(path, `"@type" must be ${TYPE_URL_PREFIX}<message full name>, got ${describe(url)}`);
      return;
    }
    const typeName = url.slice(TYPE_URL_PREFIX.length);
    let type: Type;
    try {
      type = this.root.lookupType(typeName);
    } catch {
      this.fail(
        `${path}["@type"]`,
        `unknown @type ${typeName}: no such message in the loaded protos (a typo, or its .proto is not loaded)`,
      );
      return;
    }
    if (type.options?.deprecated) this.fail(`${path}["@type"]`, `message ${typeName} is deprecated`);
    const rest = Object.fromEntries(Object.entries(value).filter(([k]) => k !== "@type"));
    const p = `${path}(${typeName})`;
    if (WELL_KNOWN[typeName]) {
      // A well-known type with a special JSON form is wrapped: {"@type": ..., "value": <its JSON>}.
      const extra = Object.keys(rest).filter((k) => k !== "value");
      if (extra.length) this.fail(p, `an Any of ${typeName} has only "value", not ${extra.join(", ")}`);
      this.message(type, rest.value, `${p}.value`);
    } else this.message(type, rest, p);
  }
}

type WellKnownCheck = (value: unknown, path: string, fail: (path: string, message: string) => void, checker: Checker) => void;

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const MAX_DURATION_SECONDS = 315_576_000_000n;

const WRAPPERS: Record<string, string> = {
  "google.protobuf.DoubleValue": "double",
  "google.protobuf.FloatValue": "float",
  "google.protobuf.Int64Value": "int64",
  "google.protobuf.UInt64Value": "uint64",
  "google.protobuf.Int32Value": "int32",
  "google.protobuf.UInt32Value": "uint32",
  "google.protobuf.BoolValue": "bool",
  "google.protobuf.StringValue": "string",
  "google.protobuf.BytesValue": "bytes",
};

const WELL_KNOWN: Record<string, WellKnownCheck> = {
  "google.protobuf.Duration": (v, p, fail) => {
    if (typeof v !== "string" || !DURATION.test(v))
      fail(p, `want a duration like "1s" or "0.250s" (google.protobuf.Duration), got ${describe(v)}`);
    else if (durationNanos(v) / 1_000_000_000n > MAX_DURATION_SECONDS || -durationNanos(v) / 1_000_000_000n > MAX_DURATION_SECONDS) {
      fail(p, "duration out of range");
    }
  },
  "google.protobuf.Timestamp": (v, p, fail) => {
    if (typeof v !== "string" || !TIMESTAMP.test(v) || Number.isNaN(Date.parse(v)))
      fail(p, `want an RFC 3339 timestamp, got ${describe(v)}`);
  },
  "google.protobuf.FieldMask": (v, p, fail) => {
    if (typeof v !== "string") fail(p, `want a string (google.protobuf.FieldMask), got ${describe(v)}`);
  },
  "google.protobuf.Empty": (v, p, fail) => {
    if (!isObject(v) || Object.keys(v).length > 0) fail(p, `want {} (google.protobuf.Empty), got ${describe(v)}`);
  },
  "google.protobuf.Struct": (v, p, fail) => {
    if (!isObject(v)) fail(p, `want an object (google.protobuf.Struct), got ${describe(v)}`);
  },
  "google.protobuf.ListValue": (v, p, fail) => {
    if (!Array.isArray(v)) fail(p, `want a list (google.protobuf.ListValue), got ${describe(v)}`);
  },
  "google.protobuf.Value": () => {},
  "google.protobuf.Any": (v, p, _fail, checker) => checker.any(v, p),
  ...Object.fromEntries(
    Object.entries(WRAPPERS).map(([name, scalar]): [string, WellKnownCheck] => [
      name,
      (v, p, fail, checker) => checker.scalar(scalar, v, p, (m) => fail(p, `${m} (${name})`)),
    ]),
  ),
};

const INT_RANGES: Record<string, [bigint, bigint]> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};
const NUMERIC = new Set([...Object.keys(INT_RANGES), "double", "float"]);

function defaultOf(scalar: string): unknown {
  if (scalar === "string" || scalar === "bytes") return "";
  if (scalar === "bool") return false;
  return 0;
}

function pgvRules(field: Field): Rules | undefined {
  const parsed = (field as unknown as { parsedOptions?: Array<Record<string, unknown>> }).parsedOptions;
  if (!parsed) return undefined;
  const rules: Rules = {};
  for (const option of parsed) {
    const r = option["(validate.rules)"];
    if (isObject(r)) Object.assign(rules, r);
  }
  return Object.keys(rules).length ? rules : undefined;
}

function durationNanos(text: string): bigint {
  const negative = text.startsWith("-");
  const [whole, frac = ""] = text.replace(/^-/, "").slice(0, -1).split(".");
  const nanos = BigInt(whole) * 1_000_000_000n + BigInt(frac.padEnd(9, "0"));
  return negative ? -nanos : nanos;
}

function fmtNanos(n: bigint): string {
  return `${Number(n) / 1e9}s`;
}

function isDecimal(s: string): boolean {
  return /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(s);
}

function fullName(t: protobuf.ReflectionObject): string {
  return t.fullName.replace(/^\./, "");
}

function keyTypeOf(f: Field): string {
  return (f as unknown as protobuf.MapField).keyType;
}

function fieldTypeName(f: Field): string {
  return f.resolvedType ? fullName(f.resolvedType) : f.type;
}

function jsonName(f: Field): string {
  return f.name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function suggest(key: string, type: Type): string {
  const near = type.fieldsArray.map((f) => f.name).filter((n) => editDistance(n, key) <= 2);
  return near.length ? ` (did you mean ${near.join(" or ")}?)` : "";
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
  }
  return d[a.length][b.length];
}
