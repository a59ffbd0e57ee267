import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { unreadableInput } from "../../src/core/input.ts";
import type { CheckInput } from "../../src/core/types.ts";
import { audienceOf, egressEngine } from "../../src/egress/engine.ts";
import { KubeApiError, type ServiceAccountTokenRequester } from "../../src/kube/types.ts";

const input = (host: string, extensions: Record<string, string> = {}): CheckInput => ({
  method: "GET",
  target: "/api/v1/query",
  host,
  headers: new Map(),
  peerCertificate: "",
  sourcePrincipal: "",
  contextExtensions: new Map(Object.entries(extensions)),
  requestId: "r",
});

/** A TokenRequest API counting calls; tokens live `lifeMs` from the wall clock `now()`. */
function fakeApi(now: () => number, lifeMs = 600_000) {
  const calls: string[][] = [];
  const api: ServiceAccountTokenRequester = {
    async requestToken(_ns, _sa, audiences) {
      calls.push([...audiences]);
      return { token: `t${calls.length}.${audiences[0]}`, expiresAt: now() + lifeMs };
    },
  };
  return { api, calls };
}

describe("egress engine", () => {
  const options = { namespace: "monitoring", serviceAccount: "prometheus", expirationSeconds: 600, maxEntries: 10 };

  it("allows with a bearer token for the destination host's audience", async () => {
    const wall = 1_000_000;
    const { api, calls } = fakeApi(() => wall);
    const engine = egressEngine(api, { ...options, now: () => wall, clock: { now: () => wall } });
    const result = await engine.check(input("thanos.monitoring.svc:10902"));
    assert.ok(result.allowed);
    assert.deepEqual(result.headersToSet, [["authorization", "Bearer t1.thanos.monitoring.svc"]]);
    assert.deepEqual(calls, [["thanos.monitoring.svc"]]);
  });

  it("takes the audience from context_extensions first", () => {
    assert.equal(audienceOf(input("a.example:80", { audience: "https://b.example" })), "https://b.example");
    assert.equal(audienceOf(input("A.Example:80")), "a.example");
  });

  it("keeps a token for 80% of its life, then asks for a new one", async () => {
    let wall = 5_000_000;
    const { api, calls } = fakeApi(() => wall, 1_000_000);
    const engine = egressEngine(api, { ...options, now: () => wall, clock: { now: () => wall } });
    await engine.check(input("svc"));
    wall += 790_000;
    await engine.check(input("svc"));
    assert.equal(calls.length, 1, "still within 80% of its life");
    wall += 20_000;
    const renewed = await engine.check(input("svc"));
    assert.equal(calls.length, 2);
    assert.ok(renewed.allowed);
    assert.deepEqual(renewed.headersToSet, [["authorization", "Bearer t2.svc"]]);
  });

  it("keeps one token per audience", async () => {
    const wall = 1;
    const { api, calls } = fakeApi(() => wall);
    const engine = egressEngine(api, { ...options, now: () => wall, clock: { now: () => wall } });
    await engine.check(input("a"));
    await engine.check(input("b"));
    await engine.check(input("a"));
    assert.deepEqual(calls, [["a"], ["b"]]);
  });

  it("merges concurrent requests for one audience into one TokenRequest", async () => {
    let calls = 0;
    let finish: () => void = () => {};
    const gate = new Promise<void>((r) => {
      finish = r;
    });
    const api: ServiceAccountTokenRequester = {
      async requestToken() {
        calls++;
        await gate;
        return { token: "shared", expiresAt: Date.now() + 600_000 };
      },
    };
    const engine = egressEngine(api, options);
    const pending = Array.from({ length: 20 }, () => engine.check(input("svc")));
    finish();
    const results = await Promise.all(pending);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.allowed));
  });

  it("fails closed with 503 when no token can be issued, and does not keep the failure", async () => {
    let fail = true;
    const api: ServiceAccountTokenRequester = {
      async requestToken() {
        if (fail) throw new KubeApiError("403", "Kubernetes API answered 403");
        return { token: "ok", expiresAt: Date.now() + 600_000 };
      },
    };
    const engine = egressEngine(api, options);
    const denied = await engine.check(input("svc"));
    assert.equal(denied.allowed, false);
    assert.equal(denied.status, 503);
    fail = false;
    assert.equal((await engine.check(input("svc"))).allowed, true);
  });

  it("refuses a request without a usable audience, and an unreadable request", async () => {
    const { api, calls } = fakeApi(() => 1);
    const engine = egressEngine(api, options);
    assert.equal((await engine.check(input(""))).status, 400);
    assert.equal((await engine.check(input("x", { audience: "two words" }))).status, 400);
    assert.equal((await engine.check(unreadableInput("no http"))).status, 400);
    assert.equal(calls.length, 0);
  });
});
