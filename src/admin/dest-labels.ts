// Which destination sits in each slot of the shared table, as an operator names it: its set and
// URI. The list's destinations come first (flatten order), then the registration slots that hold
// a binding now. Metrics and latency reports label per-slot numbers with it.
import type { DestinationRecord } from '../dispatch/list-file.js';
import { buildSets } from '../dispatch/sets.js';
import { flatten } from '../proxy/targets.js';
import type { BindingTable } from '../shared/binding-table.js';

export interface DestLabel {
  slot: number;
  set: number;
  uri: string;
}

export function destLabels(records: readonly DestinationRecord[], tableCount: number, bindings?: BindingTable): DestLabel[] {
  const listed = flatten(buildSets(records)).map((d) => ({ slot: d.slot, set: d.setId, uri: d.uri }));
  // the binding slots are the table's last entries
  const base = tableCount - (bindings?.slots ?? 0);
  const live = (bindings?.all() ?? []).map((b) => ({ slot: base + b.slot, set: b.setId, uri: b.uri }));
  return [...listed, ...live];
}
