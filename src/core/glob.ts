// Path globs with the semantics of Go's path.Match, which kube-rbac-proxy uses for --allow-paths
// and --ignore-paths: `*` matches any run of characters except `/`, `?` one such character,
// `[...]` a class (`^` negates, `a-z` is a range), `\` escapes. Keeping Go's semantics exactly
// means a user's existing patterns keep matching what they matched before.

export type PathMatcher = (path: string) => boolean;

/** Compiles patterns once; throws on a malformed one (Go's ErrBadPattern) naming it. */
export function compileGlobs(patterns: readonly string[]): PathMatcher {
  const regexes = patterns.map(globToRegExp);
  return (path) => regexes.some((r) => r.test(path));
}

export function globToRegExp(text: string): RegExp {
  // Go reads patterns rune by rune; indexing code points (not UTF-16 units) does the same.
  const pattern = Array.from(text);
  let out = "^";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*") {
      out += "[^/]*";
    } else if (c === "?") {
      out += "[^/]";
    } else if (c === "\\") {
      i++;
      if (i >= pattern.length) throw badPattern(text);
      out += escapeRegExp(pattern[i]);
    } else if (c === "[") {
      const cls = readClass(pattern, i);
      out += cls.regex;
      i = cls.end;
    } else {
      out += escapeRegExp(c);
    }
  }
  return new RegExp(`${out}$`, "u");
}

// Reads a class starting at pattern[start] === "[" the way Go's matchChunk does; returns the
// regular expression for it and the index of its closing "]".
function readClass(pattern: readonly string[], start: number): { regex: string; end: number } {
  const bad = () => badPattern(pattern.join(""));
  let i = start + 1;
  let negate = false;
  if (pattern[i] === "^") {
    negate = true;
    i++;
  }
  // Go's getEsc: a class character may not be "-" or "]" unescaped, nor end the pattern.
  const readChar = (): string => {
    let c = pattern[i];
    if (c === undefined || c === "-" || c === "]") throw bad();
    if (c === "\\") {
      i++;
      c = pattern[i];
      if (c === undefined) throw bad();
    }
    i++;
    if (i >= pattern.length) throw bad();
    return c;
  };
  const parts: string[] = [];
  while (!(pattern[i] === "]" && parts.length > 0)) {
    const lo = readChar();
    let part = escapeClass(lo);
    if (pattern[i] === "-") {
      i++;
      const hi = readChar();
      if ((hi.codePointAt(0) ?? 0) < (lo.codePointAt(0) ?? 0)) throw bad();
      part += `-${escapeClass(hi)}`;
    }
    parts.push(part);
  }
  return { regex: `[${negate ? "^" : ""}${parts.join("")}]`, end: i };
}

function escapeRegExp(c: string): string {
  return c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function escapeClass(c: string): string {
  return c.replace(/[\]\\^-]/g, "\\$&");
}

function badPattern(pattern: string): Error {
  return new Error(`syntax error in pattern ${JSON.stringify(pattern)}`);
}
