// Splits a list header's value (RFC 3261 7.3.1) at commas outside quoted strings and <>. The wasm
// parser splits only the lists a proxy routes by (Via, Route, Record-Route); the others (Contact,
// Allow, Supported...) are split here, when someone reads them.

/** The values of a comma-separated header value, trimmed, empty elements dropped. */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++; // quoted-pair
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) {
      quoted = true;
    } else if (c === 0x3c) {
      angle = true;
    } else if (c === 0x3e) {
      angle = false;
    } else if (c === 0x2c && !angle) {
      push(out, value.slice(start, i));
      start = i + 1;
    }
  }
  push(out, value.slice(start));
  return out;
}

function push(out: string[], v: string): void {
  const t = v.trim();
  if (t) out.push(t);
}
