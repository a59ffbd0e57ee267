// Server reflection hands out the file descriptors proto-loader made. protobufjs writes one file
// per package, with every type name relative to where it is used ("type.v3.HttpStatus" inside
// envoy.service.auth.v3) and no dependencies between the files. Go's protodesc (grpcurl) cannot
// describe the service from that, so the names are made fully qualified (".envoy.type.v3.HttpStatus")
// and each file lists the files its types come from, and map entries get the names protoc gives
// them (`fields` -> `FieldsEntry`), once, before the descriptors are served.
import type { PackageDefinition } from "@grpc/proto-loader";
import descriptor from "protobufjs/ext/descriptor/index.js";

interface Message {
  name?: string;
  field?: Array<{ name?: string; typeName?: string }>;
  nestedType?: Message[];
  options?: { mapEntry?: boolean };
  enumType?: Array<{ name?: string }>;
}
interface Service {
  name?: string;
  method?: Array<{ inputType?: string; outputType?: string }>;
}
interface File {
  name?: string;
  package?: string;
  dependency?: string[];
  messageType?: Message[];
  enumType?: Array<{ name?: string }>;
  service?: Service[];
}

const FileDescriptorProto = descriptor.FileDescriptorProto as unknown as {
  decode(bytes: Uint8Array): File;
  encode(file: File): { finish(): Uint8Array };
};

/** Rewrites, in place, every descriptor of the definition with fully-qualified type names. */
export function qualifyTypeNames(definition: PackageDefinition): void {
  const entries = Object.values(definition).filter((d) => "fileDescriptorProtos" in d) as Array<{ fileDescriptorProtos: Buffer[] }>;
  const files = new Map<string, File>();
  for (const entry of entries)
    for (const bytes of entry.fileDescriptorProtos) files.set(bytes.toString("base64"), FileDescriptorProto.decode(bytes));

  for (const file of files.values()) for (const m of file.messageType ?? []) nameMapEntries(m);
  // Every fully-qualified type name, and the file that defines it.
  const definedIn = new Map<string, string>();
  for (const file of files.values()) {
    const pkg = file.package ? `.${file.package}` : "";
    const names = new Set<string>();
    for (const e of file.enumType ?? []) names.add(`${pkg}.${e.name}`);
    for (const m of file.messageType ?? []) collect(m, pkg, names);
    for (const n of names) definedIn.set(n, file.name ?? "");
  }
  const known = new Set(definedIn.keys());
  const fixed = new Map<string, Buffer>();
  for (const [key, file] of files) {
    const pkg = file.package ? `.${file.package}` : "";
    const used: string[] = [];
    const use = (name: string | undefined) => {
      const full = resolve(name, pkg, known);
      if (full) used.push(full);
      return full;
    };
    for (const m of file.messageType ?? []) qualify(m, pkg, known, used);
    for (const s of file.service ?? []) {
      for (const method of s.method ?? []) {
        method.inputType = use(method.inputType);
        method.outputType = use(method.outputType);
      }
    }
    const deps = new Set(used.map((n) => definedIn.get(n)).filter((f): f is string => f !== undefined && f !== file.name));
    file.dependency = [...deps].sort();
    fixed.set(key, Buffer.from(FileDescriptorProto.encode(file).finish()));
  }
  for (const entry of entries) {
    entry.fileDescriptorProtos = entry.fileDescriptorProtos.map((bytes) => fixed.get(bytes.toString("base64")) ?? bytes);
  }
}

/** protoc names the entry type of map field `context_extensions` `ContextExtensionsEntry`. */
function nameMapEntries(message: Message): void {
  for (const nested of message.nestedType ?? []) {
    nameMapEntries(nested);
    if (!nested.options?.mapEntry) continue;
    const field = message.field?.find((f) => f.typeName === nested.name);
    if (!field?.name) continue;
    const entry = `${field.name.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase())}Entry`;
    nested.name = entry;
    field.typeName = entry;
  }
}

function collect(message: Message, scope: string, known: Set<string>): void {
  const name = `${scope}.${message.name}`;
  known.add(name);
  for (const e of message.enumType ?? []) known.add(`${name}.${e.name}`);
  for (const nested of message.nestedType ?? []) collect(nested, name, known);
}

function qualify(message: Message, scope: string, known: Set<string>, used: string[]): void {
  const name = `${scope}.${message.name}`;
  for (const field of message.field ?? []) {
    field.typeName = resolve(field.typeName, name, known);
    if (field.typeName) used.push(field.typeName);
  }
  for (const nested of message.nestedType ?? []) qualify(nested, name, known, used);
}

/** Protobuf's scoping: the innermost enclosing scope that has the name wins. */
function resolve(typeName: string | undefined, scope: string, known: Set<string>): string | undefined {
  if (!typeName || typeName.startsWith(".")) return typeName;
  const parts = scope.split(".");
  for (let i = parts.length; i >= 1; i--) {
    const candidate = `${parts.slice(0, i).join(".")}.${typeName}`;
    if (known.has(candidate)) return candidate;
  }
  return known.has(`.${typeName}`) ? `.${typeName}` : typeName;
}
