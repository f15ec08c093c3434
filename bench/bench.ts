/**
 * normgrad's benchmark: `npm run bench` (tsx bench/bench.ts).
 *
 *   npx tsx bench/bench.ts                  normgrad alone (~40 s on 2 cores)
 *   npx tsx bench/bench.ts --quick          a smoke run: few, short samples
 *   npx tsx bench/bench.ts --vs tfjs        side by side with TensorFlow.js 4.22,
 *                                           cpu and wasm backends (~7 minutes: the
 *                                           cpu backend needs 30-80 s per training
 *                                           step and ~1 min per filter gradient)
 *   --vs tfjs-cpu | --vs tfjs-wasm          one backend only
 *   --vs torch                              PyTorch on 1 and 2 threads, in a python3
 *                                           that imports torch (/usr/bin/python3 is
 *                                           tried first; $NORMGRAD_TORCH_PYTHON wins);
 *                                           "n/a: no python3 with torch" otherwise
 *   --vs ort                                onnxruntime-web (wasm), inference rows,
 *                                           the better of numThreads 1 and 2
 *   --rounds <n>                            engines in turn n times (default 2: ABAB)
 *   --json <file>                           where the results go (default out/bench.json)
 *   --tiny                                  tiny sizes (what the smoke test runs)
 *
 * What it measures, each as median (min-max) over repeated samples after a
 * warm-up:
 *   - GEMM GFLOP/s: square 64..1024, and the forward im2col GEMMs of six
 *     lesson-network layers (M = batch*oh*ow, K = 9*cin, N = cout); square
 *     256 and 1024 also in plain TypeScript (gemmJs) and on one WebAssembly
 *     thread, the single-core figures (TF.js runs its usual matMul there);
 *   - conv2d [64,28,28,16] -> 32, 3x3 SAME: forward, input gradient and
 *     kernel gradient GFLOP/s (2*N*H*W*Cin*Cout*9 FLOPs each);
 *   - batch norm training forward + backward on [64,14,14,20], GB/s at a
 *     fixed 5 float32 transfers per element;
 *   - the lesson network (examples/mnist/lesson-network.ts, BN on): ms per
 *     training step at batch 64 and per inference at batch 64 and 1, with
 *     the GFLOP/s they achieve (bench/flops.ts states the count).
 * With --vs tfjs, every row is repeated in TensorFlow.js with the same inputs
 * and weights, with a normgrad/TF.js ratio column; rows a backend cannot run
 * say "n/a: <reason>". PyTorch runs the network rows (training step, inference
 * at the batch and at 1), onnxruntime-web the inference rows, both from
 * normgrad's own export of the same weights (bench/torch-rows.ts,
 * bench/ort-rows.ts). Before timing, one training-mode forward + backward of
 * the network runs in every training engine from the same weights on the same
 * batch: the losses (and the first conv kernel's gradient norm) must agree;
 * onnxruntime-web's inference outputs must match normgrad's. A failed check
 * exits with status 1 (PyTorch and onnxruntime-web are then not timed).
 * Engines are timed in turn, twice (ABAB), so a slow minute of a shared
 * machine hurts all of them; each cell keeps its better round.
 *
 * Reading it: GFLOP/s and GB/s are higher-is-better, ms lower-is-better; a
 * wide min-max range means a noisy machine. The markdown table can be pasted
 * into the README. The JSON holds every number, the machine, the layer
 * shapes and the FLOP counts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBench } from './run-bench.js';
import { formatReport } from './table.js';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      vs: { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '2' },
      json: { type: 'string', default: 'out/bench.json' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: tsx bench/bench.ts [--quick] [--tiny] [--vs tfjs|tfjs-cpu|tfjs-wasm|torch|ort]... [--rounds 2] [--json out/bench.json]');
    return 0;
  }
  const rounds = Number(values.rounds);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`bench: --rounds must be a positive integer, got '${values.rounds}'`);
  const result = await runBench({
    quick: values.quick, tiny: values.tiny, vs: values.vs, rounds,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  console.log(formatReport(result));
  const file = path.resolve(values.json);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nResults written to ${path.relative(process.cwd(), file) || file}`);
  if (result.lossCheck && !result.lossCheck.ok) {
    console.error('bench: the engines disagree on the agreement check (see above)');
    return 1;
  }
  return 0;
}

main().then((code) => {
  process.exitCode = code;
}, (e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
