// The --oidc-* flags: defaults and the one-line errors that stop the start.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { issuerProblem, parseSigningAlgs, resolveOidcOptions } from "../../../src/authn/oidc/options.ts";
import { createCA } from "../../support/pki.ts";

describe("parseSigningAlgs", () => {
  const ok: Array<[string | string[], string[]]> = [
    ["RS256", ["RS256"]],
    ["RS256,ES256", ["RS256", "ES256"]],
    [" RS256 , PS512 ,", ["RS256", "PS512"]],
    ["RS256,RS256", ["RS256"]],
    [
      ["ES384", "RS512"],
      ["ES384", "RS512"],
    ],
  ];
  for (const [value, expected] of ok) it(`accepts ${JSON.stringify(value)}`, () => assert.deepEqual(parseSigningAlgs(value), expected));

  const refused: Array<[string, RegExp]> = [
    ["none", /--oidc-sign-alg: none is not allowed/],
    ["RS256,NONE", /none is not allowed/],
    ["HS256", /HS256 is not allowed/],
    ["RS256,hs512", /hs512 is not allowed/],
    ["EdDSA", /unsupported algorithm "EdDSA"/],
    ["rs256", /unsupported algorithm "rs256"/],
    ["", /no algorithm given/],
    [",", /no algorithm given/],
  ];
  for (const [value, expected] of refused)
    it(`refuses ${JSON.stringify(value)}`, () => assert.throws(() => parseSigningAlgs(value), expected));
});

describe("issuerProblem", () => {
  const cases: Array<[string, string | undefined]> = [
    ["https://idp.example.com", undefined],
    ["https://idp.example.com/realms/x", undefined],
    ["https://127.0.0.1:8443", undefined],
    ["http://idp.example.com", "must be an https URL"],
    ["idp.example.com", "not a URL"],
    ["https://user:pw@idp.example.com", "must not contain a user name or password"],
    ["https://idp.example.com?x=1", "must not contain a query"],
    ["https://idp.example.com/?", "must not contain a query"],
    ["https://idp.example.com#f", "must not contain a fragment"],
  ];
  for (const [issuer, expected] of cases) it(issuer, () => assert.equal(issuerProblem(issuer), expected));
});

describe("resolveOidcOptions", () => {
  let dir: string;
  let caFile: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-oidc-options-"));
    caFile = (await createCA(dir, "ca")).certFile;
    await writeFile(join(dir, "empty.pem"), "nothing here\n");
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("has kube-rbac-proxy's defaults", () => {
    const config = resolveOidcOptions({ issuer: "https://idp.example.com", clientId: "c" });
    assert.deepEqual(
      {
        usernameClaim: config.usernameClaim,
        usernamePrefix: config.usernamePrefix,
        groupsClaim: config.groupsClaim,
        groupsPrefix: config.groupsPrefix,
        signingAlgs: config.signingAlgs,
        caPems: config.caPems,
      },
      { usernameClaim: "email", usernamePrefix: "", groupsClaim: "groups", groupsPrefix: "", signingAlgs: ["RS256"], caPems: undefined },
    );
  });

  it("reads --oidc-ca-file into PEM certificates", () => {
    const config = resolveOidcOptions({ issuer: "https://idp.example.com", clientId: "c", caFile });
    assert.equal(config.caPems?.length, 1);
    assert.match(config.caPems?.[0] ?? "", /^-----BEGIN CERTIFICATE-----/);
  });

  const refused: Array<[string, Parameters<typeof resolveOidcOptions>[0] | (() => Parameters<typeof resolveOidcOptions>[0]), RegExp]> = [
    ["an http issuer", { issuer: "http://idp", clientId: "c" }, /^--oidc-issuer: must be an https URL$/],
    ["no client id", { issuer: "https://idp", clientId: "" }, /^--oidc-client-id: required with --oidc-issuer$/],
    ["an empty username claim", { issuer: "https://idp", clientId: "c", usernameClaim: "" }, /^--oidc-username-claim/],
    [
      "a missing CA file",
      () => ({ issuer: "https://idp", clientId: "c", caFile: join(dir, "missing.pem") }),
      /^--oidc-ca-file: .*missing\.pem/,
    ],
    [
      "a CA file without certificates",
      () => ({ issuer: "https://idp", clientId: "c", caFile: join(dir, "empty.pem") }),
      /^--oidc-ca-file: .*no PEM certificate/,
    ],
    ["alg none", { issuer: "https://idp", clientId: "c", signingAlgs: "none" }, /^--oidc-sign-alg/],
    ["a negative leeway", { issuer: "https://idp", clientId: "c", leewaySeconds: -1 }, /leewaySeconds/],
  ];
  for (const [name, options, expected] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => resolveOidcOptions(typeof options === "function" ? options() : options),
        (e: Error) => expected.test(e.message),
      );
    });
  }
});
