// Every error siplb throws. One base class with a stable `code`, one subclass per condition, and
// ERROR_CODES listing each code with the line the README's "Error codes" table shows (a unit test
// keeps the two in step). Exceptions are for configuration, usage and programmer errors only:
// malformed SIP is data, returned as a ParseError and counted, never thrown (STYLE.md, habit 8).

export type SiplbErrorCode =
  | 'SIPLB_ERR_USAGE'
  | 'SIPLB_ERR_CONFIG'
  | 'SIPLB_ERR_BIND'
  | 'SIPLB_ERR_WASM'
  | 'SIPLB_ERR_STALE_MESSAGE'
  | 'SIPLB_ERR_CTL'
  | 'SIPLB_ERR_RELOAD'
  | 'SIPLB_ERR_DB';

export interface ErrorCodeInfo {
  readonly code: SiplbErrorCode;
  readonly description: string;
}

const CODES: ErrorCodeInfo[] = [
  { code: 'SIPLB_ERR_USAGE', description: 'The command line is wrong: unknown command or flag, missing or unreadable file.' },
  { code: 'SIPLB_ERR_CONFIG', description: 'A SIPLB_* environment variable or config value is invalid; the message names it and the accepted values.' },
  {
    code: 'SIPLB_ERR_BIND',
    description: 'A listening address cannot be bound: the port is in use, the address is not on this host, or the port is privileged; the message names the variable and the address.',
  },
  { code: 'SIPLB_ERR_WASM', description: 'The WebAssembly parser module could not be loaded, compiled or instantiated.' },
  {
    code: 'SIPLB_ERR_STALE_MESSAGE',
    description: 'A parsed message was read after its parser parsed the next datagram; call message.detach() to keep one.',
  },
  { code: 'SIPLB_ERR_RELOAD', description: 'A reload, dispatcher.add or dispatcher.remove was refused (bad list, unreadable source, too soon, no room); the list in service stays, and the message says why.' },
  { code: 'SIPLB_ERR_CTL', description: '`siplb ctl` found no siplb on SIPLB_ADMIN, was refused (401: SIPLB_ADMIN_TOKEN), got an answer it could not read, or the method answered an error; the message says which.' },
  {
    code: 'SIPLB_ERR_DB',
    description: 'The database of SIPLB_DB_URL cannot be reached or read: connection refused or timed out, login refused, no such table or column; the message names the variable, host, port and the server\'s error code.',
  },
];

/** Every code with a one-line description, in the order the README lists them. */
export const ERROR_CODES: readonly ErrorCodeInfo[] = Object.freeze(CODES.map((info) => Object.freeze(info)));

/** Base class: `code` is stable across releases, `message` is for people. */
export class SiplbError extends Error {
  readonly code: SiplbErrorCode;

  constructor(code: SiplbErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The command line is wrong. The CLI prints the message with the usage text and exits 2. */
export class SiplbUsageError extends SiplbError {
  constructor(message: string, options?: ErrorOptions) {
    super('SIPLB_ERR_USAGE', message, options);
  }
}

/** A configuration value is invalid. `variable` names it (e.g. "SIPLB_WORKERS"). */
export class SiplbConfigError extends SiplbError {
  readonly variable: string;

  constructor(variable: string, message: string, options?: ErrorOptions) {
    super('SIPLB_ERR_CONFIG', `${variable}: ${message}`, options);
    this.variable = variable;
  }
}

/** Why bind(2) failed, in words, for the errno codes an operator meets; anything else keeps its code only. */
const BIND_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available on this host',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
};

/**
 * A listening socket could not be bound. `variable` names the setting that asked for it
 * (SIPLB_LISTEN), `address` is written as the setting writes it (udp:127.0.0.1:5060), `errno` is
 * the system's code (EADDRINUSE, EADDRNOTAVAIL, EACCES, ...).
 */
export class SiplbBindError extends SiplbError {
  readonly variable: string;
  readonly address: string;
  readonly errno: string;

  constructor(variable: string, address: string, errno: string, options?: ErrorOptions) {
    const reason = BIND_REASONS[errno] ?? 'bind failed';
    super('SIPLB_ERR_BIND', `${variable}: cannot bind ${address}: ${reason} (${errno})`, options);
    this.variable = variable;
    this.address = address;
    this.errno = errno;
  }
}

/** The wasm parser failed to load or instantiate; `cause` holds the underlying error. */
export class SiplbWasmError extends SiplbError {
  constructor(message: string, options?: ErrorOptions) {
    super('SIPLB_ERR_WASM', message, options);
  }
}

/**
 * A message view was read after its parser moved on to the next datagram: the span table it reads
 * from now describes other bytes. Thrown instead of returning fields of the wrong message.
 */
export class SiplbStaleMessageError extends SiplbError {
  constructor(
    message = 'this message was read after its parser parsed the next datagram; call message.detach() to keep it',
    options?: ErrorOptions,
  ) {
    super('SIPLB_ERR_STALE_MESSAGE', message, options);
  }
}

/** `siplb ctl` could not reach the control channel (SIPLB_ADMIN) or could not read its answer. */
export class SiplbCtlError extends SiplbError {
  constructor(message: string, options?: ErrorOptions) {
    super('SIPLB_ERR_CTL', message, options);
  }
}

/** A new list was refused; the one in service stays. */
export class SiplbReloadError extends SiplbError {
  constructor(message: string, options?: ErrorOptions) {
    super('SIPLB_ERR_RELOAD', message, options);
  }
}

/**
 * The destination database (SIPLB_DB_URL) could not be reached or read. `variable` names the
 * setting to look at (SIPLB_DB_URL, SIPLB_DB_TABLE, SIPLB_DB_COLUMNS); `reason` is the driver's or
 * the server's error code (ECONNREFUSED, 28P01, ER_NO_SUCH_TABLE, ...). The message never holds
 * the password.
 */
export class SiplbDbError extends SiplbError {
  readonly variable: string;
  readonly reason: string;

  constructor(variable: string, message: string, reason: string, options?: ErrorOptions) {
    super('SIPLB_ERR_DB', `${variable}: ${message}`, options);
    this.variable = variable;
    this.reason = reason;
  }
}
