/**
 * What the bench measures: the sizes, one `BenchCase` per timed operation
 * (the same list for every engine), and the seeded inputs both engines get.
 */
import { randomNormal, Random } from '../src/index.js';
import { im2colGemmShape, networkFlops, type NetworkShapes } from './flops.js';
import { SCALAR_PEAK_FLOPS_PER_STEP } from './scalar-peak.js';
import type { TimingOptions } from './timing.js';

/**
 * normgrad and its peers: TF.js's two backends, PyTorch on 1 and 2 threads,
 * onnxruntime-web (the better of 1 and 2 wasm threads).
 */
export type Engine = 'normgrad' | 'tfjs-cpu' | 'tfjs-wasm' | 'torch-1thr' | 'torch-2thr' | 'ort';
export type Unit = 'GFLOP/s' | 'GB/s' | 'ms';
export type Shape4 = [number, number, number, number];
/**
 * normgrad's GEMM in a row: the default (WebAssembly SIMD on both cores),
 * plain TypeScript (gemmJs, one core), or WebAssembly on one thread. TF.js
 * runs its own matMul in every case: its cpu backend is plain JavaScript
 * (gemmJs' peer), its wasm backend SIMD on one thread.
 */
export type GemmImpl = 'default' | 'js' | 'wasm-1-thread';

export type CaseSpec =
  | { kind: 'gemm'; m: number; k: number; n: number; impl?: GemmImpl }
  | { kind: 'scalar-peak'; steps: number }
  | { kind: 'conv-forward' | 'conv-input-grad' | 'conv-kernel-grad'; input: Shape4; kernel: Shape4 }
  | { kind: 'bn-train'; shape: Shape4 }
  | { kind: 'train-step' | 'inference' | 'inference-folded'; batch: number };

export interface BenchCase {
  id: string;
  label: string;
  spec: CaseSpec;
  /** FLOPs (or bytes, for GB/s) of one call. */
  work: number;
  /** Units shown, one table row each. */
  units: Unit[];
}

export interface BenchSizes {
  /** Square GEMMs n x n x n. */
  squares: number[];
  /** Square GEMMs also timed in plain TypeScript and on one WebAssembly thread. */
  singleCoreSquares: number[];
  /** Steps of one call of the scalar peak probe (bench/scalar-peak.ts). */
  scalarPeakSteps: number;
  /** 1-based conv layers of the lesson network whose forward im2col GEMM is timed. */
  gemmLayers: number[];
  /** conv2d input [n,h,w,cin] and output channels, 3x3 SAME. */
  conv: { input: Shape4; cout: number };
  /** Batch-norm input [n,h,w,c]. */
  bn: Shape4;
  /** Batch of the training step and the batched inference. */
  batch: number;
}

export const FULL_SIZES: BenchSizes = {
  squares: [64, 256, 512, 1024],
  singleCoreSquares: [256, 1024],
  scalarPeakSteps: 2_000_000,
  gemmLayers: [1, 2, 5, 8, 11, 19],
  conv: { input: [64, 28, 28, 16], cout: 32 },
  bn: [64, 14, 14, 20],
  batch: 64,
};

/** For the smoke test: everything runs, nothing takes time. */
export const TINY_SIZES: BenchSizes = {
  squares: [8, 19],
  singleCoreSquares: [19],
  scalarPeakSteps: 1000,
  gemmLayers: [1, 2, 19],
  conv: { input: [2, 6, 6, 3], cout: 5 },
  bn: [2, 3, 3, 4],
  batch: 2,
};

/**
 * Batch norm's byte count, fixed: 5 float32 transfers per element, the
 * minimum a fused training forward + backward must make:
 *   forward:  read x, write y
 *   backward: read gy, read x (or the saved xHat), write gx
 * Per-channel vectors (mean, invStd, gamma, ...) are not counted, nor the
 * extra passes an implementation makes (normgrad's kernels today read x
 * three times in the forward pass and also write xHat), so the figure is an
 * effective bandwidth, comparable between engines and across versions.
 */
export const BN_BYTES_PER_ELEMENT = 5 * 4;

const fmt = (s: readonly number[]): string => s.join('×');

