// The embedded example of `npm start` with no flags: examples/tokens.csv and examples/rbac.yaml,
// decided locally, and two commands to paste to see an allow and a deny.
import { fileURLToPath } from "node:url";

const EXAMPLES = fileURLToPath(new URL("../examples/", import.meta.url));

export function exampleFlags(): string[] {
  return [
    // A demo with well-known tokens listens on loopback only.
    "--grpc-address=127.0.0.1:9000",
    "--metrics-address=127.0.0.1:9090",
    "--authorization-mode=local",
    `--rbac-manifests=${EXAMPLES}rbac.yaml`,
    `--token-auth-file=${EXAMPLES}tokens.csv`,
  ];
}

const check = (port: number, token: string) =>
  `grpcurl -plaintext -d '{"attributes":{"request":{"http":{"method":"GET","path":"/metrics","headers":{"authorization":"Bearer ${token}"}}}}}' 127.0.0.1:${port} envoy.service.auth.v3.Authorization/Check`;

/** Printed on stderr, beside the JSON log on stdout. */
export function printExample(port: number): void {
  process.stderr.write(
    [
      "",
      "kube-rbac-extauthz is running the embedded example (no flags): tokens from examples/tokens.csv,",
      "RBAC from examples/rbac.yaml, decided locally (no cluster needed). See examples/README.md.",
      "",
      "  allowed (prometheus may get /metrics):",
      `  ${check(port, "prometheus-demo-token")}`,
      "",
      "  denied 403 (alice may not):",
      `  ${check(port, "alice-demo-token")}`,
      "",
      "Run with --help for every flag.",
      "",
    ].join("\n"),
  );
}
