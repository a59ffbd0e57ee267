// Step 1 of a Check: split the request target and refuse any path that is not canonical.
// A path that two parties could read differently (this service and the upstream) is the classic
// way around path-based authorization, so anything ambiguous is rejected instead of normalised.

export type ParsedTarget = { ok: true; path: string; query: string } | { ok: false; reason: string };

// Percent-encodings whose decoding would change how the path splits into segments.
const FORBIDDEN_ENCODED = /%(2f|2e|5c|00)/i;
const MALFORMED_ESCAPE = /%(?![0-9a-f]{2})/i;
// The common case, answered without decoding: segments of unreserved characters, none starting
// with a dot (so none is "." or ".."), no empty segment but an optional trailing slash.
const PLAIN = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)*\/?$/;

/**
 * Splits `target` at the first `?` and validates the path. The returned path is percent-decoded
 * (the form the upstream serves and RBAC's nonResourceURLs name); the query stays raw.
 */
export function parseTarget(target: string): ParsedTarget {
  const q = target.indexOf("?");
  const rawPath = q === -1 ? target : target.slice(0, q);
  const query = q === -1 ? "" : target.slice(q + 1);
  if (rawPath !== "" && PLAIN.test(rawPath)) return { ok: true, path: rawPath, query };
  const fragment = rawPath.indexOf("#");
  if (fragment !== -1) return bad("path holds a fragment");
  if (!rawPath.startsWith("/")) return bad("path does not start with /");
  if (rawPath.includes("\\")) return bad("path holds a backslash");
  if (rawPath.includes("\0")) return bad("path holds a NUL");
  if (rawPath.includes("\uFFFD")) return bad("path is not valid UTF-8");
  if (FORBIDDEN_ENCODED.test(rawPath)) return bad("path holds a percent-encoded /, ., \\ or NUL");
  if (MALFORMED_ESCAPE.test(rawPath)) return bad("path holds a malformed percent-escape");
  let path: string;
  try {
    path = decodeURIComponent(rawPath);
  } catch {
    return bad("path is not valid percent-encoded UTF-8");
  }
  for (let i = 0; i < path.length; i++) {
    if (path.charCodeAt(i) < 0x20 || path.charCodeAt(i) === 0x7f) return bad("path holds a control character");
  }
  const segments = path.split("/");
  // segments[0] is the empty string before the leading slash; the last one may be empty
  // (a trailing slash is a distinct, canonical path).
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i];
    if (s === "." || s === "..") return bad("path holds a dot segment");
    if (s === "" && i < segments.length - 1) return bad("path holds an empty segment (//)");
  }
  return { ok: true, path, query };
}

function bad(reason: string): ParsedTarget {
  return { ok: false, reason };
}
