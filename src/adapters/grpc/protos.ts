// Loads the service's own wire-compatible subset of Envoy's ext_authz v3 API from proto/.
import { fileURLToPath } from "node:url";
import { loadPackageDefinition, type ServiceDefinition } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";
import { qualifyTypeNames } from "./reflection-descriptors.ts";

export const PROTO_DIR = fileURLToPath(new URL("../../../proto/", import.meta.url));
export const EXTERNAL_AUTH_PROTO = "envoy/service/auth/v3/external_auth.proto";

export const LOADER_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: false, oneofs: true } as const;

export interface ExtAuthzProtos {
  packageDefinition: PackageDefinition;
  authorizationService: ServiceDefinition;
}

export function loadExtAuthzProtos(): ExtAuthzProtos {
  const packageDefinition = loadSync(EXTERNAL_AUTH_PROTO, { ...LOADER_OPTIONS, includeDirs: [PROTO_DIR] });
  qualifyTypeNames(packageDefinition);
  // biome-ignore lint/suspicious/noExplicitAny: the loaded package is typed only at run time
  const pkg = loadPackageDefinition(packageDefinition) as any;
  return { packageDefinition, authorizationService: pkg.envoy.service.auth.v3.Authorization.service };
}
