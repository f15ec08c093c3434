/**
 * Elementwise kernels over Float32Array. Binary kernels broadcast the NumPy
 * way: a size-1 (or missing leading) axis is repeated, which in index terms
 * means its stride is 0.
 */
import { stridesOf, type Shape } from '../shape.js';

/** y[i] = f(x[i]). */
export function map(x: Float32Array, f: (v: number) => number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = f(x[i]!);
  return y;
}

/** out[i] = f(a[i], b[i]) for equal-sized arrays. */
export function zipWith(a: Float32Array, b: Float32Array, f: (u: number, v: number) => number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = f(a[i]!, b[i]!);
  return out;
}

/**
 * Strides of `shape` seen from a broadcast result of rank `rank`: 0 on
 * missing leading axes and on size-1 axes, so every output index maps to
 * the element that is repeated there.
 */
export function broadcastStrides(shape: Shape, rank: number): number[] {
  const own = stridesOf(shape);
  const out = new Array<number>(rank).fill(0);
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] !== 1) out[rank - shape.length + i] = own[i]!;
  }
  return out;
}

/** True if `shape` (leading 1s removed) equals the last axes of `outShape`: then b[i % size] is the broadcast. */
function isSuffixOf(shape: Shape, outShape: Shape): boolean {
  let s = 0;
  while (s < shape.length && shape[s] === 1) s++;
  const tail = shape.length - s;
  for (let i = 0; i < tail; i++) if (shape[s + i] !== outShape[outShape.length - tail + i]) return false;
  return true;
}

/** out = f(a, b) with broadcasting; `outShape` comes from `broadcastShapes`. */
export function broadcastBinary(
  a: Float32Array, aShape: Shape,
  b: Float32Array, bShape: Shape,
  outShape: Shape, f: (u: number, v: number) => number,
): Float32Array {
  let n = 1;
  for (const d of outShape) n *= d;
  const out = new Float32Array(n);
  // Fast paths: equal sizes, a scalar, or a repeated trailing block (a bias).
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i]!);
  } else if (a.length === n && isSuffixOf(bShape, outShape)) {
    const m = b.length;
    for (let i = 0; i < n; i++) out[i] = f(a[i]!, b[i % m]!);
  } else if (b.length === n && isSuffixOf(aShape, outShape)) {
    const m = a.length;
    for (let i = 0; i < n; i++) out[i] = f(a[i % m]!, b[i]!);
  } else {
    // General case: walk the output with a multi-index, moving both inputs
    // by their broadcast strides.
    const rank = outShape.length;
    const sa = broadcastStrides(aShape, rank);
    const sb = broadcastStrides(bShape, rank);
    const idx = new Array<number>(rank).fill(0);
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < n; i++) {
      out[i] = f(a[ia]!, b[ib]!);
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        ia += sa[d]!;
        ib += sb[d]!;
        if (idx[d]! < outShape[d]!) break;
        ia -= sa[d]! * outShape[d]!;
        ib -= sb[d]! * outShape[d]!;
        idx[d] = 0;
      }
    }
  }
  return out;
}

/**
 * y[r, c] = x[r, c] + bias[c], x viewed as [rows, channels]: a layer's bias,
 * the same floats as broadcastBinary's add without a call per element; with
 * `relu`, max(x + bias, 0) in the same pass. Per channel over L1-sized
 * blocks of rows (as the batch-norm kernels).
 */
export function addBias(x: Float32Array, bias: Float32Array, relu = false): Float32Array {
  const channels = bias.length;
  const y = new Float32Array(x.length);
  const block = channels * Math.max(1, Math.floor(4096 / channels));
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    for (let c = 0; c < channels; c++) {
      const b = bias[c]!;
      if (relu) {
        for (let i = i0 + c; i < i1; i += channels) {
          const v = x[i]! + b;
          if (!(v <= 0)) y[i] = v; // a new array is all zeros; NaN is kept
        }
      } else {
        for (let i = i0 + c; i < i1; i += channels) y[i] = x[i]! + b;
      }
    }
  }
  return y;
}

// Activations get explicit loops: they run on every layer of a network.

/**
 * y = max(x, 0), NaN where x is NaN (as TensorFlow and PyTorch). A new
 * Float32Array is all zeros, so only the entries not <= 0 are written
 * (~20% faster).
 */
export function relu(x: Float32Array): Float32Array {
  const n = x.length;
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    if (!(v <= 0)) y[i] = v;
  }
  return y;
}

/**
 * gx = gy * [x > 0], and NaN where x is NaN (x may be relu's input or its
 * output: both are > 0, and NaN, at the same places). With `into` = gy it
 * only writes where x is not > 0, in place: the backward pass owns gy, and
 * this is about 1.5x faster than a new array.
 */
export function reluGrad(x: Float32Array, gy: Float32Array, into?: Float32Array): Float32Array {
  const n = x.length;
  if (into === gy) {
    for (let i = 0; i < n; i++) {
      const v = x[i]!;
      if (v <= 0) gy[i] = 0;
      else if (v !== v) gy[i] = NaN;
    }
    return gy;
  }
  const gx = into ?? new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = x[i]!;
    gx[i] = v > 0 ? gy[i]! : v <= 0 ? 0 : NaN;
  }
  return gx;
}

/** sigma(x) = 1 / (1 + e^-x), evaluated so that e^(large) never appears. */
export function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}
