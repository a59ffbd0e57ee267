// Durations written the Go / Kubernetes way (`500ms`, `30s`, `2m`, `1h30m`), as every flag that
// users carry over from kube-rbac-proxy writes them.
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds of a Go duration; throws on anything time.ParseDuration would reject, or a negative. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  if (text === "" || text.startsWith("-") || text.startsWith("+")) throw new Error(`invalid duration ${JSON.stringify(text)}`);
  let ms = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) throw new Error(`invalid duration ${JSON.stringify(text)}`);
    ms += Number(m[1]) * UNIT_MS[m[2]];
  }
  return ms;
}
