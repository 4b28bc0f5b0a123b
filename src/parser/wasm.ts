// Loads the parser module: compiled once per thread from wasm/build/parser.wasm, instantiated once
// per parser. Each instance has its own memory (a shared memory makes every call about 5x dearer,
// DESIGN.md), so parsers on different threads never touch each other's bytes.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SiplbWasmError } from '../errors.js';
import { ABI_VERSION, INPUT_PTR, TABLE_PTR, TABLE_SLOTS } from './constants.generated.js';

/** The exports of wasm/assembly/index.ts. All i32. */
export interface ParserExports {
  readonly memory: WebAssembly.Memory;
  abiVersion(): number;
  inputPtr(): number;
  tablePtr(): number;
  /** Parses `len` bytes at INPUT_PTR; returns 0 or an ERR_* code. One call per datagram. */
  parse(len: number): number;
  /** Parses a span of the last datagram as a URI into the F_URI_SCRATCH block; 0 or ERR_URI. */
  parseUriAt(off: number, len: number): number;
}

let compiled: WebAssembly.Module | undefined;

/** Finds wasm/build/parser.wasm above this file: src/parser when run from source, dist/src/parser when built. */
export function wasmPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'wasm', 'build', 'parser.wasm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new SiplbWasmError('wasm/build/parser.wasm not found: run `npm run build`');
}

function compile(): WebAssembly.Module {
  if (compiled) return compiled;
  try {
    compiled = new WebAssembly.Module(readFileSync(wasmPath()));
  } catch (err) {
    if (err instanceof SiplbWasmError) throw err;
    throw new SiplbWasmError('the wasm parser module could not be compiled', { cause: err });
  }
  return compiled;
}

export interface ParserInstance {
  readonly exports: ParserExports;
  /** The whole module memory; its bytes at INPUT_PTR are the last datagram. */
  readonly bytes: Buffer;
  /** The i32 table written by parse(). */
  readonly table: Int32Array;
}

export function instantiate(): ParserInstance {
  let exports: ParserExports;
  try {
    exports = new WebAssembly.Instance(compile(), {}).exports as unknown as ParserExports;
  } catch (err) {
    throw new SiplbWasmError('the wasm parser module could not be instantiated', { cause: err });
  }
  if (exports.abiVersion() !== ABI_VERSION || exports.inputPtr() !== INPUT_PTR || exports.tablePtr() !== TABLE_PTR) {
    throw new SiplbWasmError(`wasm parser ABI ${exports.abiVersion()} does not match the binding (${ABI_VERSION}): run \`npm run build\``);
  }
  // Fixed memory (initial = maximum), so these views never detach.
  const buffer = exports.memory.buffer;
  return {
    exports,
    bytes: Buffer.from(buffer, 0, buffer.byteLength),
    table: new Int32Array(buffer, TABLE_PTR, TABLE_SLOTS),
  };
}
