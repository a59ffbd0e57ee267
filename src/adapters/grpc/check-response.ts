// CheckResult -> envoy.service.auth.v3.CheckResponse.
import type { CheckResult, DenyStatus } from "../../core/types.ts";

// google.rpc.Code for each HTTP answer, as Envoy's network filter and logs read `status.code`.
const RPC_CODE: Readonly<Record<DenyStatus, number>> = {
  400: 3, // INVALID_ARGUMENT
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 5, // NOT_FOUND
  503: 14, // UNAVAILABLE
};

const TEXT_PLAIN = { header: { key: "content-type", value: "text/plain; charset=utf-8" } };

/**
 * The response Envoy applies. `decisionId` goes into dynamic_metadata (Envoy's access log can
 * print it as %DYNAMIC_METADATA(envoy.filters.http.ext_authz:decision_id)%) and into a deny body.
 */
export function toCheckResponse(result: CheckResult, decisionId: string): object {
  const dynamic_metadata = { fields: { decision_id: { stringValue: decisionId } } };
  if (result.allowed) {
    return {
      status: { code: 0 },
      ok_response: {
        headers: result.headersToSet.map(([key, value]) => ({
          header: { key, value },
          append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
        })),
        headers_to_remove: result.headersToRemove,
      },
      dynamic_metadata,
    };
  }
  return {
    status: { code: RPC_CODE[result.status], message: result.body },
    denied_response: {
      status: { code: result.status },
      headers: [TEXT_PLAIN],
      body: denyBody(result.body, decisionId),
    },
    dynamic_metadata,
  };
}

/** The text a denied client sees: the short reason, then the id to quote when asking why. */
export function denyBody(body: string, decisionId: string): string {
  return `${body}\ndecision id: ${decisionId}\n`;
}
