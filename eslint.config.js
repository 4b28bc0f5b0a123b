// ESLint flat config. Type-aware rules for TypeScript (src, test, bench, vitest.config.ts), plain
// recommended rules for the JavaScript around it (scripts/*.mjs, bin/, this file).
//
// The thread boundaries of STYLE.md ("each folder belongs to one thread, or to none") are enforced
// here rather than by memory:
//   - only src/transport/** (main thread) opens sockets: node:dgram;
//   - only files named worker.ts touch parentPort / workerData;
//   - src/sip, src/dispatch, src/config, src/shared belong to no thread: no node:dgram and nothing
//     from node:worker_threads except types.
// Flat config replaces a rule's options per block instead of merging them, so each block below
// carries the whole list for its files, and the more specific blocks come later.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const DGRAM = ['node:dgram', 'dgram'].map((name) => ({
  name,
  message: 'Only src/transport/** (main thread) may use UDP sockets (STYLE.md, Layout).',
}));

const WORKER_IO = ['node:worker_threads', 'worker_threads'].map((name) => ({
  name,
  importNames: ['parentPort', 'workerData'],
  message: 'Only files named worker.ts may touch parentPort/workerData (STYLE.md, Layout).',
}));

const NO_THREAD = ['node:worker_threads', 'worker_threads'].map((name) => ({
  name,
  allowTypeImports: true,
  message: 'src/sip, src/dispatch, src/config and src/shared belong to no thread: no worker_threads I/O.',
}));

/** One rule entry with the complete list of restricted paths for a block. */
const restrict = (...paths) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': ['error', { paths: paths.flat() }],
});

const WORKER_FILES = ['src/**/worker.ts'];
const NO_THREAD_DIRS = ['src/sip/**/*.ts', 'src/dispatch/**/*.ts', 'src/config/**/*.ts', 'src/shared/**/*.ts'];

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'coverage/**',
      'node_modules/**',
      'wasm/build/**',
      // AssemblyScript: i32, load/store and decorators are not TypeScript that typescript-eslint can type.
      'wasm/assembly/**',
      '**/*.generated.ts',
      'bench/results/**',
      // Node.js 24 for CI's second run (scripts/install-node24.sh), not ours to lint.
      '.node24/**',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.node },
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // JavaScript is not in tsconfig.json: lint it without type information.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },

  // ---- Thread boundaries (src only; tests and benchmarks may start sockets and workers) ----
  {
    // Every thread-owned file outside transport/: no sockets, no worker globals.
    files: ['src/**/*.ts'],
    ignores: [...WORKER_FILES, 'src/transport/**'],
    rules: restrict(DGRAM, WORKER_IO),
  },
  {
    // The demo media server (siplb demo) is a stand-alone UAS peer with its own socket, not a proxy thread.
    files: ['src/demo/**/*.ts'],
    rules: restrict(WORKER_IO),
  },
  {
    // A worker entry outside transport/ may read parentPort/workerData, still no sockets.
    files: WORKER_FILES,
    ignores: ['src/transport/**'],
    rules: restrict(DGRAM),
  },
  {
    // transport/ owns the sockets; worker globals stay in worker.ts files.
    files: ['src/transport/**/*.ts'],
    ignores: WORKER_FILES,
    rules: restrict(WORKER_IO),
  },
  {
    // Folders that belong to no thread, worker.ts or not.
    files: NO_THREAD_DIRS,
    rules: restrict(DGRAM, NO_THREAD),
  },
);
