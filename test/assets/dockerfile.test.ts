// The Dockerfile, linted with what runs here (no Docker engine: nothing is built): pinned bases, a
// non-root final stage, ports and entrypoint that agree with deploy/base, a build context that
// holds what the Dockerfile copies, and runtime imports that `npm ci --omit=dev` provides.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { join, posix } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type KubeObject, render } from "./kustomize.ts";

const REPO = fileURLToPath(new URL("../../", import.meta.url));

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions of a Dockerfile: comments dropped, `\` continuations joined. (No heredocs, no parser directives but `# syntax`.) */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  let startLine = 0;
  for (const [i, raw] of text.split("\n").entries()) {
    if (!pending && /^\s*(#|$)/.test(raw)) continue;
    if (pending && /^\s*#/.test(raw)) continue; // comment lines inside a continuation
    if (!pending) startLine = i + 1;
    pending += `${raw.replace(/\\\s*$/, "")} `;
    if (/\\\s*$/.test(raw)) continue;
    const [, keyword, args] = /^\s*(\w+)\s+(.*?)\s*$/.exec(pending) ?? [];
    pending = "";
    assert.ok(keyword, `Dockerfile:${startLine}: an instruction`);
    const instruction = { keyword: keyword.toUpperCase(), args, line: startLine };
    if (instruction.keyword === "FROM") {
      const [, from, name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      assert.ok(stages.length, `Dockerfile:${startLine}: ${instruction.keyword} before FROM`);
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

/** COPY/ADD: flags, sources, destination (exec form or shell form). */
function copyArgs(args: string): { flags: string[]; sources: string[]; dest: string } {
  const words = args.startsWith("[") ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags = words.filter((w) => w.startsWith("--"));
  const paths = words.filter((w) => !w.startsWith("--"));
  return { flags, sources: paths.slice(0, -1), dest: paths.at(-1) as string };
}

/** Docker's .dockerignore: patterns (Go filepath.Match, plus `**`), `!` re-includes, the last match wins, a match on a parent directory counts. */
function dockerignored(patterns: string[], path: string): boolean {
  let ignored = false;
  for (const line of patterns) {
    const negate = line.startsWith("!");
    const pattern = posix.normalize(negate ? line.slice(1).trim() : line).replace(/^\/+|\/+$/g, "");
    const regex = new RegExp(
      `^${pattern
        .split(/(\*\*|\*|\?)/)
        .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
        .join("")}$`,
    );
    const parts = path.split("/");
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
    if (candidates.some((c) => regex.test(c))) ignored = !negate;
  }
  return ignored;
}

/** Where COPY puts repository file `file` from source `src` to `dest`, or "" if it does not copy it. */
function landing(file: string, src: string, dest: string, destIsDir: boolean): string {
  const source = posix.normalize(src).replace(/\/$/, "");
  if (file === source) return destIsDir ? posix.join(dest, posix.basename(file)) : dest;
  // A directory source copies its contents into dest.
  if (source === "." || file.startsWith(`${source}/`)) return posix.join(dest, source === "." ? file : file.slice(source.length + 1));
  return "";
}

const dockerfile = readFileSync(join(REPO, "Dockerfile"), "utf8");
const stages = parseDockerfile(dockerfile);
const final = stages.at(-1) as Stage;
const ignorePatterns = readFileSync(join(REPO, ".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));
const base = render(join(REPO, "deploy/base")).map((r) => r.object);
const deployment = base.find((o) => o.kind === "Deployment") as KubeObject;
const service = base.find((o) => o.kind === "Service") as KubeObject;
const all = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);
const workdir = (stage: Stage) => all(stage, "WORKDIR").at(-1)?.args ?? "/";

describe("Dockerfile", () => {
  test("is multi-stage, and every FROM is pinned to an exact version or a digest", () => {
    assert.ok(stages.length >= 2, "a build stage and a runtime stage");
    const names = new Set(stages.map((s) => s.name).filter(Boolean));
    for (const { from } of stages) {
      if (names.has(from)) continue; // FROM an earlier stage
      assert.doesNotMatch(from, /\$/, `${from}: no ARG in FROM (it could float)`);
      const digest = /@sha256:[0-9a-f]{64}$/.test(from);
      const tag = /^[^@]+:([^/@]+)(@|$)/.exec(from)?.[1];
      assert.ok(tag !== "latest", `${from}: not :latest`);
      assert.ok(digest || /^v?\d+\.\d+\.\d+([-.][\w.-]+)?$/.test(tag ?? ""), `${from}: an exact x.y.z version tag or a @sha256 digest`);
    }
  });

  test("the build stage installs production dependencies from the lockfile", () => {
    const runs = stages.flatMap((s) => all(s, "RUN")).map((r) => r.args);
    assert.ok(
      runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)),
      "npm ci --omit=dev",
    );
    assert.ok(
      stages.some((s) => all(s, "COPY").some((c) => copyArgs(c.args).sources.includes("package-lock.json"))),
      "the lockfile is copied",
    );
  });

  test("no ADD of URLs (or archives): COPY only", () => {
    for (const stage of stages) for (const add of all(stage, "ADD")) assert.fail(`Dockerfile:${add.line}: ADD ${add.args}`);
    assert.doesNotMatch(dockerfile, /\b(curl|wget)\b.*\|\s*(ba)?sh/, "no curl | sh");
  });

  test("the final stage runs as the non-root user the Deployment expects", () => {
    const user = all(final, "USER").at(-1)?.args;
    assert.ok(user, "USER in the final stage");
    const [uid, gid] = user.split(":");
    assert.match(uid, /^\d+$/, "a numeric uid (runAsNonRoot can only verify numbers)");
    assert.notEqual(Number(uid), 0);
    if (gid !== undefined) assert.notEqual(Number(gid), 0);
    assert.equal(Number(uid), deployment.spec.template.spec.securityContext.runAsUser);
    for (const run of all(final, "RUN")) assert.fail(`Dockerfile:${run.line}: RUN in the final stage (distroless has no shell)`);
  });

  test("EXPOSE lists the Deployment's container ports and the Service's ports", () => {
    const exposed = all(final, "EXPOSE")
      .flatMap((e) => e.args.split(/\s+/))
      .map((p) => Number(p.replace(/\/tcp$/, "")))
      .sort();
    const containerPorts = deployment.spec.template.spec.containers[0].ports.map((p: KubeObject) => p.containerPort).sort();
    const servicePorts = service.spec.ports.map((p: KubeObject) => p.port).sort();
    assert.deepEqual(exposed, containerPorts);
    assert.deepEqual(exposed, servicePorts);
  });

  test("the ENTRYPOINT runs distroless' node on src/main.ts, which the final stage copies; the Deployment passes only flags", () => {
    const entrypoint = all(final, "ENTRYPOINT").at(-1)?.args ?? "";
    assert.ok(entrypoint.startsWith("["), "ENTRYPOINT in exec form (no shell in distroless)");
    const [node, script, ...rest] = JSON.parse(entrypoint) as string[];
    assert.deepEqual(rest, []);
    if (final.from.startsWith("gcr.io/distroless/nodejs")) assert.equal(node, "/nodejs/bin/node", "where distroless images keep node");
    assert.equal(script, "src/main.ts");
    assert.ok(existsSync(join(REPO, script)), `${script} exists in the repository`);
    assert.equal(all(final, "CMD").length, 0, "no CMD: the container's args are the flags");
    const dir = workdir(final);
    const target = posix.resolve(dir, script);
    const landed = all(final, "COPY")
      .map((c) => copyArgs(c.args))
      .filter((c) => !c.flags.some((f) => f.startsWith("--from")))
      .flatMap(({ sources, dest }) => sources.map((src) => landing(script, src, posix.resolve(dir, dest), dest.endsWith("/"))));
    assert.ok(landed.includes(target), `a COPY from the context puts ${script} at ${target} (WORKDIR ${dir}): ${landed.join(", ")}`);
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(container.command, undefined, "the Deployment keeps the ENTRYPOINT");
    for (const arg of container.args) assert.match(arg, /^--/, "args are flags for src/main.ts");
  });

  test("the final stage has what the service reads at run time: sources, protos, package.json and node_modules from the build stage", () => {
    const copied = all(final, "COPY").map((c) => copyArgs(c.args));
    const fromContext = copied
      .filter((c) => !c.flags.some((f) => f.startsWith("--from")))
      .flatMap((c) => c.sources.map((s) => s.replace(/\/$/, "")));
    for (const needed of ["src", "proto", "package.json"]) assert.ok(fromContext.includes(needed), `COPY ${needed}`);
    const fromBuild = copied.filter((c) => c.flags.some((f) => f.startsWith("--from=")));
    assert.ok(
      fromBuild.some((c) => c.sources.some((s) => s.endsWith("/node_modules"))),
      "node_modules comes from the build stage",
    );
    assert.equal(JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")).type, "module", "package.json makes src/*.ts ES modules");
  });

  test("every file the Dockerfile copies from the context passes .dockerignore, and secrets and tests stay out", () => {
    const sources = stages
      .flatMap((s) => all(s, "COPY"))
      .map((c) => copyArgs(c.args))
      .filter((c) => !c.flags.some((f) => f.startsWith("--from")))
      .flatMap((c) => c.sources);
    for (const source of sources) {
      const clean = source.replace(/\/$/, "");
      assert.ok(existsSync(join(REPO, clean)), `${clean} exists`);
      assert.equal(dockerignored(ignorePatterns, clean), false, `${clean} is in the build context`);
    }
    assert.equal(dockerignored(ignorePatterns, "src/main.ts"), false);
    assert.equal(dockerignored(ignorePatterns, "proto/envoy/service/auth/v3/external_auth.proto"), false);
    for (const out of [
      ".git/config",
      "node_modules/yaml/package.json",
      "test/support/pki.ts",
      "admin.kubeconfig",
      "deploy/base/deployment.yaml",
      ".env",
    ]) {
      assert.equal(dockerignored(ignorePatterns, out), true, `${out} is not sent to the builder`);
    }
  });

  test("everything src/ imports is a Node.js built-in or a production dependency (what `npm ci --omit=dev` installs)", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const dependencies = new Set(Object.keys(pkg.dependencies ?? {}));
    const builtins = new Set(builtinModules);
    const files = readdirSync(join(REPO, "src"), { recursive: true, withFileTypes: true }).filter(
      (e) => e.isFile() && e.name.endsWith(".ts"),
    );
    assert.ok(files.length > 10, "found the sources");
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(join(file.parentPath, file.name), "utf8");
      for (const [, specifier] of text.matchAll(
        /(?:^|\n)\s*(?:import|export)\s[^"';]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g,
      )) {
        if (!specifier || specifier.startsWith(".")) continue;
        const name = specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0];
        if (specifier.startsWith("node:") || builtins.has(name)) continue;
        if (!dependencies.has(name)) missing.push(`${file.name}: ${specifier}`);
      }
    }
    assert.deepEqual(missing, []);
  });

  test("the .dockerignore matcher can say both yes and no", () => {
    assert.equal(dockerignored(["*", "!src"], "src/a/b.ts"), false);
    assert.equal(dockerignored(["*", "!src"], "test/a.ts"), true);
    assert.equal(dockerignored(["**/*.pem"], "a/b/key.pem"), true);
    assert.equal(dockerignored(["node_modules"], "src/x.ts"), false);
  });
});
