// Small builders for SIP test messages: exact CRLF bytes, Content-Length computed, defaults a UAC
// on 127.0.0.1 would send. Tests override what they exercise.

export interface RequestSpec {
  method?: string;
  ruri?: string;
  via?: string[];
  maxForwards?: number | null;
  from?: string;
  to?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  route?: string[];
  contact?: string | null;
  extra?: string[];
  body?: string;
}

export function request(spec: RequestSpec = {}): Buffer {
  const method = spec.method ?? 'INVITE';
  const lines = [`${method} ${spec.ruri ?? 'sip:service@127.0.0.1:5060'} SIP/2.0`];
  for (const v of spec.via ?? ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-uac-1;rport']) lines.push(`Via: ${v}`);
  if (spec.maxForwards !== null) lines.push(`Max-Forwards: ${spec.maxForwards ?? 70}`);
  for (const r of spec.route ?? []) lines.push(`Route: ${r}`);
  lines.push(`From: <sip:alice@127.0.0.1:5061>;tag=${spec.from ?? 'a1'}`);
  lines.push(`To: ${spec.to ?? '<sip:service@127.0.0.1:5060>'}`);
  lines.push(`Call-ID: ${spec.callId ?? 'call-1@127.0.0.1'}`);
  lines.push(`CSeq: ${spec.cseq ?? 1} ${spec.cseqMethod ?? method}`);
  if (spec.contact !== null) lines.push(`Contact: ${spec.contact ?? '<sip:alice@127.0.0.1:5061>'}`);
  for (const e of spec.extra ?? []) lines.push(e);
  const body = spec.body ?? '';
  lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n' + body);
}

export interface ResponseSpec {
  status: number;
  reason?: string;
  /** The Via lines of the request being answered, copied as received. */
  via: string[];
  from?: string;
  to?: string;
  toTag?: string;
  callId?: string;
  cseq?: number;
  cseqMethod?: string;
  recordRoute?: string[];
  contact?: string;
}

export function response(spec: ResponseSpec): Buffer {
  const lines = [`SIP/2.0 ${spec.status} ${spec.reason ?? 'Reason'}`];
  for (const v of spec.via) lines.push(`Via: ${v}`);
  for (const r of spec.recordRoute ?? []) lines.push(`Record-Route: ${r}`);
  lines.push(`From: <sip:alice@127.0.0.1:5061>;tag=${spec.from ?? 'a1'}`);
  const to = spec.to ?? '<sip:service@127.0.0.1:5060>';
  lines.push(`To: ${to}${spec.toTag ? `;tag=${spec.toTag}` : ''}`);
  lines.push(`Call-ID: ${spec.callId ?? 'call-1@127.0.0.1'}`);
  lines.push(`CSeq: ${spec.cseq ?? 1} ${spec.cseqMethod ?? 'INVITE'}`);
  if (spec.contact) lines.push(`Contact: ${spec.contact}`);
  lines.push('Content-Length: 0');
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n');
}

/** The header lines named `name` (any case) of a message, values only, in order. */
export function headerValues(msg: Buffer | string, name: string): string[] {
  const text = typeof msg === 'string' ? msg : msg.toString('latin1');
  const head = text.split('\r\n\r\n')[0]!.split('\r\n').slice(1);
  const lower = name.toLowerCase();
  return head.filter((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase() === lower).map((l) => l.slice(l.indexOf(':') + 1).trim());
}

export function startLine(msg: Buffer): string {
  return msg.toString('latin1').split('\r\n')[0]!;
}
