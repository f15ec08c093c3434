/**
 * TensorFlow.js 4.22's side of every case, on its `cpu` (plain JS) and
 * `wasm` (XNNPACK; SIMD, threads when the platform allows) backends. Both
 * run synchronously; every timed call reads its result back (dataSync), as
 * normgrad's result is a Float32Array. A case TF.js cannot run (a kernel the
 * backend lacks) becomes an "n/a" cell with the error's first line.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { Sequential } from '../src/index.js';
import { caseInputs, caseTiming, type BenchCase, type CaseSpec } from './cases.js';
import type { NetworkShapes } from './flops.js';
import type { EngineCheck } from './loss-check.js';
import { LEARNING_RATE, reasonOf, type Cell } from './normgrad-rows.js';
import { lossCheck, sigmoidCrossEntropy, tfNetwork, trainStep, type TfNetwork } from './tfjs-network.js';
import { measure, type TimingOptions } from './timing.js';

export type TfjsBackend = 'cpu' | 'wasm';

export interface TfjsLesson {
  model: Sequential;
  shapes: NetworkShapes;
  /** The model's weights and statistics before any timed step. */
  snapshot: Map<string, Float32Array>;
  x: Float32Array;
  y: Float32Array;
  batch: number;
}


export interface TfjsResult {
  cells: Map<string, Cell>;
  check: EngineCheck;
  /** e.g. "wasm: SIMD yes, threads no". */
  info: string;
}

/** null once initialized fine, else why the gradients could not be registered. */
let gradientProblem: string | null | undefined;

function initTfjs(): void {
  if (gradientProblem !== undefined) return;
  // Production mode drops TF.js's debug checks and its "install tfjs-node" notice.
  tf.enableProdMode();
  const require = createRequire(import.meta.url);
  // The .wasm binaries ship next to the backend's main file; a directory path ending in '/'.
  setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  // tfjs-core's Node bundle registers no gradients (the @tensorflow/tfjs union
  // package does). Its ES-module source does, in register_all_gradients.js;
  // tsx's require hook compiles it. The gradients land in TF.js's global
  // registry, shared by every copy of tfjs-core. Without them every
  // gradient row is "n/a".
  try {
    require('@tensorflow/tfjs-core/dist/register_all_gradients.js');
    gradientProblem = null;
  } catch (e) {
    gradientProblem = reasonOf(e);
  }
}

export async function tfjsCells(
  backend: TfjsBackend, cases: readonly BenchCase[], lesson: TfjsLesson,
  timing: TimingOptions, log: (s: string) => void,
  /** Cases not to time (the second ABAB round skips slow and failed ones); skipping 'train-step' skips the loss check too. */
  skip: ReadonlySet<string> = new Set(),
): Promise<TfjsResult> {
  initTfjs();
  const cells = new Map<string, Cell>();
  let ok = false;
  let failure = 'setBackend returned false';
  try {
    ok = await tf.setBackend(backend);
    await tf.ready();
  } catch (e) {
    failure = reasonOf(e);
  }
  if (!ok) {
    for (const c of cases) cells.set(c.id, { ok: false, reason: `backend '${backend}' failed to start: ${failure}` });
    return { cells, check: { loss: null, gradNorm: null, reason: failure }, info: `${backend}: failed to start` };
  }
  const info = backend === 'wasm'
    ? `wasm: SIMD ${yes(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'))}, threads ${yes(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'))}`
    : 'cpu: plain JavaScript kernels';
  const gradients = gradientProblem === null ? '' : ` (gradients not registered: ${gradientProblem})`;

  const net = tfNetwork(lesson.model, lesson.shapes, lesson.snapshot, `bench-${backend}`);
  const x = tf.tensor4d(lesson.x, [lesson.batch, 28, 28, 1]);
  const y = tf.tensor2d(lesson.y, [lesson.batch, 10]);
  const lossOf = (): tf.Scalar => sigmoidCrossEntropy(y, net.forward(x, true));
  try {
    const t0 = performance.now();
    const check = skip.has('train-step') ? { loss: null, gradNorm: null, reason: 'not checked in this round' } : lossCheck(net, lossOf);
    const checkMs = performance.now() - t0;
    // The check was one forward + backward: it serves as the training step's
    // warm-up, and a slow one (cpu, ~30 s) is timed only once or twice more.
    const slow = checkMs > timing.slowCallMs;
    const trainTiming: TimingOptions = slow ? { ...timing, runs: timing.slowRuns, minWarmup: 0, warmupMs: 0 } : timing;
    const optimizer = tf.train.adam(LEARNING_RATE);
    for (const c of cases) {
      if (skip.has(c.id)) continue;
      const isTrain = c.spec.kind === 'train-step';
      let cell: Cell;
      const before = tf.memory().numTensors;
      const inputs: tf.Tensor[] = [];
      try {
        const fn = isTrain ? trainStep(optimizer, net, lossOf) : callFor(c.spec, net, x, inputs);
        const time = measure(fn, isTrain ? trainTiming : caseTiming(c, timing));
        const note = `slow: ${time.runs} run${time.runs > 1 ? 's' : ''} after one warm-up (the loss check's forward + backward)`;
        cell = isTrain && slow ? { ok: true, time, note } : { ok: true, time };
      } catch (e) {
        cell = { ok: false, reason: reasonOf(e) };
      }
      tf.dispose(inputs);
      // Adam's slots (2 per variable) are created by the first step and kept.
      // (A failed gradient leaks the tensors TF.js saved for it; not reported.)
      const leaked = tf.memory().numTensors - before - (isTrain ? 2 * net.variables.length : 0);
      if (cell.ok && leaked > 0) log(`  warning: tfjs-${backend} ${c.id} left ${leaked} tensors behind`);
      cells.set(c.id, cell);
      log(`  tfjs-${backend} ${c.label}: ${cell.ok ? `${cell.time.median.toFixed(3)} ms` : `n/a: ${cell.reason}`}`);
    }
    optimizer.dispose();
    return { cells, check, info: info + gradients };
  } finally {
    net.dispose();
    x.dispose();
    y.dispose();
  }
}

