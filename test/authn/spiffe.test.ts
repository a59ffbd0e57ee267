// --trust-spiffe-principal: which principals are a ServiceAccount, table-driven.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isDns1123Label, isDns1123Subdomain, spiffeAuthenticator, trustDomainProblem } from "../../src/authn/spiffe.ts";
import type { Authenticator, AuthnRequest } from "../../src/authn/types.ts";

const sa = (namespace: string, name: string) => ({
  kind: "authenticated",
  credential: "spiffe",
  user: {
    name: `system:serviceaccount:${namespace}:${name}`,
    uid: "",
    groups: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"],
    extra: {},
  },
});
const none = { kind: "none" };
const long = (n: number) => "a".repeat(n);

describe("spiffeAuthenticator", () => {
  const authn = spiffeAuthenticator("cluster.local");
  const cases: Array<[string, string | undefined, object]> = [
    ["an Istio workload identity", "spiffe://cluster.local/ns/monitoring/sa/prometheus", sa("monitoring", "prometheus")],
    ["a dotted ServiceAccount name (DNS-1123 subdomain)", "spiffe://cluster.local/ns/default/sa/my.sa-1", sa("default", "my.sa-1")],
    ["a 63-character namespace", `spiffe://cluster.local/ns/${long(63)}/sa/x`, sa(long(63), "x")],
    [
      "a 253-character ServiceAccount name",
      `spiffe://cluster.local/ns/a/sa/${long(63)}.${long(63)}.${long(63)}.${long(61)}`,
      sa("a", `${long(63)}.${long(63)}.${long(63)}.${long(61)}`),
    ],
    ["no principal", undefined, none],
    ["an empty principal", "", none],
    ["another trust domain", "spiffe://evil.example/ns/monitoring/sa/prometheus", none],
    ["a trust domain that only starts like ours", "spiffe://cluster.local.evil/ns/monitoring/sa/prometheus", none],
    ["a trust domain that only ends like ours", "spiffe://evilcluster.local/ns/monitoring/sa/prometheus", none],
    ["a port after the trust domain", "spiffe://cluster.local:443/ns/monitoring/sa/prometheus", none],
    ["user info before the trust domain", "spiffe://x@cluster.local/ns/monitoring/sa/prometheus", none],
    ["our domain as user info", "spiffe://cluster.local@evil.example/ns/monitoring/sa/prometheus", none],
    ["an upper case scheme", "SPIFFE://cluster.local/ns/monitoring/sa/prometheus", none],
    ["a mixed case scheme", "Spiffe://cluster.local/ns/monitoring/sa/prometheus", none],
    ["an upper case trust domain", "spiffe://CLUSTER.LOCAL/ns/monitoring/sa/prometheus", none],
    ["another scheme", "https://cluster.local/ns/monitoring/sa/prometheus", none],
    ["no scheme", "cluster.local/ns/monitoring/sa/prometheus", none],
    ["a single slash", "spiffe:/cluster.local/ns/monitoring/sa/prometheus", none],
    ["extra path segments", "spiffe://cluster.local/ns/monitoring/sa/prometheus/extra", none],
    ["a trailing slash", "spiffe://cluster.local/ns/monitoring/sa/prometheus/", none],
    ["a leading extra segment", "spiffe://cluster.local/x/ns/monitoring/sa/prometheus", none],
    ["a double slash", "spiffe://cluster.local//ns/monitoring/sa/prometheus", none],
    ["too few segments", "spiffe://cluster.local/ns/monitoring/sa", none],
    ["only the trust domain", "spiffe://cluster.local", none],
    ["keys swapped", "spiffe://cluster.local/sa/prometheus/ns/monitoring", none],
    ["upper case keys", "spiffe://cluster.local/NS/monitoring/SA/prometheus", none],
    ["an empty namespace", "spiffe://cluster.local/ns//sa/prometheus", none],
    ["an empty ServiceAccount", "spiffe://cluster.local/ns/monitoring/sa/", none],
    ["a dot segment as namespace", "spiffe://cluster.local/ns/./sa/prometheus", none],
    ["a dot-dot segment", "spiffe://cluster.local/ns/../sa/prometheus", none],
    ["a percent-encoded slash", "spiffe://cluster.local/ns/monitoring%2Fsa/sa/prometheus", none],
    ["a percent-encoded letter", "spiffe://cluster.local/ns/monitorin%67/sa/prometheus", none],
    ["a query", "spiffe://cluster.local/ns/monitoring/sa/prometheus?x=1", none],
    ["a fragment", "spiffe://cluster.local/ns/monitoring/sa/prometheus#frag", none],
    ["an upper case namespace", "spiffe://cluster.local/ns/Monitoring/sa/prometheus", none],
    ["an upper case ServiceAccount", "spiffe://cluster.local/ns/monitoring/sa/Prometheus", none],
    ["a namespace with a dot (not a DNS-1123 label)", "spiffe://cluster.local/ns/a.b/sa/prometheus", none],
    ["a namespace starting with a dash", "spiffe://cluster.local/ns/-a/sa/prometheus", none],
    ["a namespace ending with a dash", "spiffe://cluster.local/ns/a-/sa/prometheus", none],
    ["a 64-character namespace", `spiffe://cluster.local/ns/${long(64)}/sa/x`, none],
    ["a 254-character ServiceAccount name", `spiffe://cluster.local/ns/a/sa/${long(63)}.${long(63)}.${long(63)}.${long(62)}`, none],
    ["a ServiceAccount with an empty label", "spiffe://cluster.local/ns/a/sa/x..y", none],
    ["a ServiceAccount with a colon", "spiffe://cluster.local/ns/a/sa/x:y", none],
    ["an underscore", "spiffe://cluster.local/ns/my_ns/sa/x", none],
    ["whitespace around", " spiffe://cluster.local/ns/monitoring/sa/prometheus", none],
    ["a trailing newline", "spiffe://cluster.local/ns/monitoring/sa/prometheus\n", none],
    ["a NUL", "spiffe://cluster.local/ns/monitoring/sa/prometheus\u0000", none],
    ["a non-ASCII lookalike", "spiffe://cluster.local/ns/monitoring/sa/prometheu\u0455", none],
    ["a certificate subject instead of a URI", "CN=prometheus,O=system:masters", none],
    ["a principal that is too long", `spiffe://cluster.local/ns/a/sa/${"a.".repeat(1100)}a`, none],
  ];
  for (const [name, principal, expected] of cases) {
    it(name, async () => {
      assert.deepEqual(await authn.authenticate(principal === undefined ? {} : { sourcePrincipal: principal }), expected);
    });
  }

  it("uses its own trust domain, not a default", async () => {
    const other = spiffeAuthenticator("prod.example.org");
    assert.deepEqual(await other.authenticate({ sourcePrincipal: "spiffe://prod.example.org/ns/a/sa/b" }), sa("a", "b"));
    assert.deepEqual(await other.authenticate({ sourcePrincipal: "spiffe://cluster.local/ns/a/sa/b" }), none);
  });

  it("fits where an Authenticator is expected, reading AuthnRequest.sourcePrincipal", async () => {
    const asAuthenticator: Authenticator = authn;
    const request: AuthnRequest = { headers: new Map(), peerCertificate: "", sourcePrincipal: "spiffe://cluster.local/ns/a/sa/b" };
    assert.equal((await asAuthenticator.authenticate(request)).kind, "authenticated");
  });

  const badDomains: Array<[string, RegExp]> = [
    ["", /empty trust domain/],
    ["spiffe://cluster.local", /not a URI: write "cluster.local"/],
    ["spiffe://cluster.local/ns/x", /not a URI: write "cluster.local"/],
    ["Cluster.Local", /lower case/],
    ["cluster.local/", /lower case/],
    ["cluster local", /lower case/],
    ["cluster.local:443", /lower case/],
  ];
  for (const [domain, expected] of badDomains) {
    it(`refuses the trust domain ${JSON.stringify(domain)} at start-up`, () => {
      assert.throws(
        () => spiffeAuthenticator(domain),
        (e: Error) => e.message.startsWith("--trust-spiffe-principal: ") && expected.test(e.message),
      );
    });
  }
});

