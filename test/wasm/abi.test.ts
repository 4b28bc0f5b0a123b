// The wasm module against its ABI (wasm/assembly/constants.ts), read straight from
// wasm/build/parser.wasm without the binding: the export list, the fixed memory, the memory map and
// table layout (regions that must not overlap, as STYLE.md habit 5 asks), the error table, and the
// generated constants being current.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as C from '../../src/parser/constants.generated.js';

const ROOT = join(import.meta.dirname, '..', '..');
const wasmBytes = readFileSync(join(ROOT, 'wasm', 'build', 'parser.wasm'));
const module = new WebAssembly.Module(wasmBytes);

// src/parser/webassembly.d.ts declares only what the loader uses; the rest of the API, typed here.
interface ModuleReflection {
  exports(module: WebAssembly.Module): Array<{ name: string; kind: string }>;
  imports(module: WebAssembly.Module): Array<{ module: string; name: string; kind: string }>;
}
const reflect = WebAssembly.Module as unknown as ModuleReflection;

interface RawExports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  abiVersion(): number;
  inputPtr(): number;
  tablePtr(): number;
}
const instantiate = (): RawExports => new WebAssembly.Instance(module, {}).exports as unknown as RawExports;

/** Every exported numeric constant whose name starts with `prefix`. */
const constantsWith = (prefix: string): Array<[string, number]> =>
  Object.entries(C).flatMap(([name, value]): Array<[string, number]> => (name.startsWith(prefix) && typeof value === 'number' ? [[name, value]] : []));

/** Offsets and sizes of the active data segments (section 11), read from the binary. */
function dataSegments(bytes: Uint8Array): Array<{ offset: number; size: number }> {
  let p = 8; // magic + version
  const leb = (): number => {
    // unsigned LEB128; the i32.const offsets here are positive, so their signed encoding reads the same
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const b = bytes[p++] ?? 0;
      v += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return v;
    }
  };
  const out: Array<{ offset: number; size: number }> = [];
  while (p < bytes.length) {
    const id = bytes[p++];
    const size = leb();
    const end = p + size;
    if (id === 11) {
      for (let n = leb(); n > 0; n--) {
        const flags = leb();
        if (flags !== 0) throw new Error(`data segment flags ${flags}: only active segments of memory 0 are expected`);
        if (bytes[p++] !== 0x41) throw new Error('data segment offset is not an i32.const');
        const offset = leb();
        if (bytes[p++] !== 0x0b) throw new Error('data segment offset expression does not end');
        const len = leb();
        out.push({ offset, size: len });
        p += len;
      }
    }
    p = end;
  }
  return out;
}

describe('wasm module exports', () => {
  it('are exactly memory, abiVersion, inputPtr, tablePtr, parse, parseUriAt; no imports', () => {
    const names = reflect.exports(module).map((e) => `${e.name}:${e.kind}`).sort();
    expect(names).toEqual(['abiVersion:function', 'inputPtr:function', 'memory:memory', 'parse:function', 'parseUriAt:function', 'tablePtr:function']);
    expect(reflect.imports(module)).toEqual([]);
  });

  it('memory is MEMORY_PAGES (4) pages and cannot grow', () => {
    const { memory } = instantiate();
    expect(C.MEMORY_PAGES).toBe(4);
    expect(memory.buffer.byteLength).toBe(C.MEMORY_PAGES * 65536);
    expect(() => memory.grow(1)).toThrow(RangeError);
    expect(memory.buffer.byteLength).toBe(C.MEMORY_PAGES * 65536);
  });

  it('abiVersion, inputPtr and tablePtr equal the generated constants', () => {
    const x = instantiate();
    expect([x.abiVersion(), x.inputPtr(), x.tablePtr()]).toEqual([C.ABI_VERSION, C.INPUT_PTR, C.TABLE_PTR]);
  });
});

