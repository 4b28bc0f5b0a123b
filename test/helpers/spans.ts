// Reads the parser's raw span table (layout: wasm/assembly/constants.ts) and lists every span that
// points outside the datagram. Every span slot pair is enumerated from the generated constants, so
// a block added to the ABI without a line here is the only way to escape the check.
import * as C from '../../src/parser/constants.generated.js';

/** A span: offset at table[off], length at table[len]. */
export interface SpanSlot {
  readonly name: string;
  readonly off: number;
  readonly len: number;
}

const slots: SpanSlot[] = [];
const span = (name: string, off: number, len = off + 1): void => {
  slots.push({ name, off, len });
};

span('F_START', C.F_START_OFF, C.F_START_LEN);
span('F_METHOD', C.F_METHOD_OFF, C.F_METHOD_LEN);
span('F_REASON', C.F_REASON_OFF, C.F_REASON_LEN);
span('F_VERSION', C.F_VERSION_OFF, C.F_VERSION_LEN);
span('F_BODY', C.F_BODY_OFF, C.F_BODY_LEN);
span('F_CALL_ID', C.F_CALL_ID_OFF, C.F_CALL_ID_LEN);
span('F_CSEQ_METHOD', C.F_CSEQ_METHOD_OFF, C.F_CSEQ_METHOD_LEN);

function uriBlock(prefix: string, b: number): void {
  span(`${prefix}.U`, b + C.U_OFF, b + C.U_LEN);
  span(`${prefix}.U_SCHEME`, b + C.U_OFF, b + C.U_SCHEME_LEN); // the scheme span starts at U_OFF
  span(`${prefix}.U_USER`, b + C.U_USER_OFF, b + C.U_USER_LEN);
  span(`${prefix}.U_PASSWORD`, b + C.U_PASSWORD_OFF, b + C.U_PASSWORD_LEN);
  span(`${prefix}.U_HOST`, b + C.U_HOST_OFF, b + C.U_HOST_LEN);
  span(`${prefix}.U_PARAMS`, b + C.U_PARAMS_OFF, b + C.U_PARAMS_LEN);
  span(`${prefix}.U_HEADERS`, b + C.U_HEADERS_OFF, b + C.U_HEADERS_LEN);
}
uriBlock('F_RURI', C.F_RURI);
uriBlock('F_URI_SCRATCH', C.F_URI_SCRATCH);
uriBlock('F_ROUTE1', C.F_ROUTE1);
uriBlock('F_RR1', C.F_RR1);

for (const [prefix, b] of [['F_FROM', C.F_FROM], ['F_TO', C.F_TO]] as const) {
  span(`${prefix}.N`, b + C.N_OFF, b + C.N_LEN);
  span(`${prefix}.N_DISPLAY`, b + C.N_DISPLAY_OFF, b + C.N_DISPLAY_LEN);
  span(`${prefix}.N_TAG`, b + C.N_TAG_OFF, b + C.N_TAG_LEN);
  span(`${prefix}.N_PARAMS`, b + C.N_PARAMS_OFF, b + C.N_PARAMS_LEN);
  uriBlock(`${prefix}.N_URI`, b + C.N_URI);
}

for (const [prefix, b] of [['F_VIA1', C.F_VIA1], ['F_VIA2', C.F_VIA2]] as const) {
  span(`${prefix}.V`, b + C.V_OFF, b + C.V_LEN);
  span(`${prefix}.V_TRANSPORT`, b + C.V_TRANSPORT_OFF, b + C.V_TRANSPORT_LEN);
  span(`${prefix}.V_HOST`, b + C.V_HOST_OFF, b + C.V_HOST_OFF + 1); // no V_HOST_LEN constant: length follows the offset
  span(`${prefix}.V_BRANCH`, b + C.V_BRANCH_OFF, b + C.V_BRANCH_LEN);
  span(`${prefix}.V_RECEIVED`, b + C.V_RECEIVED_OFF, b + C.V_RECEIVED_LEN);
  span(`${prefix}.V_MADDR`, b + C.V_MADDR_OFF, b + C.V_MADDR_LEN);
  span(`${prefix}.V_PARAMS`, b + C.V_PARAMS_OFF, b + C.V_PARAMS_LEN);
}

