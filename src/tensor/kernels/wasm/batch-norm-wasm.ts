/**
 * Batch norm's training forward and backward with their passes over the
 * data in WebAssembly SIMD (wasm/batch-norm.ts), on this thread. The math
 * and the per-channel steps between the passes are ../batch-norm-fast.ts' and
 * ../batch-norm-fast-backward.ts' own,
 * and the floats are the same to the bit (tested); only the loops over
 * [rows, channels] moved, four channels per SIMD vector.
 *
 * One call copies its arrays into the shared memory once, runs every pass
 * there, and copies the result out:
 *
 *   forward   x in; sums -> mean; squared deviations -> variance, invStd;
 *             normalize (+ ReLU) -> y out
 *   backward  x, gy in; pass 1 (ReLU mask, sums) -> gGamma, gBeta, k0, k2;
 *             pass 2 -> gx out
 */
import { backwardCoefficients, type BatchNormGrads, type TrainingBackwardOptions } from '../batch-norm-fast-backward.js';
import { dividedBy, inverseStd, trainingScale, type TrainingForward } from '../batch-norm-fast.js';
import { Arena, normalizationCopiesFit, requireRuntime } from './arena.js';
import type { WasmRuntime } from './runtime.js';

/** Whether batch norm on `size` values can run here: WebAssembly is there and the copies fit wasmLimits().chunkBytes. */
export function batchNormWasmFits(size: number): boolean {
  return normalizationCopiesFit(size);
}

let calls = 0;

/** How many batch-norm kernels have run here (for tests: which path the dispatch took). */
export function batchNormWasmCalls(): number {
  return calls;
}

/** trainingForward (../batch-norm-fast.ts) in WebAssembly. */
export function trainingForwardWasm(
  x: Float32Array, channels: number, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number, relu = false,
): TrainingForward {
  const rt = runtime('trainingForwardWasm');
  const rows = x.length / channels;
  const mem = new Arena(rt);
  const xo = mem.take(4 * x.length);
  const yo = mem.take(4 * x.length);
  const meanAt = mem.take(4 * channels);
  const betaAt = mem.take(4 * channels);
  const sumsAt = mem.take(8 * channels);
  const scaleAt = mem.take(8 * channels);
  const f = mem.commit();
  f.set(x, xo >> 2);
  const sums = new Float64Array(rt.memory.buffer, sumsAt, channels);
  const X = rt.exports;

  // mean = sum / m, then var = sum (x - mean)^2 / m with that float32 mean.
  sums.fill(0);
  X.bnChannelSums(xo, rows, channels, 0, sumsAt);
  const mean = dividedBy(sums, rows);
  f.set(mean, meanAt >> 2);
  sums.fill(0);
  X.bnChannelSums(xo, rows, channels, meanAt, sumsAt);
  const variance = dividedBy(sums, rows);
  const invStd = inverseStd(variance, epsilon);

  new Float64Array(rt.memory.buffer, scaleAt, channels).set(trainingScale(gamma, invStd));
  setOrZero(f, betaAt, beta, channels);
  X.bnNormalize(xo, rows, channels, meanAt, scaleAt, betaAt, relu ? 1 : 0, yo);
  return { mean, variance, invStd, y: f.slice(yo >> 2, (yo >> 2) + x.length) };
}

/** trainingBackward (../batch-norm-fast-backward.ts) in WebAssembly; gy is not changed. */
export function trainingBackwardWasm(
  x: Float32Array, gy: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, needInput: boolean,
  { relu = false, beta = null, into }: TrainingBackwardOptions = {},
): BatchNormGrads {
  const rt = runtime('trainingBackwardWasm');
  const channels = mean.length;
  const rows = x.length / channels;
  const mem = new Arena(rt);
  const xo = mem.take(4 * x.length);
  const gyo = mem.take(4 * x.length); // gx is written over it
  const meanAt = mem.take(4 * channels);
  const betaAt = mem.take(4 * channels);
  const perChannelF64 = (): number => mem.take(8 * channels);
  const k1At = perChannelF64(), k2At = perChannelF64(), k0At = perChannelF64();
  const sumGyAt = perChannelF64(), sumGyXcAt = perChannelF64();
  const f = mem.commit();
  f.set(x, xo >> 2);
  f.set(gy, gyo >> 2);
  f.set(mean, meanAt >> 2);
  setOrZero(f, betaAt, beta, channels);
  const f64 = (at: number): Float64Array => new Float64Array(rt.memory.buffer, at, channels);
  f64(k1At).set(trainingScale(gamma, invStd));
  const sumGy = f64(sumGyAt).fill(0);
  const sumGyXc = f64(sumGyXcAt).fill(0);
  const X = rt.exports;

  X.bnGradientSums(xo, gyo, rows, channels, meanAt, k1At, betaAt, relu ? 1 : 0, sumGyAt, sumGyXcAt);
  const { gGamma, gBeta, k0, k2 } = backwardCoefficients(sumGy, sumGyXc, invStd, gamma, rows);
  if (!needInput) return { gx: null, gGamma, gBeta };
  f64(k2At).set(k2);
  f64(k0At).set(k0);
  X.bnInputGrad(xo, gyo, rows, channels, meanAt, k1At, k2At, k0At, gyo);
  const gx = f.subarray(gyo >> 2, (gyo >> 2) + x.length);
  if (into) {
    into.set(gx);
    return { gx: into, gGamma, gBeta };
  }
  return { gx: gx.slice(), gGamma, gBeta };
}

function runtime(op: string): WasmRuntime {
  calls++;
  return requireRuntime(op);
}

/** Writes beta at `at`, or zeros for no beta (y = ... + 0, as the reference adds). */
function setOrZero(f: Float32Array, at: number, beta: Float32Array | null, channels: number): void {
  if (beta) f.set(beta, at >> 2);
  else f.fill(0, at >> 2, (at >> 2) + channels);
}
