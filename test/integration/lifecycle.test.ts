// Start-up errors, running with no cluster, gRPC health and reflection, and draining on SIGTERM.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { credentials, loadPackageDefinition } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { deniedStatus, envoyClient } from "../support/envoy-client.ts";
import { startFakeKubeApi } from "../support/fake-kube-api.ts";
import { runService, startService } from "../support/service-process.ts";

describe("start-up errors: one line naming the flag or file, exit non-zero", { concurrency: 4 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "kre-startup-"));
  before(async () => {
    await writeFile(join(dir, "broken.yaml"), "authorization:\n  static: [\n");
    await writeFile(join(dir, "unknown-key.yaml"), "authorization:\n  resourceAttribute:\n    resource: services\n");
    await writeFile(join(dir, "bad-rule.yaml"), "authorization:\n  static:\n    - path: /metrics\n      resourceRequest: true\n");
    await writeFile(
      join(dir, "bad-template.yaml"),
      'authorization:\n  resourceAttributes:\n    namespace: "{{ .Other }}"\n  rewrites:\n    byQueryParameter:\n      name: ns\n',
    );
    await writeFile(join(dir, "not-a-ca.pem"), "hello\n");
    await writeFile(join(dir, "tokens.csv"), "only-a-token\n");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const cases: Array<[string, string[], RegExp]> = [
    ["an unknown flag", ["--upstrem=http://x"], /unknown option '--upstrem/],
    ["a bad duration", ["--kube-api-timeout=5 seconds"], /--kube-api-timeout.*invalid duration/],
    ["a bad number", ["--cache-max-entries=lots"], /--cache-max-entries/],
    ["a bad address", ["--grpc-address=nowhere"], /--grpc-address/],
    ["a bad log level", ["--log-level=loud"], /--log-level/],
    ["a missing config file", [`--config-file=${join(dir, "absent.yaml")}`], /--config-file .*absent\.yaml.*ENOENT/],
    ["a broken config file", [`--config-file=${join(dir, "broken.yaml")}`], /--config-file .*broken\.yaml: invalid YAML/],
    ["an unknown config key", [`--config-file=${join(dir, "unknown-key.yaml")}`], /authorization.*resourceAttribute/],
    ["a static rule with a path and resourceRequest", [`--config-file=${join(dir, "bad-rule.yaml")}`], /static\.0/],
    [
      "a template it does not understand",
      [`--config-file=${join(dir, "bad-template.yaml")}`],
      /--config-file: unsupported template action/,
    ],
    ["an unreadable CA", [`--client-ca-file=${join(dir, "absent.pem")}`], /--client-ca-file: .*ENOENT/],
    ["a CA file without a certificate", [`--client-ca-file=${join(dir, "not-a-ca.pem")}`], /--client-ca-file: .*no PEM certificate/],
    ["a token file with a short record", [`--token-auth-file=${join(dir, "tokens.csv")}`], /--token-auth-file: .*line 1/],
    ["a missing kubeconfig", [`--kubeconfig=${join(dir, "absent")}`], /--kubeconfig/],
    [
      "a bad glob",
      ["--allow-paths=/metrics[", "--metrics-address=127.0.0.1:0", "--grpc-address=127.0.0.1:0"],
      /--allow-paths: syntax error in pattern/,
    ],
  ];
  for (const [name, flags, message] of cases) {
    it(`refuses ${name}`, async () => {
      const { code, stderr, stdout } = await runService(flags);
      assert.notEqual(code, 0);
      const lines = stderr.trim().split("\n");
      assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
      assert.match(lines[0], message);
      assert.equal(stdout, "");
    });
  }

  it("lists every contract flag in --help and exits 0", async () => {
    const { code, stdout } = await runService(["--help"]);
    assert.equal(code, 0);
    for (const flag of [
      "--grpc-address",
      "--metrics-address",
      "--http-address",
      "--kubeconfig",
      "--kube-api-timeout",
      "--cache-max-entries",
      "--config-file",
      "--auth-token-audiences",
      "--client-ca-file",
      "--token-auth-file",
      "--allow-paths",
      "--ignore-paths",
      "--auth-header-fields-enabled",
      "--auth-header-user-field-name",
      "--auth-header-groups-field-name",
      "--auth-header-groups-field-separator",
      "--authentication-token-webhook-cache-ttl",
      "--authorization-webhook-cache-authorized-ttl",
      "--authorization-webhook-cache-unauthorized-ttl",
      "--log-level",
    ]) {
      assert.ok(stdout.includes(flag), `--help lacks ${flag}`);
    }
  });
});

describe("running with no Kubernetes API", () => {
  it("starts with a warning, decides static tokens and rules, and answers 503 for what needs the API", async () => {
    const dir = await mkdtemp(join(tmpdir(), "kre-nocluster-"));
    await writeFile(join(dir, "tokens.csv"), "t0k3n,alice,1,admins\n");
    await writeFile(
      join(dir, "config.yaml"),
      "authorization:\n  static:\n    - user: {groups: [admins]}\n      path: /metrics\n      verb: get\n",
    );
    const service = await startService([`--token-auth-file=${join(dir, "tokens.csv")}`, `--config-file=${join(dir, "config.yaml")}`]);
    const client = envoyClient(service.grpcPort);
    try {
      assert.ok(service.logs().some((l) => l.level === "warn" && /no Kubernetes API/.test(String(l.msg))));
      assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer t0k3n" } })).status?.code, 0);
      assert.equal(deniedStatus(await client.check({ path: "/other", headers: { authorization: "Bearer t0k3n" } })), 503);
      assert.equal(deniedStatus(await client.check({ path: "/metrics", headers: { authorization: "Bearer unknown" } })), 503);
      assert.equal(deniedStatus(await client.check({ path: "/metrics" })), 401);
    } finally {
      client.close();
      await service.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("gRPC health, reflection and SIGTERM", () => {
  const healthProto = fileURLToPath(import.meta.resolve("grpc-health-check/proto/health/v1/health.proto"));

  it('answers SERVING for service "" and lists the Authorization service by reflection', async () => {
    const service = await startService([]);
    try {
      // biome-ignore lint/suspicious/noExplicitAny: dynamic client
      const pkg = loadPackageDefinition(loadSync(healthProto, { enums: String })) as any;
      const health = new pkg.grpc.health.v1.Health(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
      const status = await new Promise<{ status: string }>((resolve, reject) =>
        health.Check({ service: "" }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r))),
      );
      assert.equal(status.status, "SERVING");
      const liveness = await new Promise<{ status: string }>((resolve, reject) =>
        health.Check({ service: "liveness" }, (e: Error | null, r: { status: string }) => (e ? reject(e) : resolve(r))),
      );
      assert.equal(liveness.status, "SERVING", "the liveness probe's service");
      health.close();
      const reflectionProto = fileURLToPath(import.meta.resolve("@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto"));
      // biome-ignore lint/suspicious/noExplicitAny: dynamic client
      const rpkg = loadPackageDefinition(loadSync(reflectionProto, { keepCase: true })) as any;
      const reflection = new rpkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${service.grpcPort}`, credentials.createInsecure());
      const call = reflection.ServerReflectionInfo();
      const listed = await new Promise<string[]>((resolve, reject) => {
        call.on("data", (r: { list_services_response?: { service: Array<{ name: string }> } }) => {
          resolve((r.list_services_response?.service ?? []).map((s) => s.name));
          call.end();
        });
        call.on("error", reject);
        call.write({ list_services: "" });
      });
      reflection.close();
      assert.ok(listed.includes("envoy.service.auth.v3.Authorization"), `listed: ${listed}`);
    } finally {
      await service.stop();
    }
  });

  it("drains an in-flight Check on SIGTERM and exits 0", async () => {
    const api = await startFakeKubeApi();
    api.tokens.set("slow", { user: { username: "u" } });
    api.authorize = () => ({ allowed: true });
    api.delayMs = 800;
    const service = await startService([`--kubeconfig=${api.kubeconfigPath}`]);
    const client = envoyClient(service.grpcPort);
    try {
      const inFlight = client.check({ path: "/metrics", headers: { authorization: "Bearer slow" } });
      await new Promise((r) => setTimeout(r, 200));
      const exit = service.stop();
      const res = await inFlight;
      assert.equal(res.status?.code, 0, "the in-flight Check was answered");
      assert.equal(await exit, 0);
    } finally {
      client.close();
      await api.close();
    }
  });
});
