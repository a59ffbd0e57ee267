import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import { type Flags, flagsCommand, parseFlags } from "../../src/config/flags.ts";

// As main.ts does: throw instead of exiting, and keep stderr quiet.
const parse = (...argv: string[]): Flags =>
  parseFlags(argv, (c) => c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} }));

describe("parseFlags", () => {
  it("has the contract's defaults", () => {
    assert.deepEqual(parse(), {
      grpcAddress: "0.0.0.0:9000",
      metricsAddress: "0.0.0.0:9090",
      httpPathPrefix: "",
      kubeApiTimeout: 5000,
      cacheMaxEntries: 100_000,
      authTokenAudiences: [],
      allowPaths: [],
      ignorePaths: [],
      authHeaderFieldsEnabled: false,
      authHeaderUserFieldName: "x-remote-user",
      authHeaderGroupsFieldName: "x-remote-groups",
      authHeaderGroupsFieldSeparator: "|",
      authenticationTokenWebhookCacheTtl: 120_000,
      authorizationWebhookCacheAuthorizedTtl: 300_000,
      authorizationWebhookCacheUnauthorizedTtl: 30_000,
      logLevel: "info",
      dryRun: false,
      tlsMinVersion: "VersionTLS12",
      reloadInterval: 2000,
      egressTokenExpiration: 3_600_000,
      oidcUsernameClaim: "email",
      oidcGroupsClaim: "groups",
      oidcSignAlg: "RS256",
      authorizationMode: "sar",
      workers: 1,
    });
  });

  it("leaves the optional flags unset by default", () => {
    const flags = parse();
    for (const name of ["httpAddress", "kubeconfig", "configFile", "clientCaFile", "tokenAuthFile"] as const) {
      assert.equal(flags[name], undefined, name);
    }
  });

  it("reads every flag", () => {
    const flags = parse(
      "--grpc-address=127.0.0.1:0",
      "--metrics-address",
      "[::1]:9091",
      "--http-address=:8080",
      "--http-path-prefix=/authz",
      "--kubeconfig=/k",
      "--kube-api-timeout=1500ms",
      "--cache-max-entries=10",
      "--workers=2",
      "--config-file=/c.yaml",
      "--auth-token-audiences=a,b",
      "--client-ca-file=/ca.pem",
      "--token-auth-file=/t.csv",
      "--allow-paths=/metrics,/api/*",
      "--ignore-paths=/healthz",
      "--auth-header-fields-enabled",
      "--auth-header-user-field-name=X-User",
      "--auth-header-groups-field-name=X-Groups",
      "--auth-header-groups-field-separator=,",
      "--authentication-token-webhook-cache-ttl=1m",
      "--authorization-webhook-cache-authorized-ttl=10m",
      "--authorization-webhook-cache-unauthorized-ttl=0",
      "--log-level=trace",
      "--dry-run",
      "--tls-cert-file=/tls.crt",
      "--tls-private-key-file=/tls.key",
      "--tls-client-ca-file=/envoy-ca.pem",
      "--tls-min-version=VersionTLS13",
      "--reload-interval=500ms",
      "--egress-service-account=monitoring/prometheus",
      "--egress-token-expiration=15m",
      "--authorization-mode=local-then-sar",
      "--rbac-manifests=/rbac",
    );
    assert.deepEqual(flags, {
      grpcAddress: "127.0.0.1:0",
      metricsAddress: "[::1]:9091",
      httpAddress: ":8080",
      httpPathPrefix: "/authz",
      kubeconfig: "/k",
      kubeApiTimeout: 1500,
      cacheMaxEntries: 10,
      workers: 2,
      configFile: "/c.yaml",
      authTokenAudiences: ["a", "b"],
      clientCaFile: "/ca.pem",
      tokenAuthFile: "/t.csv",
      allowPaths: ["/metrics", "/api/*"],
      ignorePaths: ["/healthz"],
      authHeaderFieldsEnabled: true,
      authHeaderUserFieldName: "X-User",
      authHeaderGroupsFieldName: "X-Groups",
      authHeaderGroupsFieldSeparator: ",",
      authenticationTokenWebhookCacheTtl: 60_000,
      authorizationWebhookCacheAuthorizedTtl: 600_000,
      authorizationWebhookCacheUnauthorizedTtl: 0,
      logLevel: "trace",
      dryRun: true,
      tlsCertFile: "/tls.crt",
      tlsPrivateKeyFile: "/tls.key",
      tlsClientCaFile: "/envoy-ca.pem",
      tlsMinVersion: "VersionTLS13",
      reloadInterval: 500,
      egressServiceAccount: { namespace: "monitoring", name: "prometheus" },
      egressTokenExpiration: 900_000,
      oidcUsernameClaim: "email",
      oidcGroupsClaim: "groups",
      oidcSignAlg: "RS256",
      authorizationMode: "local-then-sar",
      rbacManifests: "/rbac",
    });
  });

  it("splits lists on commas, trimming and dropping empty items", () => {
    assert.deepEqual(parse("--allow-paths= /a , ,/b,").allowPaths, ["/a", "/b"]);
    assert.deepEqual(parse("--auth-token-audiences=").authTokenAudiences, []);
  });

  const booleans: Array<[argv: string[], value: boolean]> = [
    [["--auth-header-fields-enabled"], true],
    [["--auth-header-fields-enabled=true"], true],
    [["--auth-header-fields-enabled=TRUE"], true],
    [["--auth-header-fields-enabled=1"], true],
    [["--auth-header-fields-enabled=false"], false],
    [["--auth-header-fields-enabled=0"], false],
    [["--auth-header-fields-enabled", "--log-level=debug"], true],
  ];
  for (const [argv, value] of booleans) {
    it(`reads ${argv.join(" ")} as ${value}`, () => {
      assert.equal(parse(...argv).authHeaderFieldsEnabled, value);
    });
  }

  const bad: Array<[what: string, argv: string[], flag: string]> = [
    ["an unknown flag", ["--no-such-flag"], "--no-such-flag"],
    ["a kube-rbac-proxy flag this service does not have", ["--upstream=http://x"], "--upstream"],
    ["a positional argument", ["extra"], "extra"],
    ["an address without port", ["--grpc-address=0.0.0.0"], "--grpc-address"],
    ["an address with a port above 65535", ["--metrics-address=0.0.0.0:65536"], "--metrics-address"],
    ["an address with a bad port", ["--http-address=host:http"], "--http-address"],
    ["an unbracketed IPv6 address", ["--grpc-address=::1:9000"], "--grpc-address"],
    ["a path prefix without leading slash", ["--http-path-prefix=authz"], "--http-path-prefix"],
    ["a path prefix with a trailing slash", ["--http-path-prefix=/authz/"], "--http-path-prefix"],
    ["a duration without unit", ["--kube-api-timeout=5"], "--kube-api-timeout"],
    ["a negative duration", ["--authentication-token-webhook-cache-ttl=-1s"], "--authentication-token-webhook-cache-ttl"],
    ["a zero cache bound", ["--cache-max-entries=0"], "--cache-max-entries"],
    ["a non-numeric cache bound", ["--cache-max-entries=1e3"], "--cache-max-entries"],
    ["no workers", ["--workers=0"], "--workers"],
    ["more workers than the bound", ["--workers=65"], "--workers"],
    ["a bad boolean", ["--auth-header-fields-enabled=yes"], "--auth-header-fields-enabled"],
    ["an empty header name", ["--auth-header-user-field-name="], "--auth-header-user-field-name"],
    ["an unknown log level", ["--log-level=verbose"], "--log-level"],
    ["a missing value", ["--kubeconfig"], "--kubeconfig"],
  ];
  for (const [what, argv, flag] of bad) {
    it(`throws for ${what}, naming it`, () => {
      assert.throws(
        () => parse(...argv),
        (e: unknown) => {
          assert.ok(e instanceof CommanderError, String(e));
          assert.ok(e.message.includes(flag), e.message);
          assert.notEqual(e.exitCode, 0);
          return true;
        },
      );
    });
  }

  it("lists every flag in --help", () => {
    const help = flagsCommand().helpInformation();
    for (const flag of Object.keys(parse())) {
      const kebab = `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      assert.ok(help.includes(kebab), `${kebab} missing from --help`);
    }
    for (const flag of ["--http-address", "--kubeconfig", "--config-file", "--client-ca-file", "--token-auth-file"]) {
      assert.ok(help.includes(flag), `${flag} missing from --help`);
    }
  });
});
