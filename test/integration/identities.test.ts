// The other ways in, through the running service: OIDC ID tokens from a local issuer, and the mesh
// identity Envoy passes as source.principal.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkRequest, deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type OidcIssuer, startOidcIssuer } from "../support/oidc-issuer.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

describe("OIDC and SPIFFE identities", () => {
  let api: FakeKubeApi;
  let issuer: OidcIssuer;
  let service: ServiceProcess;
  let client: EnvoyClient;
  const withPrincipal = (principal: string, headers: Record<string, string> = {}) => {
    const request = checkRequest({ path: "/metrics", headers }) as { attributes: { source: Record<string, unknown> } };
    request.attributes.source.principal = principal;
    return client.checkRaw(request);
  };

  before(async () => {
    issuer = await startOidcIssuer();
    api = await startFakeKubeApi();
    api.tokens.set("sa-token", { user: { username: "system:serviceaccount:default:reviewed", groups: ["system:authenticated"] } });
    api.authorize = (spec) => ({
      allowed:
        spec.user === "oidc:alice@example.com" ||
        spec.user === "system:serviceaccount:monitoring:prometheus" ||
        spec.user === "system:serviceaccount:default:reviewed",
    });
    service = await startService([
      `--kubeconfig=${api.kubeconfigPath}`,
      `--oidc-issuer=${issuer.url}`,
      `--oidc-client-id=${issuer.clientId}`,
      `--oidc-ca-file=${issuer.caFile}`,
      "--oidc-username-prefix=oidc:",
      "--oidc-groups-prefix=oidc:",
      "--trust-spiffe-principal=cluster.local",
    ]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
    await issuer?.close();
  });

  it("authenticates an OIDC ID token locally (no TokenReview) and asks RBAC about its prefixed user and groups", async () => {
    const reviews = api.calls.tokenreviews;
    const token = await issuer.sign({ email: "alice@example.com", groups: ["admins"] });
    const res = await client.check({ path: "/metrics", headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status?.code, 0);
    assert.equal(api.calls.tokenreviews, reviews);
    const sar = api.sars.at(-1);
    assert.equal(sar?.user, "oidc:alice@example.com");
    assert.deepEqual(sar?.groups, ["oidc:admins", "system:authenticated"]);
  });

  it("denies 401 an expired OIDC token, and one for another audience, without a TokenReview", async () => {
    const reviews = api.calls.tokenreviews;
    const now = Math.floor(Date.now() / 1000);
    const expired = await issuer.sign({ iat: now - 7200, exp: now - 3600 });
    const otherAudience = await issuer.sign({ aud: "someone-else" });
    assert.equal(deniedStatus(await client.check({ path: "/metrics", headers: { authorization: `Bearer ${expired}` } })), 401);
    assert.equal(deniedStatus(await client.check({ path: "/metrics", headers: { authorization: `Bearer ${otherAudience}` } })), 401);
    assert.equal(api.calls.tokenreviews, reviews);
  });

  it("still sends a token that is not from the issuer to TokenReview", async () => {
    assert.equal((await client.check({ path: "/metrics", headers: { authorization: "Bearer sa-token" } })).status?.code, 0);
  });

  it("authenticates a SPIFFE principal of the trust domain as its ServiceAccount, with no token", async () => {
    const res = await withPrincipal("spiffe://cluster.local/ns/monitoring/sa/prometheus");
    assert.equal(res.status?.code, 0);
    const sar = api.sars.at(-1);
    assert.equal(sar?.user, "system:serviceaccount:monitoring:prometheus");
    assert.deepEqual(sar?.groups, ["system:serviceaccounts", "system:serviceaccounts:monitoring", "system:authenticated"]);
  });

  it("does not take a principal of another trust domain, or of another shape, as an identity", async () => {
    assert.equal(deniedStatus(await withPrincipal("spiffe://evil.example/ns/monitoring/sa/prometheus")), 401);
    assert.equal(deniedStatus(await withPrincipal("spiffe://cluster.local/ns/monitoring/sa/prometheus/extra")), 401);
    assert.equal(
      (await withPrincipal("spiffe://evil.example/ns/x/sa/y", { authorization: "Bearer sa-token" })).status?.code,
      0,
      "falls through to the token",
    );
  });
});
