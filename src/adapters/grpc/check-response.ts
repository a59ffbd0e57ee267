// CheckResult -> envoy.service.auth.v3.CheckResponse, as an object (for the CLI's print-out) and as
// bytes (for the gRPC server, which sends allowed answers from precomputed bytes).
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
  if (result.allowed) return { ...allowedResponse(result), dynamic_metadata };
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

function allowedResponse(result: CheckResult & { allowed: true }) {
  return {
    status: { code: 0 },
    ok_response: {
      headers: result.headersToSet.map(([key, value]) => ({
        header: { key, value },
        append_action: "OVERWRITE_IF_EXISTS_OR_ADD",
      })),
      headers_to_remove: result.headersToRemove,
    },
  };
}

/** The text a denied client sees: the short reason, then the id to quote when asking why. */
export function denyBody(body: string, decisionId: string): string {
  return `${body}\ndecision id: ${decisionId}\n`;
}

/** Encodes a CheckResponse object with the service's protos. */
export type Serialize = (response: object) => Buffer;

/**
 * Encodes whole CheckResponses. Protobuf fields may arrive in any order and messages concatenate,
 * so an allowed answer is its status and ok_response, encoded once per distinct set of headers
 * (the engine hands out frozen, shared header lists for cached identities), followed by the
 * per-Check dynamic_metadata, written directly. Denies are rare and carry the id in their body:
 * they are encoded whole.
 */
export function checkResponseEncoder(serialize: Serialize): (result: CheckResult, decisionId: string) => Buffer {
  const allowedBytes = new WeakMap<object, Map<object, Buffer>>();
  const encodeAllowed = (result: CheckResult & { allowed: true }): Buffer => {
    const { headersToSet, headersToRemove } = result;
    if (!Object.isFrozen(headersToSet) || !Object.isFrozen(headersToRemove)) return serialize(allowedResponse(result));
    let byRemoved = allowedBytes.get(headersToSet);
    if (!byRemoved) {
      byRemoved = new Map();
      allowedBytes.set(headersToSet, byRemoved);
    }
    let bytes = byRemoved.get(headersToRemove);
    if (!bytes) {
      bytes = serialize(allowedResponse(result));
      byRemoved.set(headersToRemove, bytes);
    }
    return bytes;
  };
  return (result, decisionId) => {
    if (!result.allowed) return serialize(toCheckResponse(result, decisionId));
    return withDecisionMetadata(encodeAllowed(result), decisionId);
  };
}

// Field tags (field number << 3 | length-delimited): CheckResponse.dynamic_metadata = 4,
// Struct.fields = 1 (a map entry: key = 1, value = 2), Value.string_value = 3.
const DYNAMIC_METADATA = 0x22;
const STRUCT_FIELDS = 0x0a;
const ENTRY_KEY = 0x0a;
const ENTRY_VALUE = 0x12;
const STRING_VALUE = 0x1a;
const DECISION_ID_KEY = Buffer.from("decision_id");

/** `head` followed by dynamic_metadata { decision_id: decisionId }, in one new buffer. */
function withDecisionMetadata(head: Buffer, decisionId: string): Buffer {
  const idBytes = Buffer.byteLength(decisionId);
  const value = 1 + varintSize(idBytes) + idBytes;
  const entry = 1 + varintSize(DECISION_ID_KEY.length) + DECISION_ID_KEY.length + 1 + varintSize(value) + value;
  const struct = 1 + varintSize(entry) + entry;
  const out = Buffer.allocUnsafe(head.length + 1 + varintSize(struct) + struct);
  let at = head.copy(out, 0);
  out[at++] = DYNAMIC_METADATA;
  at = writeVarint(out, at, struct);
  out[at++] = STRUCT_FIELDS;
  at = writeVarint(out, at, entry);
  out[at++] = ENTRY_KEY;
  at = writeVarint(out, at, DECISION_ID_KEY.length);
  at += DECISION_ID_KEY.copy(out, at);
  out[at++] = ENTRY_VALUE;
  at = writeVarint(out, at, value);
  out[at++] = STRING_VALUE;
  at = writeVarint(out, at, idBytes);
  out.write(decisionId, at, "utf8");
  return out;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}

function writeVarint(out: Buffer, at: number, n: number): number {
  while (n >= 0x80) {
    out[at++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[at++] = n;
  return at;
}
