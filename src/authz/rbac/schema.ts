// Raw Role, ClusterRole, RoleBinding and ClusterRoleBinding objects (YAML from files, or JSON from
// the API) into the evaluator's types. A manifest is also checked as the apiserver checks what is
// written to it, so a manifest it would reject is an error here too instead of a rule that silently
// never matches (`kind: user`, a rule without verbs, ...). Objects read from a cluster passed that
// check when they were written; they are taken as stored (rules included that a later, stricter
// validation would refuse: the apiserver still evaluates them).
import { z } from "zod";
import type { ClusterRole, ClusterRoleBinding, RbacKind, Role, RoleBinding } from "./types.ts";

const strings = z
  .array(z.string())
  .nullish()
  .transform((v) => v ?? []);

const name = z.string().min(1, "must not be empty");

const policyRule = z.object({ verbs: strings, apiGroups: strings, resources: strings, resourceNames: strings, nonResourceURLs: strings });

// ValidatePolicyRule: a rule has verbs and is either about resources or about non-resource URLs,
// and only cluster-wide roles may name non-resource URLs.
const rulesOf = (namespaced: boolean, validate: boolean) =>
  z
    .array(
      policyRule.superRefine((rule, ctx) => {
        if (!validate) return;
        const problem =
          rule.verbs.length === 0
            ? "verbs must contain at least one value"
            : rule.nonResourceURLs.length > 0
              ? namespaced
                ? "namespaced rules cannot apply to non-resource URLs"
                : rule.apiGroups.length + rule.resources.length + rule.resourceNames.length > 0
                  ? "rules cannot apply to both regular resources and non-resource URLs"
                  : undefined
              : rule.apiGroups.length === 0
                ? "resource rules must supply at least one api group"
                : rule.resources.length === 0
                  ? "resource rules must supply at least one resource"
                  : undefined;
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      }),
    )
    .nullish()
    .transform((v) => v ?? []);

const labelSelector = z.object({
  matchLabels: z
    .record(z.string(), z.string())
    .nullish()
    .transform((v) => v ?? {}),
  matchExpressions: z
    .array(
      z
        .object({ key: name, operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]), values: strings })
        .refine((e) => (e.operator === "In" || e.operator === "NotIn") === e.values.length > 0, {
          message: "In and NotIn need values, Exists and DoesNotExist take none",
        }),
    )
    .nullish()
    .transform((v) => v ?? []),
});

const labels = z
  .record(z.string(), z.string())
  .nullish()
  .transform((v) => v ?? {});
const namespacedMetadata = z.object({ name, namespace: name });
const clusterMetadata = z.object({ name, labels });

const subjects = (namespaced: boolean, validate: boolean) =>
  z
    .array(
      z
        .object({
          kind: z.enum(["User", "Group", "ServiceAccount"]),
          name,
          namespace: z
            .string()
            .nullish()
            .transform((v) => v ?? ""),
        })
        // A RoleBinding's ServiceAccount defaults to the binding's namespace; a ClusterRoleBinding has none.
        .refine((s) => !validate || namespaced || s.kind !== "ServiceAccount" || s.namespace !== "", {
          message: "a ServiceAccount subject of a ClusterRoleBinding needs a namespace",
          path: ["namespace"],
        }),
    )
    .nullish()
    .transform((v) => v ?? []);

function schemasFor(validate: boolean) {
  const role = z
    .object({ metadata: namespacedMetadata, rules: rulesOf(true, validate) })
    .transform((o): Role => ({ name: o.metadata.name, namespace: o.metadata.namespace, rules: o.rules }));

  const clusterRole = z
    .object({
      metadata: clusterMetadata,
      rules: rulesOf(false, validate),
      aggregationRule: z.object({ clusterRoleSelectors: z.array(labelSelector).nullish() }).nullish(),
    })
    .transform(
      (o): ClusterRole => ({
        name: o.metadata.name,
        labels: o.metadata.labels,
        rules: o.rules,
        ...(o.aggregationRule ? { aggregationRule: { clusterRoleSelectors: o.aggregationRule.clusterRoleSelectors ?? [] } } : {}),
      }),
    );

  const roleBinding = z
    .object({
      metadata: namespacedMetadata,
      roleRef: z.object({ kind: z.enum(["Role", "ClusterRole"]), name }),
      subjects: subjects(true, validate),
    })
    .transform((o): RoleBinding => ({ name: o.metadata.name, namespace: o.metadata.namespace, roleRef: o.roleRef, subjects: o.subjects }));

  const clusterRoleBinding = z
    .object({ metadata: clusterMetadata, roleRef: z.object({ kind: z.literal("ClusterRole"), name }), subjects: subjects(false, validate) })
    .transform((o): ClusterRoleBinding => ({ name: o.metadata.name, roleRef: o.roleRef, subjects: o.subjects }));

  return { Role: role, ClusterRole: clusterRole, RoleBinding: roleBinding, ClusterRoleBinding: clusterRoleBinding };
}

const schemas = { manifest: schemasFor(true), cluster: schemasFor(false) };

export type RbacObjectOf<K extends RbacKind> = z.output<ReturnType<typeof schemasFor>[K]>;

/** The object as the evaluator reads it; throws one line naming the first problem's field. */
export function parseRbacObject<K extends RbacKind>(kind: K, raw: unknown, source: "manifest" | "cluster"): RbacObjectOf<K> {
  const parsed = schemas[source][kind].safeParse(raw);
  if (parsed.success) return parsed.data as RbacObjectOf<K>;
  const issue = parsed.error.issues[0];
  const where = issue.path.length ? `${issue.path.join(".")}: ` : "";
  throw new Error(`${kind}: ${where}${issue.message}`);
}