describe("trustDomainProblem", () => {
  const cases: Array<[string, string | undefined]> = [
    ["cluster.local", undefined],
    ["td_1-a.example", undefined],
    ["spiffe://x.y/", 'a trust domain, not a URI: write "x.y"'],
    ["X", "a trust domain has only lower case letters, digits, '.', '-' and '_'"],
    [long(256), "a trust domain has only lower case letters, digits, '.', '-' and '_'"],
  ];
  for (const [value, expected] of cases) it(JSON.stringify(value.slice(0, 20)), () => assert.equal(trustDomainProblem(value), expected));
});

describe("DNS-1123 names", () => {
  const labels: Array<[string, boolean]> = [
    ["a", true],
    ["kube-system", true],
    ["0abc", true],
    [long(63), true],
    [long(64), false],
    ["", false],
    ["a.b", false],
    ["A", false],
    ["-a", false],
    ["a-", false],
  ];
  for (const [value, expected] of labels)
    it(`label ${JSON.stringify(value.length > 20 ? `${value.length} chars` : value)}`, () => assert.equal(isDns1123Label(value), expected));
  const subdomains: Array<[string, boolean]> = [
    ["a.b-c.d", true],
    ["default", true],
    [".a", false],
    ["a.", false],
    ["a..b", false],
    ["a.-b", false],
    [`${long(63)}.${long(63)}.${long(63)}.${long(61)}`, true],
    [`${long(63)}.${long(63)}.${long(63)}.${long(62)}`, false],
  ];
  for (const [value, expected] of subdomains)
    it(`subdomain ${JSON.stringify(value.length > 20 ? `${value.length} chars` : value)}`, () =>
      assert.equal(isDns1123Subdomain(value), expected));
});
