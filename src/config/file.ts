// The --config-file: YAML whose `authorization:` section has kube-rbac-proxy's format, so users'
// existing files work unchanged. Validated with zod; unknown keys are errors (a typo in a security
// configuration must not silently mean "no restriction").
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import type { StaticRule } from "../authz/static.ts";
import type { ResourceAttributesConfig, RewritesConfig } from "../core/attributes.ts";

const nameRef = z.strictObject({ name: z.string().min(1) });

const authorizationSchema = z.strictObject({
  resourceAttributes: z
    .strictObject({
      namespace: z.string().optional(),
      apiGroup: z.string().optional(),
      apiVersion: z.string().optional(),
      resource: z.string().optional(),
      subresource: z.string().optional(),
      name: z.string().optional(),
    })
    .optional(),
  rewrites: z
    .strictObject({
      byQueryParameter: nameRef.optional(),
      byHttpHeader: nameRef.optional(),
    })
    .optional(),
  static: z
    .array(
      z
        .strictObject({
          user: z.strictObject({ name: z.string().optional(), groups: z.array(z.string()).optional() }).optional(),
          verb: z.string().optional(),
          namespace: z.string().optional(),
          apiGroup: z.string().optional(),
          resource: z.string().optional(),
          subresource: z.string().optional(),
          name: z.string().optional(),
          resourceRequest: z.boolean().optional(),
          path: z.string().optional(),
        })
        .refine((r) => (r.resourceRequest ?? false) === !r.path, {
          message: "a rule sets either resourceRequest: true or a path, not both and not neither",
        }),
    )
    .optional(),
});

const fileSchema = z.strictObject({ authorization: authorizationSchema.nullish() });

export interface AuthorizationConfig {
  resourceAttributes?: ResourceAttributesConfig;
  rewrites?: RewritesConfig;
  static: StaticRule[];
}

export const emptyAuthorization: AuthorizationConfig = { static: [] };

/** Reads and validates the file; throws one line naming the file and the first problem. */
export function loadConfigFile(path: string): AuthorizationConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`--config-file ${path}: ${(e as Error).message}`);
  }
  return parseConfigFile(text, path);
}

export function parseConfigFile(text: string, source: string): AuthorizationConfig {
  let doc: unknown;
  try {
    doc = parse(text, { prettyErrors: false, uniqueKeys: true }) ?? {};
  } catch (e) {
    throw new Error(`--config-file ${source}: invalid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const parsed = fileSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? issue.path.join(".") : "(top level)";
    throw new Error(`--config-file ${source}: ${where}: ${issue.message}`);
  }
  const a = parsed.data.authorization ?? {};
  return {
    resourceAttributes: a.resourceAttributes,
    rewrites: a.rewrites,
    static: (a.static ?? []).map((r) => ({ ...r, user: r.user ?? {}, resourceRequest: r.resourceRequest ?? false })),
  };
}
