// Static tokens in kube-apiserver's --token-auth-file format: `token,user,uid,"group1,group2"`.
// Only a keyed hash of each token is kept in memory, so a heap dump does not leak them.
import { readFileSync } from "node:fs";
import { parse } from "csv-parse/sync";
import type { UserInfo } from "../core/types.ts";
import type { TokenHasher } from "./token-hash.ts";
import type { TokenAuthenticator, TokenResult } from "./types.ts";

export function loadTokenFile(path: string, hash: TokenHasher): TokenAuthenticator {
  return tokenFileAuthenticator(readFileSync(path, "utf8"), hash, path);
}

/** Parses the CSV text; throws an error naming the line of any malformed record. */
export function tokenFileAuthenticator(text: string, hash: TokenHasher, source = "token file"): TokenAuthenticator {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, {
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      comment: "#",
      info: true,
    }) as unknown as typeof records;
  } catch (e) {
    throw new Error(`${source}: ${(e as Error).message}`);
  }
  const users = new Map<string, UserInfo>();
  for (const { record, info } of records) {
    const [token, name, uid, groups] = record;
    if (record.length < 3 || !token || !name) {
      throw new Error(`${source}: line ${info.lines}: want at least token,user,uid`);
    }
    const key = hash(token);
    if (users.has(key)) throw new Error(`${source}: line ${info.lines}: duplicate token`);
    users.set(key, {
      name,
      uid: uid ?? "",
      groups: groups
        ? groups
            .split(",")
            .map((g) => g.trim())
            .filter((g) => g !== "")
        : [],
      extra: {},
    });
  }
  return {
    async authenticateToken(token: string): Promise<TokenResult> {
      const user = users.get(hash(token));
      return user ? { kind: "authenticated", user } : { kind: "none" };
    },
  };
}
