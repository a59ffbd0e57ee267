// Reading the issuer before verification, and kube-apiserver's claim rules, table-driven.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type ClaimMapping, unverifiedIssuer, userFromClaims } from "../../../src/authn/oidc/claims.ts";

const part = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const jws = (payload: unknown) => `${part({ alg: "RS256" })}.${part(payload)}.c2ln`;

describe("unverifiedIssuer", () => {
  const cases: Array<[string, string, string | undefined]> = [
    ["a JWS with iss", jws({ iss: "https://idp" }), "https://idp"],
    ["a JWS without iss", jws({ sub: "x" }), undefined],
    ["iss not a string", jws({ iss: ["https://idp"] }), undefined],
    ["payload not JSON", `${part({})}.${part("nope")}.c2ln`, undefined],
    ["payload JSON but not an object", jws("null"), undefined],
    ["payload not base64url", `${part({})}.a+b/.c2ln`, undefined],
    ["two parts", `${part({})}.${part({ iss: "https://idp" })}`, undefined],
    ["five parts (JWE)", `a.${part({ iss: "https://idp" })}.c.d.e`, undefined],
    ["an opaque token", "0123456789abcdef", undefined],
    ["empty", "", undefined],
  ];
  for (const [name, token, expected] of cases) {
    it(name, () => assert.equal(unverifiedIssuer(token), expected));
  }
});

describe("userFromClaims", () => {
  const mapping: ClaimMapping = { usernameClaim: "email", usernamePrefix: "", groupsClaim: "groups", groupsPrefix: "" };
  const user = (name: string, groups: string[]) => ({ name, uid: "", groups: [...groups, "system:authenticated"], extra: {} });
  const cases: Array<[string, Record<string, unknown>, Partial<ClaimMapping>, ReturnType<typeof user> | string]> = [
    ["email, verified", { email: "a@x", email_verified: true }, {}, user("a@x", [])],
    ["email, email_verified absent", { email: "a@x" }, {}, user("a@x", [])],
    ["email, not verified", { email: "a@x", email_verified: false }, {}, "email not verified"],
    ["email, email_verified null", { email: "a@x", email_verified: null }, {}, "email not verified"],
    ["email, email_verified the string true", { email: "a@x", email_verified: "true" }, {}, "email not verified"],
    ["sub claim ignores email_verified", { sub: "u1", email_verified: false }, { usernameClaim: "sub" }, user("u1", [])],
    ["username prefix", { sub: "u1" }, { usernameClaim: "sub", usernamePrefix: "oidc:" }, user("oidc:u1", [])],
    ["username missing", { sub: "u1" }, {}, 'username claim "email" missing or not a non-empty string'],
    ["username empty", { email: "" }, {}, 'username claim "email" missing or not a non-empty string'],
    ["username a number", { email: 7 }, {}, 'username claim "email" missing or not a non-empty string'],
    ["groups array", { email: "a@x", groups: ["a", "b"] }, {}, user("a@x", ["a", "b"])],
    ["groups string", { email: "a@x", groups: "a" }, {}, user("a@x", ["a"])],
    ["groups null", { email: "a@x", groups: null }, {}, user("a@x", [])],
    [
      "groups with prefix",
      { email: "a@x", groups: ["a", "system:masters"] },
      { groupsPrefix: "oidc:" },
      user("a@x", ["oidc:a", "oidc:system:masters"]),
    ],
    ["groups claim disabled", { email: "a@x", groups: ["a"] }, { groupsClaim: "" }, user("a@x", [])],
    ["another groups claim", { email: "a@x", roles: ["r"], groups: ["a"] }, { groupsClaim: "roles" }, user("a@x", ["r"])],
    ["groups a number", { email: "a@x", groups: 3 }, {}, 'groups claim "groups" is not a string or an array of strings'],
    ["groups mixed", { email: "a@x", groups: ["a", 3] }, {}, 'groups claim "groups" is not a string or an array of strings'],
    ["groups an object", { email: "a@x", groups: { a: 1 } }, {}, 'groups claim "groups" is not a string or an array of strings'],
    [
      "system:authenticated not doubled",
      { email: "a@x", groups: ["system:authenticated"] },
      {},
      { name: "a@x", uid: "", groups: ["system:authenticated"], extra: {} },
    ],
  ];
  for (const [name, claims, overrides, expected] of cases) {
    it(name, () => assert.deepEqual(userFromClaims(claims, { ...mapping, ...overrides }), expected));
  }
});
