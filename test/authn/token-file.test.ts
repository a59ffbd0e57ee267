import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadTokenFile, tokenFileAuthenticator } from "../../src/authn/token-file.ts";
import { newTokenHasher } from "../../src/authn/token-hash.ts";

const hash = newTokenHasher();

describe("tokenFileAuthenticator", () => {
  const FILE = [
    "# kube-apiserver --token-auth-file",
    "",
    'tok-alice,alice,uid-alice,"dev,ops"',
    "tok-bob,bob,uid-bob",
    '  tok-carol , carol , , " a , ,b " ',
    "tok-dave,dave,uid-dave,single",
    "",
  ].join("\n");

  const cases: Array<[token: string, name: string, uid: string, groups: string[]]> = [
    ["tok-alice", "alice", "uid-alice", ["dev", "ops"]],
    ["tok-bob", "bob", "uid-bob", []],
    ["tok-carol", "carol", "", ["a", "b"]],
    ["tok-dave", "dave", "uid-dave", ["single"]],
  ];
  for (const [token, name, uid, groups] of cases) {
    it(`authenticates ${name} by token with uid and groups`, async () => {
      const authn = tokenFileAuthenticator(FILE, hash);
      assert.deepEqual(await authn.authenticateToken(token), { kind: "authenticated", user: { name, uid, groups, extra: {} } });
    });
  }

  it("answers none for an unknown token, so the next authenticator can try", async () => {
    const authn = tokenFileAuthenticator(FILE, hash);
    assert.deepEqual(await authn.authenticateToken("tok-unknown"), { kind: "none" });
    assert.deepEqual(await authn.authenticateToken("alice"), { kind: "none" });
  });

  it("accepts an empty file", async () => {
    assert.deepEqual(await tokenFileAuthenticator("", hash).authenticateToken("x"), { kind: "none" });
    assert.deepEqual(await tokenFileAuthenticator("# only a comment\n\n", hash).authenticateToken("x"), { kind: "none" });
  });

  it("rejects a duplicate token naming the record and the source", () => {
    assert.throws(() => tokenFileAuthenticator("t1,alice,1\nt1,bob,2\n", hash, "tokens.csv"), {
      message: "tokens.csv: line 2: duplicate token",
    });
  });

  const short: Array<[why: string, text: string, line: number]> = [
    ["only a token", "t1\n", 1],
    ["token and user without uid", "t1,alice,1\nt2,bob\n", 2],
    ["an empty token", ",alice,1\n", 1],
    ["an empty user", "t1,,1\n", 1],
    ["a short record after comments and blank lines", "# tokens\n\nt1,alice,1\n\nt2\n", 5],
  ];
  for (const [why, text, line] of short) {
    it(`rejects a record with ${why}, naming its line`, () => {
      assert.throws(() => tokenFileAuthenticator(text, hash, "tokens.csv"), {
        message: `tokens.csv: line ${line}: want at least token,user,uid`,
      });
    });
  }

  it("rejects malformed CSV naming the source", () => {
    assert.throws(() => tokenFileAuthenticator('t1,alice,1,"unterminated\n', hash, "tokens.csv"), /^Error: tokens\.csv: /);
  });

  it("keeps only the hash of each token: lookups go through the hasher", async () => {
    const hashed: string[] = [];
    // A deliberately weak hasher: every token of the same length has the same key.
    const byLength = (token: string) => {
      hashed.push(token);
      return `len:${token.length}`;
    };
    const authn = tokenFileAuthenticator("abcd,alice,1\n", byLength);
    assert.deepEqual(hashed, ["abcd"]);
    const result = await authn.authenticateToken("wxyz");
    assert.equal(result.kind, "authenticated", "a token with the same hash authenticates: only the hash is compared");
    assert.deepEqual(hashed, ["abcd", "wxyz"]);
    assert.deepEqual(await authn.authenticateToken("abc"), { kind: "none" });
  });

  it("detects duplicates by hash", () => {
    assert.throws(() => tokenFileAuthenticator("t1,alice,1\nt2,bob,2\n", () => "same"), /line 2: duplicate token/);
  });
});

describe("loadTokenFile", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "kre-token-file-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the file and names it in errors", async () => {
    const path = join(dir, "tokens.csv");
    await writeFile(path, 'tok,alice,uid,"g1,g2"\n');
    assert.deepEqual(await loadTokenFile(path, hash).authenticateToken("tok"), {
      kind: "authenticated",
      user: { name: "alice", uid: "uid", groups: ["g1", "g2"], extra: {} },
    });
    const bad = join(dir, "bad.csv");
    await writeFile(bad, "tok\n");
    assert.throws(() => loadTokenFile(bad, hash), { message: `${bad}: line 1: want at least token,user,uid` });
  });

  it("throws for a missing file", () => {
    assert.throws(() => loadTokenFile(join(dir, "missing.csv"), hash), /ENOENT/);
  });
});
