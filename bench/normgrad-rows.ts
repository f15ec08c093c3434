/**
 * normgrad's side of every case. The kernel rows call the kernels directly
 * (gemm into a preallocated C; the three conv2d kernels); batch norm and the
 * network go through the public ops and layers, graph recording included.
 */
import {
  Adam, foldBatchNorm, backward, batchNormTraining, Conv2d, noGrad, sigmoidCrossEntropyWithLogits, Tensor, type Sequential,
} from '../src/index.js';
import { conv2dBackwardInput, conv2dBackwardKernel, conv2dForward, conv2dGeometry } from '../src/tensor/kernels/conv2d.js';
import { gemm, gemmJs } from '../src/tensor/kernels/gemm.js';
import { setThreads, threads as currentThreads } from '../src/tensor/kernels/backend.js';
import { gemmWasm } from '../src/tensor/kernels/wasm/gemm-wasm.js';
import { caseInputs, caseTiming, type BenchCase } from './cases.js';
import { scalarPeak } from './scalar-peak.js';
import { measure, type Stat, type TimingOptions } from './timing.js';

/** One engine's result for one case: a time per call, or why it could not run. */
export type Cell = { ok: true; time: Stat; note?: string } | { ok: false; reason: string };

/** The lesson network with its input batch ([batch,28,28,1] pixels, [batch,10] one-hot labels). */
export interface Lesson {
  model: Sequential;
  x: Float32Array;
  y: Float32Array;
  batch: number;
}

/** Learning rate of the timed Adam steps (the lesson's). */
export const LEARNING_RATE = 0.002;

export function normgradCells(cases: readonly BenchCase[], lesson: Lesson, timing: TimingOptions, log: (s: string) => void): Map<string, Cell> {
  const cells = new Map<string, Cell>();
  const train = trainStep(lesson);
  for (const c of cases) {
    let cell: Cell;
    try {
      cell = { ok: true, time: measure(callFor(c, lesson, train), caseTiming(c, timing)) };
    } catch (e) {
      cell = { ok: false, reason: reasonOf(e) };
    }
    cells.set(c.id, cell);
    log(`  normgrad  ${c.label}: ${cell.ok ? `${cell.time.median.toFixed(3)} ms` : `n/a: ${cell.reason}`}`);
  }
  return cells;
}

export function reasonOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0]!.slice(0, 160);
}

function callFor(c: BenchCase, lesson: Lesson, train: () => void): () => void {
  const spec = c.spec;
  switch (spec.kind) {
    case 'gemm': {
      const { a, b } = caseInputs(spec);
      const out = new Float32Array(spec.m * spec.n);
      if (spec.impl === 'js') return () => gemmJs(a!, b!, out, spec.m, spec.k, spec.n);
      if (spec.impl === 'wasm-1-thread') {
        return () => {
          const threads = currentThreads();
          setThreads(1);
          try {
            gemmWasm(a!, b!, out, spec.m, spec.k, spec.n);
          } finally {
            setThreads(threads);
          }
        };
      }
      return () => gemm(a!, b!, out, spec.m, spec.k, spec.n);
    }
    case 'scalar-peak':
      return () => void scalarPeak(spec.steps);
    case 'conv-forward':
    case 'conv-input-grad':
    case 'conv-kernel-grad': {
      const { x, kernel, dy } = caseInputs(spec);
      const g = conv2dGeometry(spec.input, spec.kernel, 1, 'same');
      if (spec.kind === 'conv-forward') return () => void conv2dForward(x!, kernel!, g);
      if (spec.kind === 'conv-input-grad') return () => void conv2dBackwardInput(dy!, kernel!, g);
      return () => void conv2dBackwardKernel(x!, dy!, g);
    }
    case 'bn-train': {
      const { x: xs, gy } = caseInputs(spec);
      const c = spec.shape[3];
      const x = new Tensor(xs!, spec.shape).requireGrad();
      const gamma = new Tensor(new Float32Array(c).fill(1), [c]).requireGrad();
      const beta = new Tensor(new Float32Array(c), [c]).requireGrad();
      return () => {
        x.grad = gamma.grad = beta.grad = null;
        backward(batchNormTraining(x, gamma, beta, 1e-3).y, { grad: gy! });
      };
    }
    case 'train-step':
      if (spec.batch !== lesson.batch) throw new Error(`train-step: lesson batch is ${lesson.batch}, case wants ${spec.batch}`);
      return train;
    case 'inference': {
      const x = batchOf(lesson, spec.batch);
      return () => void noGrad(() => lesson.model.call(x, { isTraining: false }));
    }
    case 'inference-folded': {
      const x = batchOf(lesson, spec.batch);
      const folded = foldBatchNorm(lesson.model);
      return () => void noGrad(() => folded.call(x, { isTraining: false }));
    }
  }
}

/** The first `batch` examples of the lesson batch as a [batch,28,28,1] tensor. */
function batchOf(lesson: Lesson, batch: number): Tensor {
  return new Tensor(lesson.x.slice(0, batch * 784), [batch, 28, 28, 1]);
}

/**
 * One training step as fit takes it (src/train/fit.ts, trainStep): clear the
 * gradients, forward with isTraining (BN updates its moving statistics),
 * sigmoid cross-entropy mean loss read back, backward, Adam step. fit's
 * bookkeeping (batch gathering, the non-finite guard) is left out.
 */
function trainStep(lesson: Lesson): () => void {
  const x = batchOf(lesson, lesson.batch);
  const y = new Tensor(lesson.y, [lesson.batch, 10]);
  const optimizer = new Adam({ learningRate: LEARNING_RATE });
  return () => {
    const params = lesson.model.parameters();
    for (const p of params) p.grad = null;
    const loss = sigmoidCrossEntropyWithLogits(y, lesson.model.call(x, { isTraining: true }));
    loss.item();
    loss.backward();
    optimizer.step(params);
  };
}

/** The loss of one training-mode forward pass and the L2 norm of dL/d(first conv kernel); no update. */
export function normgradLossAndGrad(lesson: Lesson): { loss: number; gradNorm: number } {
  const model = lesson.model;
  const params = model.parameters();
  for (const p of params) p.grad = null;
  const y = new Tensor(lesson.y, [lesson.batch, 10]);
  const loss = sigmoidCrossEntropyWithLogits(y, model.call(batchOf(lesson, lesson.batch), { isTraining: true }));
  loss.backward();
  const conv = model.layers.find((l): l is Conv2d => l instanceof Conv2d);
  const g = conv?.kernel?.grad?.data;
  if (!g) throw new Error('loss check: the first conv kernel got no gradient');
  const gradNorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
  for (const p of params) p.grad = null;
  return { loss: loss.item(), gradNorm };
}
