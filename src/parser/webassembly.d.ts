// The slice of the WebAssembly JS API the parser loader uses. @types/node 20 does not declare the
// WebAssembly global, and the DOM lib would bring browser globals into a server codebase.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: BufferSource);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
  }
  type BufferSource = ArrayBufferView | ArrayBuffer;
}
