import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseDuration } from "../../src/config/duration.ts";

describe("parseDuration (Go time.ParseDuration forms)", () => {
  const valid: Array<[text: string, ms: number]> = [
    ["0", 0],
    ["0s", 0],
    ["500ms", 500],
    ["30s", 30_000],
    ["2m", 120_000],
    ["5m", 300_000],
    ["1h", 3_600_000],
    ["1h30m", 5_400_000],
    ["1h0m30s", 3_630_000],
    ["1m30s500ms", 90_500],
    ["1.5s", 1500],
    [".5s", 500],
    ["1.s", 1000],
    ["0.25m", 15_000],
    ["1000000ns", 1],
    ["2000us", 2],
    ["2000µs", 2],
    ["2000μs", 2],
    ["1s1s", 2000],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${JSON.stringify(text)} as ${ms} ms`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  // Go computes in whole nanoseconds, so these are exact whole milliseconds there.
  const exact: Array<[text: string, ms: number]> = [
    ["1.001s", 1001],
    ["2.3h", 8_280_000],
    ["4.35s", 4350],
  ];
  for (const [text, ms] of exact) {
    it(`reads the fractional ${JSON.stringify(text)} as exactly ${ms} ms, as Go does`, () => {
      assert.equal(parseDuration(text), ms);
    });
  }

  const invalid = [
    "",
    "5",
    "-1s",
    "-0s",
    "5 s",
    " 5s",
    "5s ",
    "1d",
    "1w",
    "s",
    "ms",
    ".s",
    "1..5s",
    "1.5.5s",
    "5S",
    "5sec",
    "1h-30m",
    "0x10s",
    "1e3s",
    "abc",
  ];
  for (const text of invalid) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseDuration(text), { message: `invalid duration ${JSON.stringify(text)}` });
    });
  }
});