function yes(flag: unknown): string {
  return flag ? 'yes' : 'no';
}

/** The timed call of a kernel or inference case; the tensors it creates go into `inputs`. */
function callFor(spec: CaseSpec, net: TfNetwork, lessonX: tf.Tensor4D, inputs: tf.Tensor[]): () => void {
  const keep = <T extends tf.Tensor>(t: T): T => (inputs.push(t), t);
  const run = (f: () => tf.Tensor | tf.Tensor[]): (() => void) => () => {
    const out = tf.tidy(f);
    const outs = Array.isArray(out) ? out : [out];
    for (const t of outs) t.dataSync();
    tf.dispose(outs);
  };
  switch (spec.kind) {
    case 'gemm': {
      const { a, b } = caseInputs(spec);
      const ta = keep(tf.tensor2d(a!, [spec.m, spec.k]));
      const tb = keep(tf.tensor2d(b!, [spec.k, spec.n]));
      return run(() => tf.matMul(ta, tb));
    }
    case 'conv-forward':
    case 'conv-input-grad':
    case 'conv-kernel-grad': {
      const { x: xs, kernel: ks, dy: dys } = caseInputs(spec);
      const [n, h, w] = spec.input;
      const x = keep(tf.tensor4d(xs!, spec.input));
      const k = keep(tf.tensor4d(ks!, spec.kernel));
      const dy = keep(tf.tensor4d(dys!, [n, h, w, spec.kernel[3]]));
      if (spec.kind === 'conv-forward') return run(() => tf.conv2d(x, k, 1, 'same'));
      // conv2dTranspose is TF.js's public name for Conv2DBackpropInput.
      if (spec.kind === 'conv-input-grad') return run(() => tf.conv2dTranspose(dy, k, spec.input, 1, 'same'));
      // The filter gradient has no public op; its kernel is called directly.
      const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: spec.kernel };
      return run(() => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor);
    }
    case 'bn-train': {
      const { x: xs, gy: gys } = caseInputs(spec);
      const c = spec.shape[3];
      const x = keep(tf.tensor4d(xs!, spec.shape));
      const gy = keep(tf.tensor4d(gys!, spec.shape));
      const gamma = keep(tf.ones([c]));
      const beta = keep(tf.zeros([c]));
      const grads = tf.grads((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
        const { mean, variance } = tf.moments(xi, [0, 1, 2]);
        return tf.batchNorm(xi, mean, variance, b, g, 1e-3);
      });
      return run(() => grads([x, gamma, beta], gy));
    }
    case 'inference': {
      const x = spec.batch === lessonX.shape[0] ? lessonX : keep(tf.slice(lessonX, 0, spec.batch));
      return run(() => net.forward(x, false));
    }
    case 'scalar-peak':
      throw new Error('a probe of the machine, not an engine op');
    case 'train-step':
      throw new Error('train-step is timed by trainStep');
    case 'inference-folded':
      throw new Error('no BN folding in TensorFlow.js');
  }
}
