// The human-readable output of `siplb parse`: the message as the parser split it (start line, one
// line per header with folding normalised), then a summary of the fields routing uses, so a reader
// can check at a glance what the proxy would take from this message.
import type { createParser } from '../parser/index.js';
import type { NameAddr, ParseError, SipUri, Via } from '../parser/types.js';

/** A well-formed parse result, whatever the parser module names its type. */
export type ParsedMessage = Exclude<ReturnType<ReturnType<typeof createParser>['parse']>, ParseError>;

/** `malformed: <reason> (<ERR_NAME>, offset N[, header H])` */
export function formatParseError(error: ParseError): string {
  const header = error.header === undefined ? '' : `, header ${error.header}`;
  return `malformed: ${error.reason} (${error.name}, offset ${error.offset}${header})`;
}

/** Start line, headers, a blank line, then the summary block. Ends with a newline. */
export function formatMessage(message: ParsedMessage): string {
  const lines = [message.startLine];
  for (const entry of message.headerEntries()) lines.push(`${entry.name}: ${entry.value}`);
  lines.push('', 'summary:');
  for (const [key, value] of summary(message)) lines.push(`  ${key.padEnd(16)}${value}`);
  return `${lines.join('\n')}\n`;
}

function summary(m: ParsedMessage): Array<[string, string]> {
  const rows: Array<[string, string]> = [['kind', m.kind]];
  if (m.kind === 'request') {
    rows.push(['method', show(m.method)]);
    rows.push(['request-uri', m.requestUri === undefined ? '-' : uriParts(m.requestUri)]);
  } else {
    rows.push(['status', `${m.status} ${m.reason}`]);
  }
  rows.push([`via (1 of ${m.viaCount})`, m.via === undefined ? '-' : viaParts(m.via)]);
  rows.push(['call-id', show(m.callId)]);
  rows.push(['cseq', `${m.cseq.number} ${m.cseq.method}`]);
  rows.push(['from', nameAddr(m.from)]);
  rows.push(['to', nameAddr(m.to)]);
  rows.push(['max-forwards', show(m.maxForwards)]);
  rows.push(['content-length', show(m.contentLength)]);
  rows.push(['body', `${m.body.length} bytes`]);
  rows.push(['message', `${m.length} bytes`]);
  return rows;
}

function uriParts(uri: SipUri): string {
  return [
    `scheme=${uri.scheme}`,
    `user=${show(uri.user)}`,
    `host=${show(uri.host)}`,
    `port=${port(uri.port)}`,
    `params=${show(uri.params)}`,
  ].join(' ');
}

function viaParts(via: Via): string {
  const rport = via.rport === null ? '(no value)' : show(via.rport);
  return [
    `transport=${via.transport}`,
    `host=${via.host}`,
    `port=${port(via.port)}`,
    `branch=${show(via.branch)}`,
    `received=${show(via.received)}`,
    `rport=${rport}`,
  ].join(' ');
}

function nameAddr(value: NameAddr | undefined): string {
  if (value === undefined) return '-';
  const name = value.displayName === undefined ? '' : `${value.displayName} `;
  return `${name}<${value.uri.raw}> tag=${show(value.tag)}`;
}

/** Absent values print as '-' so every summary row has a value to read. */
function show(value: string | number | null | undefined): string {
  return value === undefined || value === null || value === '' ? '-' : String(value);
}

/** The parser reports an absent port as 0. */
function port(value: number): string {
  return value === 0 ? '-' : String(value);
}
