/**
 * Layer/group normalization's forward and backward in WebAssembly
 * (wasm/group-norm.ts), on this thread. The floats equal
 * ../group-norm-fast.ts' (and so the reference's) to the bit, tested in
 * test/tensor/kernels/group-norm-wasm.test.ts; only the loops moved.
 *
 * One call copies its arrays into the shared memory once, runs there, and
 * copies the results out. gamma and beta null are passed as ones and zeros:
 * the reference multiplies by 1 and adds 0, which is what those compute.
 */
import type { GroupLayout, GroupNormForward, GroupNormGrads } from '../group-norm-reference.js';
import { Arena, normalizationCopiesFit, requireRuntime } from './arena.js';
import type { WasmRuntime } from './runtime.js';

/** Whether group norm on `size` values can run here: WebAssembly is there and the copies fit wasmLimits().chunkBytes. */
export function groupNormWasmFits(size: number): boolean {
  return normalizationCopiesFit(size);
}

let calls = 0;

/** How many group-norm kernels have run here (for tests: which path the dispatch took). */
export function groupNormWasmCalls(): number {
  return calls;
}

/** groupNormForward (../group-norm-fast.ts) in WebAssembly. */
export function groupNormForwardWasm(
  x: Float32Array, l: GroupLayout, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number,
): GroupNormForward {
  const rt = runtime('groupNormForwardWasm');
  const channels = l.g * l.k;
  const groups = l.n * l.g;
  const mem = new Arena(rt);
  const xo = mem.take(4 * x.length);
  const yo = mem.take(4 * x.length);
  const gammaAt = mem.take(4 * channels);
  const betaAt = mem.take(4 * channels);
  const meanAt = mem.take(8 * groups);
  const invStdAt = mem.take(8 * groups);
  const f = mem.commit();
  f.set(x, xo >> 2);
  setOr(f, gammaAt, gamma, channels, 1);
  setOr(f, betaAt, beta, channels, 0);
  rt.exports.gnForward(xo, 0, l.n, l.s, l.g, l.k, gammaAt, betaAt, epsilon, yo, meanAt, invStdAt);
  return {
    y: copyOut(f, yo, x.length),
    mean: new Float64Array(rt.memory.buffer, meanAt, groups).slice(),
    invStd: new Float64Array(rt.memory.buffer, invStdAt, groups).slice(),
  };
}

/** groupNormBackward (../group-norm-fast.ts) in WebAssembly. */
export function groupNormBackwardWasm(
  x: Float32Array, gy: Float32Array, l: GroupLayout, mean: Float64Array, invStd: Float64Array,
  gamma: Float32Array | null, needInput: boolean,
): GroupNormGrads {
  const rt = runtime('groupNormBackwardWasm');
  const channels = l.g * l.k;
  const groups = l.n * l.g;
  const mem = new Arena(rt);
  const xo = mem.take(4 * x.length);
  const gyo = mem.take(4 * x.length);
  const gxo = needInput ? mem.take(4 * x.length) : 0;
  const gammaAt = mem.take(4 * channels);
  const meanAt = mem.take(8 * groups);
  const invStdAt = mem.take(8 * groups);
  const gGammaAt = mem.take(8 * channels);
  const gBetaAt = mem.take(8 * channels);
  const f = mem.commit();
  f.set(x, xo >> 2);
  f.set(gy, gyo >> 2);
  setOr(f, gammaAt, gamma, channels, 1);
  const f64 = (at: number, length: number): Float64Array => new Float64Array(rt.memory.buffer, at, length);
  f64(meanAt, groups).set(mean);
  f64(invStdAt, groups).set(invStd);
  f64(gGammaAt, channels).fill(0);
  f64(gBetaAt, channels).fill(0);
  rt.exports.gnBackward(xo, gyo, 0, l.n, l.s, l.g, l.k, gammaAt, meanAt, invStdAt, gGammaAt, gBetaAt, gxo);
  return {
    gx: needInput ? copyOut(f, gxo, x.length) : null,
    gGamma: Float32Array.from(f64(gGammaAt, channels)),
    gBeta: Float32Array.from(f64(gBetaAt, channels)),
  };
}

/**
 * The `length` floats at byte `at`, copied into a new (unshared) array.
 * Not f.slice(): on a shared buffer V8 took 5-10 ms for 1.6 MB, new + set ~1.
 */
function copyOut(f: Float32Array, at: number, length: number): Float32Array {
  const out = new Float32Array(length);
  out.set(f.subarray(at >> 2, (at >> 2) + length));
  return out;
}

function runtime(op: string): WasmRuntime {
  calls++;
  return requireRuntime(op);
}

/** Writes `values` at `at`, or `fill` in each of the `count` slots when there are none. */
function setOr(f: Float32Array, at: number, values: Float32Array | null, count: number, fill: number): void {
  if (values) f.set(values, at >> 2);
  else f.fill(fill, at >> 2, (at >> 2) + count);
}