/** Slot reader: a number for every index (0 past the end), whatever noUncheckedIndexedAccess says. */
const reader =
  (t: Int32Array) =>
  (i: number): number =>
    t[i] ?? 0;

/** Every fixed-field span slot pair of the ABI. */
export const FIXED_SPANS: readonly SpanSlot[] = slots;

/**
 * Every way the table describes bytes outside [0, length): fixed spans, header entries (name and
 * value), list values, the counts, and the single offsets. Empty when the table is sound.
 */
export function spanViolations(table: Int32Array, length: number): string[] {
  const at = reader(table);
  const out: string[] = [];
  const inside = (name: string, off: number, len: number): void => {
    if (off < 0 || len < 0 || off + len > length) out.push(`${name}: [${off}, +${len}) not inside ${length} bytes`);
  };
  for (const { name, off, len } of FIXED_SPANS) {
    if (at(off) === -1) continue; // absent
    inside(name, at(off), at(len));
  }
  const headers = at(C.F_HDR_COUNT);
  const values = at(C.F_VAL_COUNT);
  if (headers < 0 || headers > C.MAX_HEADERS) out.push(`F_HDR_COUNT ${headers}`);
  if (values < 0 || values > C.MAX_VALUES) out.push(`F_VAL_COUNT ${values}`);
  for (let i = 0; i < Math.min(Math.max(headers, 0), C.MAX_HEADERS); i++) {
    const b = C.HDR_BASE + i * C.HDR_STRIDE;
    inside(`header ${i} name`, at(b + C.H_NAME_OFF), at(b + C.H_NAME_LEN));
    inside(`header ${i} value`, at(b + C.H_VALUE_OFF), at(b + C.H_VALUE_LEN));
    const first = at(b + C.H_FIRST_VAL);
    const count = at(b + C.H_VAL_COUNT);
    if (count >= 0 && (first < 0 || first + count > values)) out.push(`header ${i} values [${first}, +${count}) beyond ${values}`);
  }
  for (let v = 0; v < Math.min(Math.max(values, 0), C.MAX_VALUES); v++) {
    inside(`value ${v}`, at(C.VAL_BASE + v * 2), at(C.VAL_BASE + v * 2 + 1));
  }
  for (const [name, slot] of [['F_ERROR_OFF', C.F_ERROR_OFF], ['F_HEADERS_END', C.F_HEADERS_END]] as const) {
    if (at(slot) < -1 || at(slot) > length) out.push(`${name} ${at(slot)}`);
  }
  if (at(C.F_MSG_LEN) < 0 || at(C.F_MSG_LEN) > length) out.push(`F_MSG_LEN ${at(C.F_MSG_LEN)}`);
  return out;
}

/** Fixed spans that are absent (offset -1) with a length other than 0, against constants.ts. */
export function absentSpanViolations(table: Int32Array): string[] {
  const at = reader(table);
  return FIXED_SPANS.filter(({ off, len }) => at(off) === -1 && at(len) !== 0).map(({ name, len }) => `${name} length ${at(len)}`);
}

/** The meaningful part of the table after a parse: fixed fields, written header entries and values. */
export function tableSnapshot(t: Int32Array): Int32Array {
  const headers = Math.min(Math.max(reader(t)(C.F_HDR_COUNT), 0), C.MAX_HEADERS);
  const values = Math.min(Math.max(reader(t)(C.F_VAL_COUNT), 0), C.MAX_VALUES);
  const out = new Int32Array(C.FIELDS + headers * C.HDR_STRIDE + values * 2);
  out.set(t.subarray(0, C.FIELDS));
  out.set(t.subarray(C.HDR_BASE, C.HDR_BASE + headers * C.HDR_STRIDE), C.FIELDS);
  out.set(t.subarray(C.VAL_BASE, C.VAL_BASE + values * 2), C.FIELDS + headers * C.HDR_STRIDE);
  return out;
}
