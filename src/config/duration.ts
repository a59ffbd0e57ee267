// Durations written the Go / Kubernetes way (`500ms`, `30s`, `2m`, `1h30m`), as every flag that
// users carry over from kube-rbac-proxy writes them.

// Nanoseconds per unit; counting in whole nanoseconds, as Go does, keeps `1.001s` exactly 1001 ms.
const UNIT_NS: Readonly<Record<string, bigint>> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const PART = /(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/y;

/** Milliseconds of a Go duration; throws on anything time.ParseDuration would reject, or a negative. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const invalid = () => new Error(`invalid duration ${JSON.stringify(text)}`);
  if (text === "" || text.startsWith("-") || text.startsWith("+")) throw invalid();
  let ns = 0n;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const m = PART.exec(text);
    if (!m || m.index !== start) throw invalid();
    const [, whole, fraction = "", unit] = m;
    if (whole === "" && fraction === "") throw invalid();
    const scale = UNIT_NS[unit];
    ns += BigInt(whole || "0") * scale;
    // Go drops fraction digits below one nanosecond; so does the integer division here.
    if (fraction !== "") ns += (BigInt(fraction) * scale) / 10n ** BigInt(fraction.length);
  }
  return Number(ns) / 1e6;
}
