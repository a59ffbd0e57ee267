import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTarget } from "../../src/core/path.ts";

describe("parseTarget", () => {
  const accepted: Array<[target: string, path: string, query: string]> = [
    ["/", "/", ""],
    ["/metrics", "/metrics", ""],
    ["/api/v1/pods/", "/api/v1/pods/", ""],
    ["/metr%69cs", "/metrics", ""],
    ["/caf%C3%A9", "/café", ""],
    ["/a%20b", "/a b", ""],
    ["/a%3Fb", "/a?b", ""],
    ["/metrics?x=1&y=%2F..", "/metrics", "x=1&y=%2F.."],
    ["/metrics?", "/metrics", ""],
    ["/metrics?a=1?b=2", "/metrics", "a=1?b=2"],
    ["/a/..b/c.", "/a/..b/c.", ""],
    ["/.well-known/x", "/.well-known/x", ""],
  ];
  for (const [target, path, query] of accepted) {
    it(`accepts ${JSON.stringify(target)} as path ${JSON.stringify(path)}`, () => {
      assert.deepEqual(parseTarget(target), { ok: true, path, query });
    });
  }

  it("keeps a fragment-looking # in the query raw", () => {
    assert.deepEqual(parseTarget("/m?a=#b"), { ok: true, path: "/m", query: "a=#b" });
  });

  const rejected: Array<[why: string, target: string]> = [
    ["a dot segment", "/a/./b"],
    ["a dot-dot segment", "/a/../b"],
    ["a leading dot-dot", "/.."],
    ["a trailing dot segment", "/a/."],
    ["a trailing dot-dot segment", "/a/.."],
    ["an empty segment", "/a//b"],
    ["a leading //", "//evil.example/metrics"],
    ["a trailing //", "/a//"],
    ["an encoded slash (lower case)", "/a%2fb"],
    ["an encoded slash (upper case)", "/a%2Fb"],
    ["an encoded dot", "/a/%2e%2e/b"],
    ["an encoded upper-case dot", "/a/%2E/b"],
    ["an encoded backslash", "/a%5cb"],
    ["an encoded NUL", "/a%00b"],
    ["a backslash", "/a\\b"],
    ["a backslash dot-dot", "/a\\..\\b"],
    ["a NUL", "/a\0b"],
    ["no leading slash", "metrics"],
    ["an absolute URL", "http://host/metrics"],
    ["an empty target", ""],
    ["only a query", "?a=b"],
    ["a malformed escape %zz", "/a%zz"],
    ["a truncated escape at the end", "/a%4"],
    ["a lone percent", "/a%"],
    ["an invalid UTF-8 byte", "/a%ff"],
    ["an overlong UTF-8 encoding of a dot", "/%c0%ae%c0%ae/b"],
    ["a truncated UTF-8 sequence", "/caf%C3"],
    ["an encoded newline", "/a%0ab"],
    ["an encoded carriage return", "/a%0Db"],
    ["an encoded DEL", "/a%7fb"],
    ["a raw tab", "/a\tb"],
    ["a U+FFFD replacement character", "/a\uFFFDb"],
    ["a fragment", "/metrics#top"],
  ];
  for (const [why, target] of rejected) {
    it(`rejects a path with ${why}`, () => {
      const result = parseTarget(target);
      assert.equal(result.ok, false, `${JSON.stringify(target)} was accepted`);
      if (!result.ok) assert.ok(result.reason.length > 0);
    });
  }

  it("names the problem in the reason", () => {
    assert.deepEqual(parseTarget("/a/../b"), { ok: false, reason: "path holds a dot segment" });
    assert.deepEqual(parseTarget("/a//b"), { ok: false, reason: "path holds an empty segment (//)" });
    assert.deepEqual(parseTarget("/a%0a"), { ok: false, reason: "path holds a control character" });
  });
});
