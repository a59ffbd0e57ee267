import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileTemplate, hasAction } from "../../src/core/template.ts";

describe("compileTemplate", () => {
  const rendered: Array<[text: string, value: string, out: string]> = [
    ["{{ .Value }}", "ns1", "ns1"],
    ["{{.Value}}", "ns1", "ns1"],
    ["{{  .Value\t}}", "ns1", "ns1"],
    ["{{- .Value -}}", "ns1", "ns1"],
    ["tenant-{{ .Value }}", "a", "tenant-a"],
    ["{{ .Value }}-suffix", "a", "a-suffix"],
    ["{{ .Value }}/{{ .Value }}", "a", "a/a"],
    ["plain", "ignored", "plain"],
    ["", "ignored", ""],
    ["{{ .Value }}", "$&$1", "$&$1"],
  ];
  for (const [text, value, out] of rendered) {
    it(`renders ${JSON.stringify(text)} with ${JSON.stringify(value)} as ${JSON.stringify(out)}`, () => {
      assert.equal(compileTemplate(text)(value), out);
    });
  }

  const unsupported = ["{{ .Other }}", "{{ printf }}", '{{ printf "%s" .Value }}', "{{ .Value | lower }}", "{{ . }}", "{{}}"];
  for (const text of unsupported) {
    it(`rejects the unsupported action ${JSON.stringify(text)}`, () => {
      assert.throws(() => compileTemplate(text), /unsupported template action/);
    });
  }

  it("rejects an unterminated action", () => {
    assert.throws(() => compileTemplate("ns-{{ .Value"), /unterminated template action/);
    assert.throws(() => compileTemplate("{{ .Value }}-{{"), /unterminated template action/);
  });

  it("rejects an unterminated action even when a complete one follows (Go's text/template does)", () => {
    assert.throws(() => compileTemplate("{{ .Value }x{{ .Value }}"));
  });
});

describe("hasAction", () => {
  it("tells template text from plain text", () => {
    assert.equal(hasAction("{{ .Value }}"), true);
    assert.equal(hasAction("services"), false);
  });
});
