import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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
 * see theirs, so those run isolated in `unit-isolated` (ISOLATED_TESTS finds
 * them by what they call).
 */
export const SLOW_TESTS = [
  'test/examples/**', // end-to-end CLI runs of the examples (spawn npx tsx, train on MNIST)
  'test/bench/**', // bench smoke test
  'test/tensor/kernels/kernels-wasm-build.test.ts', // rebuilds the wasm module with AssemblyScript
  'test/scripts/ensure-deps.test.ts', // spawns node once per case
  'test/train/checkpoint-files.test.ts', // spawns node to write into FIFOs and devices
  'test/docs/snippets.test.ts', // type-checks every docs block with a full TypeScript program
  'test/demo/**', // builds the demo and trains it in headless Chromium
  'test/browser/**', // bundles pages and drives headless Chromium
  'test/package/**', // npm pack, fresh consumer projects, tsc, esbuild, Chromium
  'test/interop/pytorch*.test.ts', // spawn python3 with torch
  'test/interop/onnx*.test.ts', // load every export into onnxruntime-web's WebAssembly runtime
];

/**
 * Found, not listed: a file that changes process-wide state (the backend, the
 * thread count, the wasm limits, the runtime's test delays), mocks modules,
 * or says `@isolated` in a comment (fit.test.ts: it measures heap growth).
 */
const CHANGES_GLOBAL_STATE = /\b(setBackend|setThreads|setGemmBackend|setGemmThreads|setWasmLimits|setGemmWasmLimits|setTestDelays|vi\.mock|vi\.spyOn|vi\.stubGlobal)\b|@isolated/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? testFiles(join(dir, e.name)) : e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

export const ISOLATED_TESTS = testFiles('test').filter((f) => CHANGES_GLOBAL_STATE.test(readFileSync(f, 'utf8')));

const shared = { testTimeout: base.test!.testTimeout, hookTimeout: base.test!.hookTimeout };

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
          pool: 'threads', // still one module graph per file, without a process per file
        },
      },
    ],
  },
});
