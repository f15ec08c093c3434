/**
 * Shape ops. reshape and the axis-0 slice are views: they share the input's
 * Float32Array (storage is contiguous, so rows [start, end) of axis 0 are
 * one subarray). Their gradients just reshape or place gy back.
 */
import { checkShape, formatShape, normalizeAxes, sameShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkTensor, checkTensorList, describeValue } from '../../tensor/check.js';
import * as mv from '../../tensor/kernels/movement.js';
import { record } from '../graph.js';

/** Same values, new shape; one dimension may be -1 (inferred). Shares storage. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  checkTensor('reshape', x);
  const inferred = inferShape('reshape', x, shape);
  return record('reshape', x.data, inferred, [x], (gy) => [gy]);
}

function inferShape(op: string, x: Tensor, shape: Shape): number[] {
  checkShape(op, Array.isArray(shape) ? shape.map((d) => (d === -1 ? 0 : d)) : shape);
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) throw new Error(`${op}: ${formatShape(shape)} has more than one -1`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const out = [...shape];
  if (holes === 1) {
    if (known === 0 || x.size % known !== 0) {
      throw new Error(`${op}: cannot reshape ${formatShape(x.shape)} (${x.size} values) to ${formatShape(shape)}`);
    }
    out[shape.indexOf(-1)] = x.size / known;
  } else if (known !== x.size) {
    throw new Error(`${op}: cannot reshape ${formatShape(x.shape)} (${x.size} values) to ${formatShape(shape)} (${known} values)`);
  }
  return out;
}

/** [N, ...] -> [N, product of the rest]. */
export function flatten(x: Tensor): Tensor {
  checkTensor('flatten', x);
  if (x.rank < 1) throw new Error(`flatten: needs at least one axis, got ${formatShape(x.shape)}`);
  return reshape(x, [x.shape[0]!, sizeOf(x.shape.slice(1))]);
}

/**
 * Reorders axes: output axis d is input axis perm[d]. The gradient applies
 * the inverse permutation to gy.
 */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  checkTensor('permute', x);
  if (!Array.isArray(perm) || !perm.every((p) => Number.isInteger(p))) throw new Error(`permute: perm must be an array of axes (integers), got ${describeValue(perm)}`);
  const rank = x.rank;
  const norm = perm.map((p) => (p < 0 ? p + rank : p));
  if (norm.length !== rank || !sameShape([...norm].sort((a, b) => a - b), Array.from({ length: rank }, (_, i) => i))) {
    throw new Error(`permute: [${perm.join(',')}] is not a permutation of the ${rank} axes of ${formatShape(x.shape)}`);
  }
  const inverse = new Array<number>(rank);
  norm.forEach((p, d) => (inverse[p] = d));
  const outShape = norm.map((p) => x.shape[p]!);
  return record('permute', mv.permute(x.data, x.shape, norm), outShape, [x], (gy) => [mv.permute(gy, outShape, inverse)]);
}

/** Reverses the axes (a matrix transpose for rank 2), or applies `perm`. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  checkTensor('transpose', x);
  if (perm !== undefined && !Array.isArray(perm)) throw new Error(`transpose: perm must be an array of axes or undefined, got ${describeValue(perm)}`);
  return permute(x, perm ?? Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i));
}

/** Rows [start, end) of axis 0, a zero-copy view (a mini-batch of a dataset). */
export function sliceRows(x: Tensor, start: number, end: number): Tensor {
  checkTensor('sliceRows', x);
  if (typeof start !== 'number' || typeof end !== 'number') throw new Error(`sliceRows: start and end must be integers, got ${describeValue(start)} and ${describeValue(end)}`);
  const n = x.shape[0];
  if (n === undefined) throw new Error(`sliceRows: cannot slice a scalar`);
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start > end) {
    throw new Error(`sliceRows: range [${start}, ${end}) is not inside axis 0 of ${formatShape(x.shape)}`);
  }
  const row = n === 0 ? 0 : x.size / n;
  const shape = [end - start, ...x.shape.slice(1)];
  return record('sliceRows', x.data.subarray(start * row, end * row), shape, [x], (gy) => {
    const gx = new Float32Array(x.size);
    gx.set(gy, start * row);
    return [gx];
  });
}

/** Joins tensors along `axis`; all other dimensions must agree. */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  checkTensorList('concat', xs);
  if (typeof axis !== 'number') throw new Error(`concat: axis must be a number, got ${describeValue(axis)}`);
  if (xs.length === 0) throw new Error('concat: needs at least one tensor');
  const rank = xs[0]!.rank;
  const [a] = normalizeAxes('concat', axis, rank);
  for (const x of xs) {
    const ok = x.rank === rank && x.shape.every((d, i) => i === a || d === xs[0]!.shape[i]);
    if (!ok) throw new Error(`concat: shapes ${xs.map((t) => formatShape(t.shape)).join(', ')} differ outside axis ${a}`);
  }
  const shape = [...xs[0]!.shape];
  shape[a!] = xs.reduce((s, x) => s + x.shape[a!]!, 0);
  const y = mv.concat(xs, a!);
  // The gradient cuts gy back into the pieces: concat's inverse is a split.
  return record('concat', y, shape, xs, (gy) => {
    let outer = 1;
    for (let d = 0; d < a!; d++) outer *= shape[d]!;
    const rowLength = gy.length / Math.max(outer, 1);
    let offset = 0;
    return xs.map((x) => {
      const n = x.size / Math.max(outer, 1);
      const gx = new Float32Array(x.size);
      for (let o = 0; o < outer; o++) gx.set(gy.subarray(o * rowLength + offset, o * rowLength + offset + n), o * n);
      offset += n;
      return gx;
    });
  });
}
