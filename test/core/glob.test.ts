import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileGlobs, globToRegExp } from "../../src/core/glob.ts";

// Expected results are those of Go's path.Match (kube-rbac-proxy's --allow-paths / --ignore-paths).
const cases: Array<[pattern: string, path: string, matches: boolean]> = [
  ["/metrics", "/metrics", true],
  ["/metrics", "/metrics/", false],
  ["/metrics", "/metricsx", false],
  ["", "", true],
  ["", "/", false],
  // * is any run of non-/ characters
  ["/api/*", "/api/v1", true],
  ["/api/*", "/api/", true],
  ["/api/*", "/api/v1/pods", false],
  ["/api/*/pods", "/api/v1/pods", true],
  ["/api/*/pods", "/api/v1/x/pods", false],
  ["/ready*", "/readyz", true],
  ["/ready*", "/ready", true],
  ["/ready*", "/ready/x", false],
  ["*", "/", false],
  ["/*/*", "/a/b", true],
  ["/a*b*c", "/aXbYc", true],
  ["/a*b*c", "/aXbY/c", false],
  // ? is one non-/ character
  ["/v?", "/v1", true],
  ["/v?", "/v", false],
  ["/v?", "/v12", false],
  ["/a?b", "/a/b", false],
  // classes
  ["/[abc]", "/b", true],
  ["/[abc]", "/d", false],
  ["/[a-z]x", "/qx", true],
  ["/[a-z]x", "/Qx", false],
  ["/[^a]", "/b", true],
  ["/[^a]", "/a", false],
  ["/[^a-c]", "/d", true],
  ["/[^a-c]", "/b", false],
  ["/[a-cx-z]", "/y", true],
  ["/[a-cx-z]", "/m", false],
  ["/[\\]]", "/]", true],
  ["/[\\-]", "/-", true],
  ["/[[]", "/[", true],
  ["/[.]", "/x", false],
  // unlike * and ?, a class can match / (as in Go)
  ["/a[/]b", "/a/b", true],
  ["/a[^x]b", "/a/b", true],
  // escapes
  ["/a\\*b", "/a*b", true],
  ["/a\\*b", "/axb", false],
  ["/a\\?", "/a?", true],
  ["/a\\[b", "/a[b", true],
  ["/\\a", "/a", true],
  ["/a\\\\b", "/a\\b", true],
  // characters special to regular expressions are literal
  ["/a.b", "/a.b", true],
  ["/a.b", "/axb", false],
  ["/(a|b)+$", "/(a|b)+$", true],
  ["/(a|b)+$", "/a", false],
  ["/{a}", "/{a}", true],
  // unicode: ? and classes work on characters, not bytes or UTF-16 units
  ["/caf?", "/café", true],
  ["/?", "/😀", true],
  ["/??", "/😀", false],
  ["/[é]", "/é", true],
  ["/[α-ω]", "/λ", true],
  ["/[^é]", "/é", false],
  ["/[😀]", "/😀", true],
  ["/[😀-😂]", "/😁", true],
  ["/[😀-😂]", "/😃", false],
];

describe("globToRegExp (Go path.Match semantics)", () => {
  for (const [pattern, path, matches] of cases) {
    it(`${JSON.stringify(pattern)} ${matches ? "matches" : "does not match"} ${JSON.stringify(path)}`, () => {
      assert.equal(globToRegExp(pattern).test(path), matches);
    });
  }

  const bad = ["[", "/[", "[]", "[^]", "[-a]", "[a-]", "[a", "[a-b", "a\\", "/x[\\", "[z-a]", "/ok/[]"];
  for (const pattern of bad) {
    it(`rejects the malformed pattern ${JSON.stringify(pattern)} naming it`, () => {
      assert.throws(() => globToRegExp(pattern), { message: `syntax error in pattern ${JSON.stringify(pattern)}` });
    });
  }
});

describe("compileGlobs", () => {
  it("matches a path that any of the patterns matches", () => {
    const match = compileGlobs(["/metrics", "/api/*"]);
    assert.equal(match("/metrics"), true);
    assert.equal(match("/api/v1"), true);
    assert.equal(match("/healthz"), false);
  });

  it("matches nothing with no patterns", () => {
    assert.equal(compileGlobs([])("/"), false);
  });

  it("throws at compile time when one pattern is malformed", () => {
    assert.throws(() => compileGlobs(["/ok", "/bad["]), /syntax error in pattern "\/bad\["/);
  });
});
