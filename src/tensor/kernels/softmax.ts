/**
 * Softmax and log-softmax along one axis, x viewed as [outer, n, inner] with
 * the axis in the middle (inner = 1 for the last axis). Stable: the row max
 * m is subtracted before exponentiating, so e^(x - m) <= 1 never overflows,
 * and the sum is accumulated in float64.
 *
 *   softmax(x)_j    = e^(x_j - m) / sum_k e^(x_k - m)
 *   logSoftmax(x)_j = x_j - m - log sum_k e^(x_k - m)
 *
 * A NaN anywhere in a row makes the whole row NaN (m is NaN), as in PyTorch.
 */

/** Calls `row(offsets)` for every slice along the axis: element j of a slice is at base + j * inner. */
function forEachRow(outer: number, n: number, inner: number, row: (base: number) => void): void {
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) row(o * n * inner + i);
}

/** Row max m (NaN if the row holds a NaN) and sum_k e^(x_k - m). */
function maxAndSum(x: Float32Array, base: number, n: number, inner: number): [number, number] {
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const v = x[base + j * inner]!;
    if (v > m || Number.isNaN(v)) m = v;
    if (Number.isNaN(v)) break;
  }
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[base + j * inner]! - m);
  return [m, s];
}

/** softmax along the middle axis of [outer, n, inner]. */
export function softmax(x: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const y = new Float32Array(x.length);
  forEachRow(outer, n, inner, (base) => {
    const [m, s] = maxAndSum(x, base, n, inner);
    for (let j = 0; j < n; j++) y[base + j * inner] = Math.exp(x[base + j * inner]! - m) / s;
  });
  return y;
}

/** log-softmax along the middle axis of [outer, n, inner]. */
export function logSoftmax(x: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const y = new Float32Array(x.length);
  forEachRow(outer, n, inner, (base) => {
    const [m, s] = maxAndSum(x, base, n, inner);
    const logSum = Math.log(s);
    for (let j = 0; j < n; j++) y[base + j * inner] = x[base + j * inner]! - m - logSum;
  });
  return y;
}

/** Softmax backward from its output y: gx_j = y_j (gy_j - sum_k gy_k y_k). */
export function softmaxGrad(y: Float32Array, gy: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const gx = new Float32Array(y.length);
  forEachRow(outer, n, inner, (base) => {
    let dot = 0;
    for (let j = 0; j < n; j++) dot += gy[base + j * inner]! * y[base + j * inner]!;
    for (let j = 0; j < n; j++) gx[base + j * inner] = y[base + j * inner]! * (gy[base + j * inner]! - dot);
  });
  return gx;
}

/** Log-softmax backward from its output y: gx_j = gy_j - e^(y_j) sum_k gy_k. */
export function logSoftmaxGrad(y: Float32Array, gy: Float32Array, outer: number, n: number, inner: number): Float32Array {
  const gx = new Float32Array(y.length);
  forEachRow(outer, n, inner, (base) => {
    let total = 0;
    for (let j = 0; j < n; j++) total += gy[base + j * inner]!;
    for (let j = 0; j < n; j++) gx[base + j * inner] = gy[base + j * inner]! - Math.exp(y[base + j * inner]!) * total;
  });
  return gx;
}
