// The JS face of the wasm parser. One parser per thread; parse() copies the datagram into the
// module's memory once, runs the wasm parse, and returns a lazy view (or a ParseError).
import * as C from './constants.generated.js';
import { SipMessage, makeError } from './message.js';
import type { ParseError } from './types.js';
import { Reader } from './views.js';
import { instantiate, type ParserExports } from './wasm.js';

export { SipMessage, headerId } from './message.js';
export type * from './types.js';

export class SipParser {
  readonly #exports: ParserExports;
  /** The module's memory; the last datagram is at offset 0. */
  readonly memory: Buffer;
  /** The span table of the last parse (layout: wasm/assembly/constants.ts). */
  readonly table: Int32Array;
  #generation = 0;
  #input: Uint8Array = new Uint8Array(0);

  constructor() {
    const inst = instantiate();
    this.#exports = inst.exports;
    this.memory = inst.bytes;
    this.table = inst.table;
  }

  /** Bumped by every parse: views of earlier datagrams compare it with their own. */
  get generation(): number {
    return this.#generation;
  }

  /**
   * Low level, for the proxy's hot path: copies `bytes` in, parses, and returns 0 or an ERR_*
   * code. The results are in `table` (and the bytes in `memory`) until the next call.
   */
  exec(bytes: Uint8Array): number {
    this.#generation++;
    this.#input = bytes;
    if (bytes.length > C.INPUT_CAPACITY) return this.#exports.parse(bytes.length); // records ERR_TOO_LARGE, no copy
    this.memory.set(bytes, C.INPUT_PTR);
    return this.#exports.parse(bytes.length);
  }

  /** Parses one datagram. The message is valid until this parser's next parse(); detach() keeps it. */
  parse(bytes: Uint8Array): SipMessage | ParseError {
    const code = this.exec(bytes);
    if (code !== 0) return makeError(this.table, code);
    return new SipMessage(new Reader(this.memory, this.table, this, this.#generation), bytes);
  }

  /** A view of the last parse whatever its outcome: what could be read of a malformed message. */
  view(): SipMessage {
    return new SipMessage(new Reader(this.memory, this.table, this, this.#generation), this.#input);
  }

  /** Parses [off, off + len) of the last datagram as a URI into the F_URI_SCRATCH block; true if well-formed. */
  parseUriAt(off: number, len: number): boolean {
    return this.#exports.parseUriAt(off, len) === 0;
  }
}

/** A parser with its own wasm instance and memory. One per thread; not shared between threads. */
export function createParser(): SipParser {
  return new SipParser();
}
