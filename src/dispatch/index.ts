// The dispatcher's public surface: list parsing, sets, states, keys and selection. Pure code that
// belongs to no thread; the dispatch worker and the admin import it from here.
export { parseDispatcherList, makeDestinationRecord, MAX_LINE } from './list-file.js';
export type { DestinationRecord, ParsedList, RecordResult, DestinationAttrs, DestinationTransport } from './list-file.js';
export { parseDestinationUri } from './dest-uri.js';
export { parseAttrs } from './attrs.js';
export { buildSets, buildWeightTable, buildRelativeWeightTable, shuffle100 } from './sets.js';
export type { Destination, DestinationSet, Rng } from './sets.js';
export * from '../shared/dest-state.js';
export { select, createSetRuntime, keyHash, ALGORITHMS } from './algorithms.js';
export type { SetRuntime, SelectOptions, DestReader } from './algorithms.js';
export { relativeWeights, latencyOrder, leastLoaded } from './state-algorithms.js';
export { ocSetAttrs, ocList, OC_DEFAULT_VALIDITY_MS } from './overload-control.js';
export type { OcReport, OcRow, OverloadSlots } from './overload-control.js';
export { dsHash, hrwScore } from './hash.js';
export { hashKey, uriKey, compileTemplate, renderTemplate, digestUsername, TEMPLATE_FIELDS } from './keys.js';
export type { SelectInput, KeyOptions, CompiledTemplate } from './keys.js';
export { rewriteUser, rewritesUser } from './rewrite.js';
