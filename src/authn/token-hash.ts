import { hash, randomBytes } from "node:crypto";

/** Maps a token to a key that identifies it without revealing it. */
export type TokenHasher = (token: string) => string;

/**
 * SHA-256 of a secret drawn at start-up followed by the token. Like k8s.io/apiserver's HMAC, the
 * secret makes a key useless for brute-forcing a low-entropy static token out of a memory dump,
 * and SHA-256's collision resistance keeps two tokens from sharing a key. (Length extension lets
 * one compute the key of `token + padding + more` without the secret, but that only names an entry
 * nobody authenticated with.) One native call per Check instead of an Hmac object: measured on the
 * hot path, createHmac with an imported key cost about twice as much.
 */
export function newTokenHasher(secret: Buffer = randomBytes(32)): TokenHasher {
  const prefix = secret.toString("base64url");
  return (token) => hash("sha256", prefix + token, "base64url");
}
