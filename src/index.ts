// The public API of the siplb package.
export { createParser } from './parser/index.js';
export type * from './parser/types.js';
export {
  ERROR_CODES,
  SiplbConfigError,
  SiplbError,
  SiplbStaleMessageError,
  SiplbUsageError,
  SiplbWasmError,
  type ErrorCodeInfo,
  type SiplbErrorCode,
} from './errors.js';
