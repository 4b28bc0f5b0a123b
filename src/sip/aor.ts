// The address-of-record a REGISTER is about (RFC 3261 §10.2: the To URI), as siplb keys its
// registration sets: lower-case `user@host`. Shared by the dispatch core, which recognises a
// REGISTER for a registration set, and the registrar in the probe worker, which answers it.
import type { SipMessage } from '../parser/index.js';

export function aorOf(m: SipMessage): string | undefined {
  const uri = m.to.uri;
  if (uri.user === undefined || uri.host === undefined) return undefined;
  return `${uri.user}@${uri.host}`.toLowerCase();
}
