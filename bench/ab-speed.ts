/**
 * A/B timings of the issue-19 levers, in one process, interleaved (ABBA...,
 * medians), so a slow minute of the shared host hurts both sides:
 *
 *   npx tsx bench/ab-speed.ts fusion   lesson-network inference b64: fused [Conv2d, BN, ReLU] vs conv then BN+ReLU
 *   npx tsx bench/ab-speed.ts adam     Adam's update over the lesson network's parameters: TS reference vs WebAssembly
 *
 * Prints the medians and the ratio B/A; results go to docs/speed.md.
 */
import { BatchNorm, noGrad, randomUniform, ready, setBackend, setThreads, type Layer, type Tensor } from '../src/index.js';
import { lessonNetwork } from '../examples/mnist/lesson-network.js';
import { adamUpdate } from '../src/optim/adam.js';
import { adamRowsWasm } from '../src/tensor/kernels/wasm/adam-wasm.js';
import type { AdamSlot } from '../src/optim/adam.js';
import type { Slots } from '../src/optim/optimizer.js';

/** adamUpdate's WebAssembly twin with its signature: the step counter and bias corrections here, the elementwise update in adamRowsWasm. */
function adamUpdateWasm(w: Float32Array, g: Float32Array, s: Slots<AdamSlot>, lr: number, b1: number, b2: number, eps: number, shrink: number): void {
  const t = s.step[0]! + 1;
  s.step[0] = t;
  adamRowsWasm(w, g, s.m, s.v, lr, b1, b2, eps, shrink, 1 / (1 - b1 ** t), 1 / (1 - b2 ** t));
}


const median = (a: number[]): number => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)]!;

function ab(name: string, a: () => void, b: () => void, rounds: number): void {
  for (let i = 0; i < 3; i++) { a(); b(); }
  const ta: number[] = [];
  const tb: number[] = [];
  const time = (f: () => void, into: number[]): void => {
    const t = performance.now();
    f();
    into.push(performance.now() - t);
  };
  for (let i = 0; i < rounds; i++) {
    // ABBA...: neither side always runs right after the other
    if (i % 2 === 0) { time(a, ta); time(b, tb); } else { time(b, tb); time(a, ta); }
  }
  const [ma, mb] = [median(ta), median(tb)];
  console.log(`${name}: A ${ma.toFixed(3)} ms, B ${mb.toFixed(3)} ms, A/B ${(ma / mb).toFixed(3)} (B is ${((ma / mb - 1) * 100).toFixed(1)}% faster)`);
}

/** The plan before the fusion: each conv alone, then BN with the ReLU fused in, then the rest. */
function unfused(layers: readonly Layer[], x: Tensor): Tensor {
  let y = x;
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i]!;
    if (l instanceof BatchNorm && layers[i + 1]?.kind === 'relu') {
      y = l.callWithActivation(y, { isTraining: false }, 'relu');
      i++;
    } else {
      y = l.call(y, { isTraining: false });
    }
  }
  return y;
}

async function fusion(): Promise<void> {
  await ready();
  for (const [b, threads] of [['wasm', 2], ['wasm', 1], ['js', 1]] as const) {
    setBackend(b);
    setThreads(threads);
    for (const batch of [64, 1]) {
      const model = lessonNetwork({ batchNorm: true, seed: 1 });
      const x = randomUniform([batch, 28, 28, 1], { seed: 2 });
      model.call(randomUniform([2, 28, 28, 1], { seed: 3 }), { isTraining: true }); // builds the weights
      ab(`inference b${batch} ${b} ${threads}t: A unfused, B fused`,
        () => noGrad(() => unfused(model.layers, x)), () => noGrad(() => model.call(x, { isTraining: false })), b === 'js' ? 9 : batch === 1 ? 200 : 40);
    }
  }
}

async function adam(): Promise<void> {
  await ready();
  const model = lessonNetwork({ batchNorm: true, seed: 1 });
  model.call(randomUniform([2, 28, 28, 1], { seed: 3 }), { isTraining: true });
  const state = () => model.parameters().map((p) => ({
    w: Float32Array.from(p.data), g: p.data.map((_, i) => Math.sin(i) * 1e-2),
    s: { m: new Float32Array(p.size), v: new Float32Array(p.size), step: new Float32Array(1) },
  }));
  const [a, b] = [state(), state()];
  const evict = new Float32Array(4 << 20); // 16 MB written between runs: the arrays come from memory, as after a backward pass
  ab('Adam update, lesson network parameters: A TypeScript, B WebAssembly',
    () => { evict.fill(1); for (const p of a) adamUpdate(p.w, p.g, p.s, 1e-3, 0.9, 0.999, 1e-7, 1); },
    () => { evict.fill(2); for (const p of b) adamUpdateWasm(p.w, p.g, p.s, 1e-3, 0.9, 0.999, 1e-7, 1); }, 60);
}

const which = process.argv[2];
if (which === 'fusion') await fusion();
else if (which === 'adam') await adam();
else throw new Error('usage: npx tsx bench/ab-speed.ts fusion|adam');
