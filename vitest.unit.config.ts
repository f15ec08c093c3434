import { configDefaults, defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:unit`: the fast loop to run while editing. Everything in
 * test/ except the files below, which spawn processes, rebuild the wasm
 * module or take several seconds each; `npm test` (vitest.config.ts) still
 * runs everything, and CI runs `npm test`. A test file that spawns a process
 * or needs more than a second or two belongs on this list. (The exception is
 * test/tensor/kernels/gemm-wasm.test.ts, the wasm GEMM's correctness test:
 * it stays in, although two of its cases spawn node to check that the
 * helper thread lets a process end.)
 */
export const SLOW_TESTS = [
  'test/examples/**', // end-to-end CLI runs of the examples (spawn npx tsx, train on MNIST)
  'test/bench/**', // bench smoke test
  'test/tensor/kernels/kernels-wasm-build.test.ts', // rebuilds the wasm module with AssemblyScript
  'test/scripts/ensure-deps.test.ts', // spawns node once per case
  'test/train/checkpoint-files.test.ts', // spawns node to write into FIFOs and devices
  'test/docs/snippets.test.ts', // type-checks every docs block with a full TypeScript program
];

export default defineConfig({
  ...base,
  test: {
    ...base.test,
    exclude: [...configDefaults.exclude, ...SLOW_TESTS],
    // Console output only: .vitest-report.json stays the report of the full run.
    reporters: ['default'],
  },
});