export function buildCases(sizes: BenchSizes, shapes: NetworkShapes): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const n of sizes.squares) {
    cases.push({ id: `gemm-${n}`, label: `GEMM ${n}×${n}×${n}`, spec: { kind: 'gemm', m: n, k: n, n }, work: 2 * n * n * n, units: ['GFLOP/s'] });
  }
  for (const n of sizes.singleCoreSquares) {
    cases.push({
      id: `gemm-js-${n}`, label: `GEMM ${n}×${n}×${n}, plain TypeScript (gemmJs), 1 core`,
      spec: { kind: 'gemm', m: n, k: n, n, impl: 'js' }, work: 2 * n * n * n, units: ['GFLOP/s'],
    });
    cases.push({
      id: `gemm-wasm1-${n}`, label: `GEMM ${n}×${n}×${n}, WebAssembly SIMD, 1 thread`,
      spec: { kind: 'gemm', m: n, k: n, n, impl: 'wasm-1-thread' }, work: 2 * n * n * n, units: ['GFLOP/s'],
    });
  }
  // gemmJs' yardstick, timed in the same run: scalar JS with no memory traffic.
  cases.push({
    id: 'scalar-peak', label: 'scalar JS peak probe (8 multiply-add chains in registers), 1 core',
    spec: { kind: 'scalar-peak', steps: sizes.scalarPeakSteps }, work: SCALAR_PEAK_FLOPS_PER_STEP * sizes.scalarPeakSteps, units: ['GFLOP/s'],
  });
  for (const index of sizes.gemmLayers) {
    const conv = shapes.convs[index - 1];
    if (!conv) throw new Error(`bench: the network has no conv layer ${index}`);
    const { m, k, n } = im2colGemmShape(conv, sizes.batch);
    const where = `${conv.output[0]}×${conv.output[1]}`;
    cases.push({
      id: `gemm-conv${index}`, label: `GEMM conv${index} fwd (${where}) M=${m} K=${k} N=${n}`,
      spec: { kind: 'gemm', m, k, n }, work: 2 * m * k * n, units: ['GFLOP/s'],
    });
  }
  const input = sizes.conv.input;
  const kernel: Shape4 = [3, 3, input[3], sizes.conv.cout];
  const convFlops = 2 * input[0] * input[1] * input[2] * input[3] * sizes.conv.cout * 9;
  const convName = `conv2d ${fmt(input)}→${sizes.conv.cout} 3×3 SAME`;
  for (const [kind, what] of [['conv-forward', 'forward'], ['conv-input-grad', 'input grad'], ['conv-kernel-grad', 'kernel grad']] as const) {
    cases.push({ id: kind, label: `${convName} ${what}`, spec: { kind, input, kernel }, work: convFlops, units: ['GFLOP/s'] });
  }
  const bnElements = sizes.bn.reduce((a, b) => a * b, 1);
  cases.push({
    id: 'bn-train', label: `batch norm train fwd+bwd ${fmt(sizes.bn)}`,
    spec: { kind: 'bn-train', shape: sizes.bn }, work: BN_BYTES_PER_ELEMENT * bnElements, units: ['GB/s'],
  });
  const b = sizes.batch;
  cases.push(
    { id: 'train-step', label: `lesson net train step, batch ${b}`, spec: { kind: 'train-step', batch: b }, work: networkFlops(shapes, b).trainStep, units: ['ms', 'GFLOP/s'] },
    { id: 'inference', label: `lesson net inference, batch ${b}`, spec: { kind: 'inference', batch: b }, work: networkFlops(shapes, b).forward, units: ['ms', 'GFLOP/s'] },
    { id: 'inference-1', label: 'lesson net inference, batch 1', spec: { kind: 'inference', batch: 1 }, work: networkFlops(shapes, 1).forward, units: ['ms', 'GFLOP/s'] },
    // foldBatchNorm: the same network with each BN merged into the conv/dense before it.
    { id: 'inference-folded', label: `lesson net inference, batch ${b}, BN folded`, spec: { kind: 'inference-folded', batch: b }, work: networkFlops(shapes, b).forward, units: ['ms', 'GFLOP/s'] },
    { id: 'inference-folded-1', label: 'lesson net inference, batch 1, BN folded', spec: { kind: 'inference-folded', batch: 1 }, work: networkFlops(shapes, 1).forward, units: ['ms', 'GFLOP/s'] },
  );
  return cases;
}

/** The network rows (timed in ms) get twice the time budget: they are the figures people quote. */
export function caseTiming(c: BenchCase, timing: TimingOptions): TimingOptions {
  return c.units[0] === 'ms' ? { ...timing, budgetMs: 2 * timing.budgetMs } : timing;
}

/** Seeded standard-normal values; the same `seed` gives both engines the same numbers. */
export function normalData(size: number, seed: number, stddev = 1): Float32Array {
  return randomNormal([size], { seed, stddev }).data;
}

/** The inputs of a kernel case: GEMM a, b; conv x, kernel, dy; batch norm x, gy. */
export function caseInputs(spec: Exclude<CaseSpec, { kind: 'scalar-peak' | 'train-step' | 'inference' | 'inference-folded' }>): Record<string, Float32Array> {
  const size = (s: readonly number[]): number => s.reduce((a, b) => a * b, 1);
  switch (spec.kind) {
    case 'gemm':
      return { a: normalData(spec.m * spec.k, 11), b: normalData(spec.k * spec.n, 12) };
    case 'bn-train':
      return { x: normalData(size(spec.shape), 21), gy: normalData(size(spec.shape), 22) };
    default: {
      const [n, h, w] = spec.input;
      return {
        x: normalData(size(spec.input), 31),
        kernel: normalData(size(spec.kernel), 32, 0.1),
        dy: normalData(n * h * w * spec.kernel[3], 33),
      };
    }
  }
}

/**
 * The lesson network's batch: MNIST-shaped pixels in [0, 1) and one-hot
 * labels of seeded random classes.
 */
export function lessonBatch(batch: number, seed: number): { x: Float32Array; y: Float32Array } {
  const rng = new Random(seed);
  const x = new Float32Array(batch * 28 * 28);
  for (let i = 0; i < x.length; i++) x[i] = rng.next();
  const y = new Float32Array(batch * 10);
  for (let i = 0; i < batch; i++) y[i * 10 + rng.int(10)] = 1;
  return { x, y };
}
