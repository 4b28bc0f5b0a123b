// siplb's wasm parser behind the same adapter signature as the JS peers (peers.ts).
// parser.parse(buf) copies the datagram into wasm memory once and returns a message whose fields
// are read lazily from the span table, so "parse+read" is where string fields get made.
import { createParser } from '../../src/parser/index.js';
import type { Peer } from './peers.js';

const parser = createParser();

export const siplbPeer: Peer = {
  name: 'siplb',
  parse: (buf) => parser.parse(buf),
  read(buf) {
    const m = parser.parse(buf);
    if (!m.ok) return undefined;
    const via = m.via;
    return {
      callId: m.callId,
      viaHost: via?.host,
      viaPort: via?.port,
      viaBranch: via?.branch,
      cseqNumber: m.cseq.number,
      cseqMethod: m.cseq.method,
      maxForwards: m.maxForwards,
      route: m.route?.raw,
      requestHost: m.requestUri?.host,
    };
  },
};
