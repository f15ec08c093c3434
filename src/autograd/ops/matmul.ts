/**
 * Matrix product, plain or batched.
 *
 *   Y = A·B         Y[i,j]  = sum_p A[i,p] B[p,j]        A [m,k], B [k,n], Y [m,n]
 *   dA = dY·B^T     dA[i,p] = sum_j dY[i,j] B[p,j]
 *   dB = A^T·dY     dB[p,j] = sum_i A[i,p] dY[i,j]
 *
 * Batched inputs [...batch, m, k] x [...batch, k, n] multiply matrix by
 * matrix; the batch dimensions broadcast as in NumPy's matmul (a missing or
 * size-1 batch dimension repeats). A matrix used by several products gets the
 * sum of their gradients.
 */
import { gemm } from '../../tensor/kernels/gemm.js';
import { formatShape, sizeOf, type Shape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { allocate } from '../../tensor/check.js';
import { record } from '../graph.js';

/**
 * The matrix product of the last two axes, [..., m, k] x [..., k, n] -> [..., m, n],
 * with the leading (batch) axes broadcast as in NumPy's matmul.
 *
 * @example
 * matmul(tensor([[1, 2], [3, 4]]), tensor([[5], [6]])).toArray(); // [[17], [39]]
 * matmul(zeros([8, 3, 4]), zeros([4, 5])).shape;                  // [8, 3, 5]
 * matmul(zeros([3, 4]), zeros([5, 2]));  // throws: matmul: [3,4] x [5,2]: inner dimensions 4 and 5 differ
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new Error(`matmul: expected two Tensors, got ${typeName(a)} and ${typeName(b)}`);
  }
  // The error prefix, built only when an error is thrown.
  const where = (): string => `matmul: ${formatShape(a.shape)} x ${formatShape(b.shape)}`;
  if (a.rank < 2 || b.rank < 2) throw new Error(`${where()}: both inputs need rank >= 2 ([..., rows, columns])`);
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k !== k2) throw new Error(`${where()}: inner dimensions ${k} and ${k2} differ`);
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const batch = broadcastBatch(where, aBatch, bBatch);
  const outShape = [...batch, m, n];

  // B is one matrix shared by every batch entry: fold A's batch into its rows,
  // [...batch, m, k] -> [batch*m, k], and do a single product.
  if (bBatch.length === 0) {
    const rows = sizeOf(aBatch) * m;
    const y = allocate('matmul', outShape);
    gemm(a.data, b.data, y, rows, k, n);
    return record('matmul', y, outShape, [a, b], (gy) => {
      let ga: Float32Array | null = null;
      let gb: Float32Array | null = null;
      if (a.requiresGrad) gemm(gy, b.data, (ga = new Float32Array(a.size)), rows, n, k, { transB: true });
      if (b.requiresGrad) gemm(a.data, gy, (gb = new Float32Array(b.size)), k, rows, n, { transA: true });
      return [ga, gb];
    });
  }

  const count = sizeOf(batch);
  const aIndex = batchIndex(batch, aBatch);
  const bIndex = batchIndex(batch, bBatch);
  const sa = m * k, sb = k * n, sy = m * n;
  const y = allocate('matmul', outShape);
  for (let t = 0; t < count; t++) {
    gemm(slice(a.data, aIndex[t]!, sa), slice(b.data, bIndex[t]!, sb), slice(y, t, sy), m, k, n);
  }
  return record('matmul', y, outShape, [a, b], (gy) => {
    const ga = a.requiresGrad ? new Float32Array(a.size) : null;
    const gb = b.requiresGrad ? new Float32Array(b.size) : null;
    for (let t = 0; t < count; t++) {
      const g = slice(gy, t, sy);
      const ai = aIndex[t]!, bi = bIndex[t]!;
      if (ga) gemm(g, slice(b.data, bi, sb), slice(ga, ai, sa), m, n, k, { transB: true, accumulate: true });
      if (gb) gemm(slice(a.data, ai, sa), g, slice(gb, bi, sb), k, m, n, { transA: true, accumulate: true });
    }
    return [ga, gb];
  });
}

/** Matrix number `i` of a stack of matrices of `size` values each. */
function slice(data: Float32Array, i: number, size: number): Float32Array {
  return data.subarray(i * size, (i + 1) * size);
}

/** Broadcast batch shape: aligned on the right, sizes equal or 1. */
function broadcastBatch(where: () => string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(`${where()}: batch dimensions ${formatShape(a)} and ${formatShape(b)} do not broadcast`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * For each entry t of the broadcast batch (row-major over `batch`), the
 * flat index of the matrix of an operand with batch shape `own`.
 */
function batchIndex(batch: Shape, own: Shape): Int32Array {
  const count = sizeOf(batch);
  const out = new Int32Array(count);
  const lead = batch.length - own.length;
  for (let t = 0; t < count; t++) {
    let rest = t;
    let index = 0;
    let stride = 1;
    for (let d = batch.length - 1; d >= 0; d--) {
      const coord = rest % batch[d]!;
      rest = (rest - coord) / batch[d]!;
      if (d < lead) continue;
      const size = own[d - lead]!;
      if (size !== 1) index += coord * stride;
      stride *= size;
    }
    out[t] = index;
  }
  return out;
}

function typeName(v: unknown): string {
  return v instanceof Tensor ? 'Tensor' : v === null ? 'null' : typeof v;
}
