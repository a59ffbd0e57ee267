// TLS for the gRPC listener (--tls-cert-file, --tls-private-key-file, --tls-client-ca-file,
// --tls-min-version), with certificates that can be swapped while the server runs: grpc-js
// re-applies a credentials object's secure context to its live server whenever it changes.
import { readFileSync } from "node:fs";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import { ServerCredentials } from "@grpc/grpc-js";
import type { TlsFiles } from "../../config/index.ts";

class ReloadableServerCredentials extends ServerCredentials {
  readonly #files: TlsFiles;

  constructor(files: TlsFiles) {
    const requireClientCert = files.clientCaFile !== undefined;
    super({ requestCert: requireClientCert, rejectUnauthorized: requireClientCert, minVersion: files.minVersion }, contextOptions(files));
    this.#files = files;
  }

  /** Reads the files again; throws (and keeps serving the old ones) when they are unusable. */
  reload(): void {
    const options = contextOptions(this.#files);
    // Tried here first: grpc-js would otherwise take a mismatched key and certificate (a renewal
    // caught between its two file writes) and refuse every connection until the next change.
    createSecureContext(options);
    this.updateSecureContextOptions(options);
  }

  _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

function contextOptions(files: TlsFiles): SecureContextOptions {
  const read = (flag: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`${flag} ${path}: ${(e as Error).message}`);
    }
  };
  return {
    cert: read("--tls-cert-file", files.certFile),
    key: read("--tls-private-key-file", files.keyFile),
    ca: files.clientCaFile ? read("--tls-client-ca-file", files.clientCaFile) : undefined,
    minVersion: files.minVersion,
  };
}

export interface GrpcCredentials {
  credentials: ServerCredentials;
  /** Files to watch, and how to apply their change. */
  files: string[];
  reload(): void;
}

export function grpcCredentials(tls: TlsFiles | undefined): GrpcCredentials {
  if (!tls) return { credentials: ServerCredentials.createInsecure(), files: [], reload: () => {} };
  const credentials = new ReloadableServerCredentials(tls);
  return {
    credentials,
    files: [tls.certFile, tls.keyFile, ...(tls.clientCaFile ? [tls.clientCaFile] : [])],
    reload: () => credentials.reload(),
  };
}
