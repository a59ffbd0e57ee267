// kube-rbac-proxy fills resource attributes from a Go text/template with one variable, `.Value`.
// Only that form is understood here; any other template action is a configuration error rather
// than something silently rendered differently from Go.

/** A compiled template: literal text with `{{ .Value }}` holes. */
export type Template = (value: string) => string;

const ACTION = /\{\{-?\s*([^}]*?)\s*-?\}\}/g;

/** Compiles `text`; throws naming the action when it is anything but `.Value`. */
export function compileTemplate(text: string): Template {
  const literals: string[] = [];
  let last = 0;
  const literal = (s: string) => {
    if (s.includes("{{")) throw new Error(`unterminated template action in ${JSON.stringify(text)}`);
    literals.push(s);
  };
  for (const match of text.matchAll(ACTION)) {
    if (match[1] !== ".Value") throw new Error(`unsupported template action ${JSON.stringify(match[0])}: only {{ .Value }} is supported`);
    literal(text.slice(last, match.index));
    last = match.index + match[0].length;
  }
  literal(text.slice(last));
  if (literals.length === 1) return () => text;
  return (value) => literals.join(value);
}

export function hasAction(text: string): boolean {
  return text.includes("{{");
}
