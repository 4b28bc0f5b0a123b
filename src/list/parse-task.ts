// The parse pool's task (piscina): a reloaded list file's text checked off the data path. The
// main thread owns every socket, so a 10,000-line list parsed there would hold up every datagram
// behind it; here it costs the pool's thread. The answer crosses back by structured clone; a
// refused list comes back as its message (an Error's class does not survive the crossing).
import type { ParsedList } from '../dispatch/list-file.js';
import { checkList, type ListCheckConfig } from './check.js';

export interface ParseTask {
  text: string;
  config: ListCheckConfig;
}

export type ParseAnswer = { ok: true; list: ParsedList } | { ok: false; message: string };

export default function parseTask({ text, config }: ParseTask): ParseAnswer {
  try {
    return { ok: true, list: checkList(text, config) };
  } catch (err) {
    return { ok: false, message: err instanceof Error ? err.message : String(err) };
  }
}
