/**
 * Shared test helpers: the independent reference (scijs ndarray + ndarray-ops),
 * seeded test data, and float32-aware comparisons. Not a test file itself.
 */
import { createRequire } from 'node:module';
import type { NdArray } from 'ndarray';
import { expect } from 'vitest';
import { Random, Tensor, randomUniform, type Shape } from '../src/index.js';

const require = createRequire(import.meta.url);

export type Nd = NdArray<Float32Array>;

/** The subset of ndarray-ops (CommonJS, no bundled types) the tests use. */
export interface NdOps {
  add(out: Nd, a: Nd, b: Nd): void;
  sub(out: Nd, a: Nd, b: Nd): void;
  mul(out: Nd, a: Nd, b: Nd): void;
  div(out: Nd, a: Nd, b: Nd): void;
  pow(out: Nd, a: Nd, b: Nd): void;
  max(out: Nd, a: Nd, b: Nd): void;
  min(out: Nd, a: Nd, b: Nd): void;
  maxs(out: Nd, a: Nd, s: number): void;
  adds(out: Nd, a: Nd, s: number): void;
  muls(out: Nd, a: Nd, s: number): void;
  neg(out: Nd, a: Nd): void;
  recip(out: Nd, a: Nd): void;
  exp(out: Nd, a: Nd): void;
  log(out: Nd, a: Nd): void;
  sqrt(out: Nd, a: Nd): void;
  abs(out: Nd, a: Nd): void;
  assign(out: Nd, a: Nd): void;
  sum(a: Nd): number;
  sup(a: Nd): number;
  inf(a: Nd): number;
  argmax(a: Nd): number[];
}

export const ops = require('ndarray-ops') as NdOps;
export const ndarray = require('ndarray') as (data: Float32Array, shape?: number[], stride?: number[], offset?: number) => Nd;

/** Row-major strides, written out here rather than imported, so the reference stays independent. */
export function rowMajor(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

export function sizeOf(shape: Shape): number {
  return shape.reduce((p, d) => p * d, 1);
}

/**
 * An ndarray view of `t` broadcast to `outShape`: stride 0 on the leading
 * axes `t` lacks and on its size-1 axes.
 */
export function broadcastView(t: Tensor, outShape: Shape): Nd {
  const own = rowMajor(t.shape);
  const lead = outShape.length - t.rank;
  const stride = outShape.map((_, d) => (d < lead || t.shape[d - lead] === 1 ? 0 : own[d - lead]!));
  return ndarray(t.data, [...outShape], stride, 0);
}

/** A fresh contiguous ndarray of the given shape. */
export function ndZeros(shape: Shape): Nd {
  return ndarray(new Float32Array(sizeOf(shape)), [...shape], rowMajor(shape), 0);
}

/** Every multi-index of `shape` in row-major order. */
export function* indices(shape: Shape): Generator<number[]> {
  const n = sizeOf(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Flat row-major offset of a multi-index. */
export function offsetOf(shape: Shape, idx: readonly number[]): number {
  const s = rowMajor(shape);
  return idx.reduce((o, i, d) => o + i * s[d]!, 0);
}

/** Uniform test data in [lo, hi) from the library's seeded generator. */
export function uniform(shape: Shape, seed: number, lo = -1, hi = 1): Tensor {
  return randomUniform(shape, { seed, minval: lo, maxval: hi });
}

/** Positive test data, for log, sqrt, division and pow bases. */
export function positive(shape: Shape, seed: number): Tensor {
  return uniform(shape, seed, 0.5, 2);
}

/**
 * Values on a grid k/10 + offset, k in -10..9: two tensors with offsets
 * 0.025 and -0.025 never come within 0.05 of each other, and |v| >= 0.025,
 * so relu/abs/maximum/minimum stay well away from their kinks (gradcheck
 * steps by eps = 1e-3).
 */
export function offGrid(shape: Shape, seed: number, offset = 0.025): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(sizeOf(shape));
  for (let i = 0; i < data.length; i++) data[i] = (rng.int(20) - 10) / 10 + offset;
  return new Tensor(data, shape);
}

/**
 * Distinct values (a shuffled 0.05-spaced grid), so max/min have no ties
 * within gradcheck's eps.
 */
export function distinct(shape: Shape, seed: number): Tensor {
  const n = sizeOf(shape);
  const perm = new Random(seed).permutation(n);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (perm[i]! - n / 2) * 0.05;
  return new Tensor(data, shape);
}

/** Tolerances of `expectClose`: |actual - expected| <= atol + rtol * |expected|. Both default to 0. */
export interface Tolerance {
  atol?: number;
  rtol?: number;
}

/**
 * Elementwise |actual - expected| <= atol + rtol * |expected|, NaN matching NaN,
 * infinities exactly. The one closeness check of the suite: always name the
 * tolerances, `expectClose(a, e, { atol: 1e-6, rtol: 1e-5 })`. With no
 * tolerance object the comparison is exact.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, { atol = 0, rtol = 0 }: Tolerance = {}): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) || !Number.isFinite(e)) {
      expect(a, `element ${i}`).toBe(e);
      continue;
    }
    const tol = atol + rtol * Math.abs(e);
    if (!(Math.abs(a - e) <= tol)) {
      expect.fail(`element ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
    }
  }
}

/**
 * `actual` holds the same float32 values as `expected`, bit for bit (0 and -0
 * differ; NaN matches NaN of the same bits). Use it rather than `toEqual` for
 * large arrays: vitest's deep equality costs microseconds an element (seconds
 * for an activation-sized array); this compares the words and reports the
 * first element that differs.
 */
export function expectSameBits(actual: Float32Array, expected: Float32Array): void {
  expect(actual.length).toBe(expected.length);
  const a = new Uint32Array(actual.buffer, actual.byteOffset, actual.length);
  const e = new Uint32Array(expected.buffer, expected.byteOffset, expected.length);
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== e[i]) expect.fail(`element ${i}: got ${actual[i]}, expected ${expected[i]} (same bits required)`);
  }
}

/** The ndarray's values in row-major order of its own shape. */
export function ndValues(a: Nd): Float32Array {
  const out = new Float32Array(sizeOf(a.shape));
  let k = 0;
  for (const idx of indices(a.shape)) out[k++] = a.get(...idx);
  return out;
}

/** Every subset of 0..rank-1, including the empty one. */
export function subsets(rank: number): number[][] {
  const out: number[][] = [];
  for (let m = 0; m < 1 << rank; m++) out.push(Array.from({ length: rank }, (_, i) => i).filter((i) => m & (1 << i)));
  return out;
}
