/**
 * Reductions over any set of axes. The output keeps the input's rank with
 * size 1 on reduced axes (callers drop them for keepDims = false).
 *
 * Each input element x[i0..ik] lands in out at the index with the reduced
 * axes set to 0, i.e. at sum over kept axes d of i_d * outStride_d.
 */
import { stridesOf, type Shape } from '../shape.js';

/** The shape with every reduced axis set to 1. */
export function keptShape(shape: Shape, axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

/** For each input element, the output position it reduces into. */
function walk(shape: Shape, axes: readonly number[], visit: (i: number, o: number) => void): void {
  const rank = shape.length;
  const outStrides = stridesOf(keptShape(shape, axes)).map((s, d) => (axes.includes(d) ? 0 : s));
  const idx = new Array<number>(rank).fill(0);
  let n = 1;
  for (const d of shape) n *= d;
  let o = 0;
  for (let i = 0; i < n; i++) {
    visit(i, o);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      o += outStrides[d]!;
      if (idx[d]! < shape[d]!) break;
      o -= outStrides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
}

function outSize(shape: Shape, axes: readonly number[]): number {
  let n = 1;
  shape.forEach((d, i) => {
    if (!axes.includes(i)) n *= d;
  });
  return n;
}

/**
 * Splits a reduction into [outer, reduced, inner] when the reduced axes are
 * one contiguous run, the common case (rows of a matrix, N/H/W of NHWC).
 */
function contiguousRun(shape: Shape, axes: readonly number[]): [number, number, number] | null {
  if (axes.length === 0) return null;
  for (let k = 1; k < axes.length; k++) if (axes[k] !== axes[k - 1]! + 1) return null;
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  let outer = 1, reduced = 1, inner = 1;
  shape.forEach((d, i) => {
    if (i < first) outer *= d;
    else if (i <= last) reduced *= d;
    else inner *= d;
  });
  return [outer, reduced, inner];
}

/** Sum over `axes` (sorted, unique). Accumulates in float64 for accuracy. */
export function sum(x: Float32Array, shape: Shape, axes: readonly number[]): Float32Array {
  const run = contiguousRun(shape, axes);
  if (run) {
    const [outer, reduced, inner] = run;
    const acc = new Float64Array(outer * inner);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < reduced; r++) {
        const base = (o * reduced + r) * inner;
        const ob = o * inner;
        for (let j = 0; j < inner; j++) acc[ob + j]! += x[base + j]!;
      }
    }
    return Float32Array.from(acc);
  }
  const acc = new Float64Array(outSize(shape, axes));
  walk(shape, axes, (i, o) => {
    acc[o]! += x[i]!;
  });
  return Float32Array.from(acc);
}

/**
 * sum_r x[r, c] for x viewed as [rows, channels] (a bias gradient), in
 * float64 with rows added in order: the same floats as `sum` over every axis
 * but the last. Per channel over blocks of rows, each channel's running sum
 * in a register and carried from block to block.
 */
export function sumRows(x: Float32Array, channels: number): Float32Array {
  const acc = new Float64Array(channels);
  const block = channels * Math.max(1, Math.floor(4096 / channels));
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    for (let c = 0; c < channels; c++) {
      let s = acc[c]!;
      for (let i = i0 + c; i < i1; i += channels) s += x[i]!;
      acc[c] = s;
    }
  }
  return Float32Array.from(acc);
}

/** Max (or min with `sign = -1`) over `axes`. */
export function extreme(x: Float32Array, shape: Shape, axes: readonly number[], sign: 1 | -1): Float32Array {
  const out = new Float32Array(outSize(shape, axes)).fill(-Infinity * sign);
  walk(shape, axes, (i, o) => {
    const v = x[i]!;
    if (sign * v > sign * out[o]! || Number.isNaN(v)) out[o] = v;
  });
  return out;
}

/**
 * Gradient of max/min: dL/dx_i = dL/dy * [x_i == y] / (number of ties), so
 * tied maxima share the gradient equally (TensorFlow's rule).
 */
export function extremeGrad(x: Float32Array, shape: Shape, axes: readonly number[], y: Float32Array, gy: Float32Array): Float32Array {
  const ties = new Float32Array(y.length);
  walk(shape, axes, (i, o) => {
    if (x[i] === y[o]) ties[o]!++;
  });
  const gx = new Float32Array(x.length);
  walk(shape, axes, (i, o) => {
    if (x[i] === y[o]) gx[i] = gy[o]! / ties[o]!;
  });
  return gx;
}

/** Index of the largest value along one axis (the first one on ties). */
export function argmax(x: Float32Array, shape: Shape, axis: number): Float32Array {
  const [outer, reduced, inner] = contiguousRun(shape, [axis])!;
  const out = new Float32Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = -Infinity;
      let at = 0;
      for (let r = 0; r < reduced; r++) {
        const v = x[(o * reduced + r) * inner + j]!;
        if (v > best) {
          best = v;
          at = r;
        }
      }
      out[o * inner + j] = at;
    }
  }
  return out;
}

/** Repeats `g` (shape kept by reduction) back over the reduced axes: the gradient of sum. */
export function expand(g: Float32Array, shape: Shape, axes: readonly number[]): Float32Array {
  const gx = new Float32Array(shape.reduce((a, b) => a * b, 1));
  walk(shape, axes, (i, o) => {
    gx[i] = g[o]!;
  });
  return gx;
}
