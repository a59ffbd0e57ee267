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

const profileSchema = z.strictObject({
  hosts: z.array(z.string().min(1)).optional(),
  allowPaths: z.array(z.string().min(1)).optional(),
  ignorePaths: z.array(z.string().min(1)).optional(),
  authorization: authorizationSchema.nullish(),
});

const fileSchema = z.strictObject({
  authorization: authorizationSchema.nullish(),
  profiles: z
    .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "a profile name is letters, digits, '.', '_' or '-'"), profileSchema)
    .optional(),
});

export interface AuthorizationConfig {
  resourceAttributes?: ResourceAttributesConfig;
  rewrites?: RewritesConfig;
  static: StaticRule[];
}

/** A named profile: its own paths and authorization, chosen per route or per host. */
export interface ProfileConfig {
  name: string;
  hosts: string[];
  allowPaths: string[];
  ignorePaths: string[];
  authorization: AuthorizationConfig;
}

export interface ConfigFile {
  /** The top-level section: the default profile. */
  authorization: AuthorizationConfig;
  /** In file order, which is the order hosts are matched in. */
  profiles: ProfileConfig[];
}

export const emptyConfigFile: ConfigFile = { authorization: { static: [] }, profiles: [] };

/** Reads and validates the file; throws one line naming the file and the first problem. */
export function loadConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`--config-file ${path}: ${(e as Error).message}`);
  }
  return parseConfigFile(text, path);
}

export function parseConfigFile(text: string, source: string): ConfigFile {
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
  return {
    authorization: authorizationOf(parsed.data.authorization),
    profiles: Object.entries(parsed.data.profiles ?? {}).map(([name, p]) => ({
      name,
      hosts: p.hosts ?? [],
      allowPaths: p.allowPaths ?? [],
      ignorePaths: p.ignorePaths ?? [],
      authorization: authorizationOf(p.authorization),
    })),
  };
}

function authorizationOf(a: z.infer<typeof authorizationSchema> | null | undefined): AuthorizationConfig {
  return {
    resourceAttributes: a?.resourceAttributes,
    rewrites: a?.rewrites,
    static: (a?.static ?? []).map((r) => ({ ...r, user: r.user ?? {}, resourceRequest: r.resourceRequest ?? false })),
  };
}
