// `kube-rbac-extauthz check`: explains one decision like `kubectl auth can-i`, but for this
// service's configuration. It takes the service's own flags, builds the same engine, runs one
// Check through it and prints every step and the response Envoy would get. Exit 0: allowed,
// 1: denied.
import { readFileSync } from "node:fs";
import { Option } from "commander";
import { buildApiParts, buildEngine } from "../../app.ts";
import { type Flags, flagsCommand } from "../../config/flags.ts";
import { resolveConfig } from "../../config/index.ts";
import type { Step } from "../../core/engine.ts";
import type { CheckInput, UserInfo } from "../../core/types.ts";
import { createKubeClient, unconfiguredKubeClient } from "../../kube/client.ts";
import { createLogger } from "../../observability/logger.ts";
import { createMetrics } from "../../observability/metrics.ts";
import { toCheckResponse } from "../grpc/check-response.ts";

interface CheckFlags extends Flags {
  method: string;
  path: string;
  host: string;
  profile?: string;
  token?: string;
  cert?: string;
  as?: string;
  asGroup: string[];
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function checkCommand() {
  return flagsCommand()
    .name("kube-rbac-extauthz check")
    .description(
      "Explain one decision with the service's configuration: every step, and the response Envoy would get. Exit 0 allowed, 1 denied.",
    )
    .addOption(new Option("--method <method>", "HTTP method of the request").default("GET"))
    .addOption(new Option("--path <path>", "path (and query) of the request").makeOptionMandatory())
    .addOption(new Option("--host <host>", "host of the request (selects a profile by its hosts)").default(""))
    .addOption(new Option("--profile <name>", 'profile, as Envoy\'s context_extensions["profile"] names it'))
    .addOption(new Option("--token <token>", "authenticate with this bearer token").conflicts(["cert", "as"]))
    .addOption(new Option("--cert <file>", "authenticate with this client certificate (PEM)").conflicts(["as"]))
    .addOption(new Option("--as <user>", "skip authentication and decide for this user"))
    .addOption(new Option("--as-group <group>", "a group of --as (repeatable)").default([]).argParser(collect));
}

/** Runs the explanation; writes to `out`, returns the exit code. */
export async function runCheck(flags: CheckFlags, out: (line: string) => void): Promise<number> {
  if (flags.asGroup.length > 0 && !flags.as) throw new Error("--as-group: needs --as");
  const config = resolveConfig(flags);
  const logger = createLogger("silent");
  const metrics = createMetrics();
  const kube = config.kubeConfig ? await createKubeClient(config.kubeConfig, { timeoutMs: flags.kubeApiTimeout }) : unconfiguredKubeClient;
  const steps: Array<[Step, string]> = [];
  const assertedUser: UserInfo | undefined = flags.as ? { name: flags.as, uid: "", groups: flags.asGroup, extra: {} } : undefined;
  const api = buildApiParts(config, { kube, metrics, logger });
  const engine = buildEngine(config, config.policy, api, logger, {
    trace: (step, detail) => steps.push([step, detail]),
    assertedUser,
  });
  const input = checkInput(flags);
  try {
    // A local mode reading the cluster decides only from a complete copy of its RBAC.
    await api.rbacInformer?.start();
    const result = await engine.check(input);
    out(`request         ${input.method} ${input.target}${input.host ? ` (host ${input.host})` : ""}`);
    out(`profile         ${result.profile ?? (flags.profile ? `${flags.profile} (unknown)` : "default")}`);
    for (const [step, detail] of steps) out(`${step.padEnd(15)} ${detail}`);
    out(`decision        ${result.allowed ? "ALLOWED" : `DENIED ${result.status}`}: ${result.reason || "ok"}`);
    out(`response        ${JSON.stringify(toCheckResponse(result, input.requestId))}`);
    return result.allowed ? 0 : 1;
  } finally {
    api.rbacInformer?.stop();
    await kube.close();
  }
}

function checkInput(flags: CheckFlags): CheckInput {
  const headers = new Map<string, string>();
  if (flags.token) headers.set("authorization", `Bearer ${flags.token}`);
  return {
    method: flags.method.toUpperCase(),
    target: flags.path,
    host: flags.host,
    headers,
    peerCertificate: flags.cert ? encodeURIComponent(readFileSync(flags.cert, "utf8")) : "",
    sourcePrincipal: "",
    contextExtensions: new Map(flags.profile ? [["profile", flags.profile]] : []),
    requestId: "check",
  };
}
