import assert from "node:assert/strict";
import { createServer } from "node:http";
import { describe, it } from "node:test";
import { joinAddress, listen, splitAddress } from "../src/listen.ts";

describe("listen", () => {
  it("splits host:port, [v6]:port and :port", () => {
    assert.deepEqual(splitAddress("127.0.0.1:9090"), { host: "127.0.0.1", port: 9090 });
    assert.deepEqual(splitAddress("[::1]:9000"), { host: "::1", port: 9000 });
    assert.deepEqual(splitAddress(":8080"), { host: "0.0.0.0", port: 8080 });
  });

  it("joins a host and port back into the flag form", () => {
    assert.equal(joinAddress("127.0.0.1", 9000), "127.0.0.1:9000");
    assert.equal(joinAddress("::1", 9000), "[::1]:9000");
    assert.deepEqual(splitAddress(joinAddress("::1", 9000)), { host: "::1", port: 9000 });
  });

  it("with reusePort, lets a second socket share the port", async () => {
    const first = createServer();
    const port = await listen(first, "127.0.0.1:0", true);
    const second = createServer();
    try {
      assert.equal(await listen(second, `127.0.0.1:${port}`, true), port);
    } finally {
      first.close();
      second.close();
    }
  });

  it("answers the port actually bound, and rejects an address in use", async () => {
    const first = createServer();
    const port = await listen(first, "127.0.0.1:0");
    assert.ok(port > 0);
    const second = createServer();
    try {
      await assert.rejects(listen(second, `127.0.0.1:${port}`), /EADDRINUSE/);
    } finally {
      first.close();
    }
  });
});
