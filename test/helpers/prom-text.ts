// A strict reader of Prometheus' text exposition format (0.0.4), for tests that scrape /metrics:
// every sample line must parse, every sample must belong to a family declared by # TYPE before it,
// and label values are unescaped. Keys are `name{a="x",b="y"}` with labels sorted by name.

export interface PromText {
  /** Family name -> its TYPE. */
  types: Map<string, string>;
  samples: Map<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

export function sampleKey(name: string, labels: Record<string, string | number> = {}): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? name : `${name}{${keys.map((k) => `${k}="${String(labels[k])}"`).join(',')}}`;
}

export function parsePromText(text: string): PromText {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (types.has(name!)) throw new Error(`family ${name} declared twice`);
      types.set(name!, type!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const [, name, rawLabels, rawValue] = m;
    const family = [...types.keys()].find((f) => name === f || (types.get(f) === 'histogram' && [`${f}_bucket`, `${f}_sum`, `${f}_count`].includes(name!)));
    if (family === undefined) throw new Error(`sample of no declared family: ${line}`);
    const labels: Record<string, string> = {};
    if (rawLabels !== undefined && rawLabels !== '') {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < rawLabels.length) {
        const l = LABEL.exec(rawLabels);
        if (l === null) throw new Error(`bad labels: ${line}`);
        labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      }
    }
    // Prometheus reads values with Go's ParseFloat: NaN in any case (prom-client writes "Nan")
    const value = rawValue === '+Inf' ? Infinity : rawValue === '-Inf' ? -Infinity : rawValue!.toLowerCase() === 'nan' ? NaN : Number(rawValue);
    if (Number.isNaN(value) && rawValue!.toLowerCase() !== 'nan') throw new Error(`bad value: ${line}`);
    samples.set(sampleKey(name!, labels), value);
  }
  return { types, samples };
}
