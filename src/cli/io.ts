// What a CLI command may touch: three streams and an exit code. Commands take a CliIo instead of
// `process` so tests can run them in-process and see both stdout and stderr.
import { buffer } from 'node:stream/consumers';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** All of stdin, as raw bytes. */
  readonly stdin: () => Promise<Buffer>;
}

export const EXIT_OK = 0;
/** `siplb parse`: the message is malformed. Other commands: siplb failed (e.g. the wasm module). */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The real process streams. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdin: () => buffer(process.stdin),
  };
}
