// What server reflection serves must be descriptors a protoc-based client (grpcurl) can load.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import descriptor from "protobufjs/ext/descriptor/index.js";
import { loadExtAuthzProtos } from "../../../src/adapters/grpc/protos.ts";

interface Message {
  name: string;
  field?: Array<{ name: string; typeName?: string; label?: string | number }>;
  nestedType?: Message[];
  enumType?: Array<{ name: string }>;
  options?: { mapEntry?: boolean };
}
interface File {
  name: string;
  package: string;
  dependency?: string[];
  messageType?: Message[];
  enumType?: Array<{ name: string }>;
}

const decode = (bytes: Uint8Array) => (descriptor.FileDescriptorProto as unknown as { decode(b: Uint8Array): File }).decode(bytes);
const files = new Map<string, File>();
for (const entry of Object.values(loadExtAuthzProtos().packageDefinition)) {
  for (const bytes of (entry as { fileDescriptorProtos?: Buffer[] }).fileDescriptorProtos ?? []) {
    const file = decode(bytes);
    files.set(file.name, file);
  }
}

function definitions(file: File): Set<string> {
  const names = new Set<string>();
  const walk = (m: Message, scope: string) => {
    const name = `${scope}.${m.name}`;
    names.add(name);
    for (const e of m.enumType ?? []) names.add(`${name}.${e.name}`);
    for (const n of m.nestedType ?? []) walk(n, name);
  };
  for (const e of file.enumType ?? []) names.add(`.${file.package}.${e.name}`);
  for (const m of file.messageType ?? []) walk(m, `.${file.package}`);
  return names;
}

function fields(m: Message): Array<{ owner: Message; field: NonNullable<Message["field"]>[number] }> {
  return [...(m.field ?? []).map((field) => ({ owner: m, field })), ...(m.nestedType ?? []).flatMap(fields)];
}

describe("reflection descriptors", () => {
  it("serves every file of the service", () => {
    assert.ok(files.has("envoy_service_auth_v3.proto"));
    assert.ok(files.size >= 4);
  });

  for (const file of files.values()) {
    it(`${file.name}: every type name is fully qualified and defined in the file or a file it depends on`, () => {
      const visible = new Set([...definitions(file), ...(file.dependency ?? []).flatMap((d) => [...definitions(files.get(d) as File)])]);
      for (const { owner, field } of (file.messageType ?? []).flatMap(fields)) {
        if (!field.typeName) continue;
        assert.ok(field.typeName.startsWith("."), `${owner.name}.${field.name}: ${field.typeName}`);
        assert.ok(visible.has(field.typeName), `${owner.name}.${field.name}: ${field.typeName} is not visible`);
      }
    });

    it(`${file.name}: map entries are named as protoc names them`, () => {
      const walk = (m: Message) => {
        for (const nested of m.nestedType ?? []) {
          if (nested.options?.mapEntry) {
            const field = m.field?.find((f) => f.typeName?.endsWith(`.${nested.name}`));
            assert.ok(field, `a field uses ${nested.name}`);
            const camel = field.name.replace(/(?:^|_)([a-z0-9])/g, (_, c: string) => c.toUpperCase());
            assert.equal(nested.name, `${camel}Entry`);
          }
          walk(nested);
        }
      };
      for (const m of file.messageType ?? []) walk(m);
    });
  }
});
