// Requests Envoy (or an attacker who reaches the port) could send that are not a normal HTTP
// check: each gets a deny with a clear reason, never a crash and never an allow.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { checkRequest, deniedStatus, type EnvoyClient, envoyClient } from "../support/envoy-client.ts";
import { type FakeKubeApi, startFakeKubeApi } from "../support/fake-kube-api.ts";
import { type ServiceProcess, startService } from "../support/service-process.ts";

describe("malformed CheckRequests", () => {
  let api: FakeKubeApi;
  let service: ServiceProcess;
  let client: EnvoyClient;

  before(async () => {
    api = await startFakeKubeApi();
    api.tokens.set("good", { user: { username: "u", groups: [] } });
    api.authorize = () => ({ allowed: true });
    service = await startService([`--kubeconfig=${api.kubeconfigPath}`]);
    client = envoyClient(service.grpcPort);
  });
  after(async () => {
    client?.close();
    await service?.stop();
    await api?.close();
  });

  const cases: Array<{ name: string; request: object; status: number }> = [
    { name: "an empty CheckRequest", request: {}, status: 400 },
    {
      name: "a TCP check from Envoy's network filter (no request.http)",
      request: { attributes: { source: { address: { socket_address: { address: "127.0.0.1", port_value: 1 } } } } },
      status: 400,
    },
    {
      name: "an HTTP request with no path",
      request: { attributes: { request: { http: { method: "GET", headers: { authorization: "Bearer good" } } } } },
      status: 400,
    },
    { name: "absent headers", request: { attributes: { request: { http: { method: "GET", path: "/metrics" } } } }, status: 401 },
    {
      name: "a 1 MB header",
      request: checkRequest({ path: "/metrics", headers: { authorization: "Bearer good", "x-big": "a".repeat(1024 * 1024) } }),
      status: 400,
    },
    {
      name: "a 1 MB bearer token",
      request: checkRequest({ path: "/metrics", headers: { authorization: `Bearer ${"a".repeat(1024 * 1024)}` } }),
      status: 400,
    },
    {
      name: "a token that is not a token",
      request: checkRequest({ path: "/metrics", headers: { authorization: "Bearer a b\u0000c" } }),
      status: 401,
    },
    {
      name: "a path with a NUL",
      request: checkRequest({ path: "/metrics\u0000x", headers: { authorization: "Bearer good" } }),
      status: 400,
    },
    {
      name: "a path with invalid UTF-8 escapes",
      request: checkRequest({ path: "/metrics%ff", headers: { authorization: "Bearer good" } }),
      status: 400,
    },
    { name: "a relative path", request: checkRequest({ path: "metrics", headers: { authorization: "Bearer good" } }), status: 400 },
    {
      name: "raw header bytes that are not UTF-8",
      request: {
        attributes: {
          request: {
            http: {
              method: "GET",
              path: "/metrics",
              header_map: { headers: [{ key: "authorization", raw_value: Buffer.from([0x42, 0xff, 0xfe]) }] },
            },
          },
        },
      },
      status: 400,
    },
  ];
  for (const c of cases) {
    it(`denies ${c.status} ${c.name}`, async () => {
      const res = await client.checkRaw(c.request);
      assert.notEqual(res.status?.code ?? 0, 0);
      assert.equal(deniedStatus(res), c.status);
      assert.ok((res.denied_response?.body ?? "").length < 200);
    });
  }

  it("reads raw header bytes that are valid UTF-8 (encode_raw_headers)", async () => {
    const res = await client.checkRaw({
      attributes: {
        request: {
          http: {
            method: "GET",
            path: "/metrics",
            header_map: { headers: [{ key: "authorization", raw_value: Buffer.from("Bearer good") }] },
          },
        },
      },
    });
    assert.equal(res.status?.code, 0);
  });

  it("keeps serving after all of them", async () => {
    const res = await client.check({ path: "/metrics", headers: { authorization: "Bearer good" } });
    assert.equal(res.status?.code, 0);
  });
});