describe('memory map', () => {
  it('INPUT, TABLE and static data follow each other without overlap', () => {
    expect(C.INPUT_PTR + C.INPUT_CAPACITY).toBeLessThanOrEqual(C.TABLE_PTR);
    expect(C.TABLE_PTR % 4).toBe(0);
    expect(C.TABLE_PTR + C.TABLE_SLOTS * 4).toBeLessThanOrEqual(C.MEMORY_BASE);
    expect(C.MEMORY_BASE).toBeLessThan(C.MEMORY_PAGES * 65536);
  });

  it("the module's static data lies in [MEMORY_BASE, end of memory)", () => {
    const segments = dataSegments(wasmBytes);
    expect(segments.length).toBeGreaterThan(0);
    for (const { offset, size } of segments) {
      expect(offset).toBeGreaterThanOrEqual(C.MEMORY_BASE);
      expect(offset + size).toBeLessThanOrEqual(C.MEMORY_PAGES * 65536);
    }
  });

  it('the table is FIELDS fixed slots, then MAX_HEADERS entries, then MAX_VALUES value pairs', () => {
    expect(C.HDR_BASE).toBe(C.FIELDS);
    expect(C.VAL_BASE).toBe(C.HDR_BASE + C.MAX_HEADERS * C.HDR_STRIDE);
    expect(C.TABLE_SLOTS).toBe(C.VAL_BASE + C.MAX_VALUES * 2);
  });

  it('fixed fields and the URI, name-addr and Via blocks lie inside FIELDS and do not overlap', () => {
    const scalars = constantsWith('F_').filter(([name]) => !['F_RURI', 'F_URI_SCRATCH', 'F_ROUTE1', 'F_RR1', 'F_FROM', 'F_TO', 'F_VIA1', 'F_VIA2'].includes(name));
    const regions: Array<[string, number, number]> = [
      ...scalars.map(([name, slot]): [string, number, number] => [name, slot, 1]),
      ['F_RURI', C.F_RURI, C.U_SIZE],
      ['F_URI_SCRATCH', C.F_URI_SCRATCH, C.U_SIZE],
      ['F_ROUTE1', C.F_ROUTE1, C.U_SIZE],
      ['F_RR1', C.F_RR1, C.U_SIZE],
      ['F_FROM', C.F_FROM, C.N_SIZE],
      ['F_TO', C.F_TO, C.N_SIZE],
      ['F_VIA1', C.F_VIA1, C.V_SIZE],
      ['F_VIA2', C.F_VIA2, C.V_SIZE],
    ];
    const sorted = [...regions].sort((a, b) => a[1] - b[1]);
    for (const [name, start, size] of sorted) {
      expect(start, name).toBeGreaterThanOrEqual(0);
      expect(start + size, name).toBeLessThanOrEqual(C.FIELDS);
    }
    sorted.slice(1).forEach(([name, start], i) => {
      const [prev, prevStart, prevSize] = sorted[i] ?? ['', 0, 0];
      expect(prevStart + prevSize, `${prev} overlaps ${name}`).toBeLessThanOrEqual(start);
    });
  });

  it('slots inside a block stay inside its size', () => {
    const inside = (prefix: string, size: number, exclude: string[] = []): void => {
      for (const [name, slot] of constantsWith(prefix).filter(([n]) => !exclude.includes(n))) {
        expect(slot, name).toBeGreaterThanOrEqual(0);
        expect(slot, name).toBeLessThan(size);
      }
    };
    inside('U_', C.U_SIZE, ['U_SIZE']);
    inside('N_', C.N_SIZE, ['N_SIZE']);
    inside('V_', C.V_SIZE, ['V_SIZE']);
    inside('H_', C.HDR_STRIDE);
    expect(C.N_URI + C.U_SIZE).toBe(C.N_SIZE);
  });
});

describe('error codes', () => {
  it('ERRORS covers every ERR_ code, contiguously from 0, with its name and a SIP status', () => {
    const codes = constantsWith('ERR_').sort((a, b) => a[1] - b[1]);
    expect(codes.map(([, code]) => code)).toEqual(codes.map((_, i) => i));
    expect(C.ERRORS).toHaveLength(codes.length);
    for (const [name, code] of codes) {
      const [status, reason, errName] = C.ERRORS[code] ?? [0, '', 'missing'];
      expect(errName).toBe(name);
      expect(reason.length, name).toBeGreaterThan(0);
      expect(status >= 200 && status <= 699, `${name} status ${status}`).toBe(true);
    }
  });
});

describe('generated constants', () => {
  it('`node scripts/gen-constants.mjs --check` exits 0', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'gen-constants.mjs'), '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });
});
