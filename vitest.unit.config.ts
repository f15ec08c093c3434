import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the fast loop to run while editing. Everything in
 * test/ except SLOW_TESTS, which spawn processes, rebuild the wasm module or
 * take several seconds each; `npm test` (vitest.config.ts) still runs
 * everything, one isolated module graph per file, and CI runs `npm test`.
 * A test file that spawns a process or needs more than a second or two
 * belongs on this list. (The exception is test/tensor/kernels/gemm-wasm.test.ts,
 * the wasm GEMM's correctness test: it stays in, although two of its cases
 * spawn node to check that the helper thread lets a process end.)
 *
 * Most of the CPU time of an isolated run goes into importing the library
 * afresh for every file, so the `unit` project runs its files without
 * isolation, in worker threads that share one module graph (a third of the
 * CPU time of the isolated run). Files that mock modules or change
 * process-wide state (the backend, the thread count, the wasm limits) would
 * leak into the files after them, and a file that measures the heap would
 * see theirs, so those run isolated in `unit-isolated`: add a file to
 * ISOLATED_TESTS when it does any of these.
 */
export const SLOW_TESTS = [
  'test/examples/**', // end-to-end CLI runs of the examples (spawn npx tsx, train on MNIST)
  'test/bench/**', // bench smoke test
  'test/tensor/kernels/kernels-wasm-build.test.ts', // rebuilds the wasm module with AssemblyScript
  'test/scripts/ensure-deps.test.ts', // spawns node once per case
  'test/train/checkpoint-files.test.ts', // spawns node to write into FIFOs and devices
  'test/docs/snippets.test.ts', // type-checks every docs block with a full TypeScript program
];

export const ISOLATED_TESTS = [
  'test/data/mnist-missing.test.ts', // vi.mock('node:module')
  'test/tensor/kernels/backend.test.ts', // setBackend / setThreads
  'test/tensor/kernels/batch-norm-wasm.test.ts',
  'test/tensor/kernels/conv2d-empty-batch.test.ts',
  'test/tensor/kernels/conv2d-wasm.test.ts',
  'test/tensor/kernels/conv2d.test.ts',
  'test/tensor/kernels/gemm-wasm.test.ts', // also setWasmLimits
  'test/tensor/kernels/gemm.test.ts',
  'test/tensor/kernels/nan-propagation.test.ts',
  'test/train/fit.test.ts', // measures heap growth, which other files' garbage in a shared heap disturbs
];

const shared = { testTimeout: base.test!.testTimeout };

export default defineConfig({
  test: {
    // Console output only: .vitest-report.json stays the report of the full run.
    reporters: ['default'],
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          include: base.test!.include,
          exclude: [...configDefaults.exclude, ...SLOW_TESTS, ...ISOLATED_TESTS],
          isolate: false,
          pool: 'threads',
        },
      },
      {
        test: {
          ...shared,
          name: 'unit-isolated',
          include: ISOLATED_TESTS,
          exclude: [...configDefaults.exclude, ...SLOW_TESTS],
        },
      },
    ],
  },
});
