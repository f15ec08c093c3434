/**
 * Same-floats check for kernel refactors: builds the MNIST lesson network
 * (with and without batch norm), runs a few Adam steps on fixed seeded data,
 * and hashes every gradient, parameter and moving statistic after each step
 * plus the inference outputs, on each backend ('wasm', 'js') and thread
 * count (1, 2). A kernel move must leave every hash unchanged.
 *
 *   npx tsx bench/float-hashes.ts          print the hashes
 *   npx tsx bench/float-hashes.ts --check  compare with bench/float-hashes.json (exit 1 on a difference)
 *   npx tsx bench/float-hashes.ts --write  rewrite bench/float-hashes.json
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Adam, noGrad, randomNormal, randomUniform, ready, setBackend, setThreads, sigmoidCrossEntropyWithLogits, Tensor, wasmAvailable,
} from '../src/index.js';
import { lessonNetwork } from '../examples/mnist/lesson-network.js';

const STEPS = 3;
const BATCH = 8;

function digest(arrays: Iterable<Float32Array>): string {
  const h = createHash('sha256');
  for (const a of arrays) h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  return h.digest('hex').slice(0, 16);
}

function run(batchNorm: boolean): string {
  const model = lessonNetwork({ batchNorm, seed: 7 });
  const x = randomUniform([BATCH, 28, 28, 1], { seed: 11 });
  const labels = new Float32Array(BATCH * 10);
  for (let i = 0; i < BATCH; i++) labels[i * 10 + ((i * 7) % 10)] = 1;
  const y = new Tensor(labels, [BATCH, 10]);
  const optimizer = new Adam({ learningRate: 1e-3 });
  const h = createHash('sha256');
  for (let s = 0; s < STEPS; s++) {
    const params = model.parameters();
    for (const p of params) p.grad = null;
    const out = model.call(x, { isTraining: true });
    sigmoidCrossEntropyWithLogits(y, out).backward();
    h.update(digest(params.map((p) => p.grad!.data)));
    optimizer.step(params);
    h.update(digest([...model.stateDict().values()].map((t) => t.data)));
  }
  const test = randomNormal([BATCH, 28, 28, 1], { seed: 12 });
  const inference = noGrad(() => model.call(test, { isTraining: false }));
  h.update(digest([inference.data]));
  return h.digest('hex').slice(0, 16);
}

const results: Record<string, string> = {};
for (const which of wasmAvailable() ? (['wasm', 'js'] as const) : (['js'] as const)) {
  for (const threads of [1, 2] as const) {
    setBackend(which);
    setThreads(threads);
    if (threads === 2) await ready();
    for (const batchNorm of [true, false]) {
      const key = `${which}/${threads}t/${batchNorm ? 'bn' : 'bias'}`;
      results[key] = run(batchNorm);
      console.log(`${key.padEnd(14)} ${results[key]}`);
    }
  }
}

const file = join(dirname(fileURLToPath(import.meta.url)), 'float-hashes.json');
if (process.argv.includes('--write')) writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
if (process.argv.includes('--check')) {
  const want = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
  const bad = Object.keys(want).filter((k) => results[k] !== want[k]);
  if (bad.length > 0) {
    console.error(`changed: ${bad.join(', ')}`);
    process.exit(1);
  }
  console.log('all hashes unchanged');
}
