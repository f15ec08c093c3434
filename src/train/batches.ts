/** Mini-batches of an in-memory dataset, shuffled by a seed. */
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/** Inputs and targets with the same first (example) axis. */
export interface Dataset {
  /** Inputs, examples on axis 0. */
  x: Tensor;
  /** Targets, examples on axis 0 (as many as x). */
  y: Tensor;
}

export function checkDataset(op: string, data: Dataset): number {
  if (!data || !(data.x instanceof Tensor) || !(data.y instanceof Tensor)) throw new Error(`${op}: data must be { x: Tensor, y: Tensor }`);
  const n = data.x.shape[0];
  if (n === undefined || data.y.shape[0] !== n) {
    throw new Error(`${op}: x ${formatShape(data.x.shape)} and y ${formatShape(data.y.shape)} must have the same number of examples on axis 0`);
  }
  return n;
}

/** Copies rows `indices[start..end)` of t into a new tensor. */
export function gatherRows(t: Tensor, indices: ArrayLike<number>, start: number, end: number): Tensor {
  const row = t.size / t.shape[0]!;
  const out = new Float32Array((end - start) * row);
  for (let i = start; i < end; i++) {
    const src = indices[i]! * row;
    out.set(t.data.subarray(src, src + row), (i - start) * row);
  }
  return new Tensor(out, [end - start, ...t.shape.slice(1)]);
}

/** Batch boundaries [start, end) over n examples. */
export function batchRanges(n: number, batchSize: number, dropLast: boolean): [number, number][] {
  const ranges: [number, number][] = [];
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(s + batchSize, n);
    if (dropLast && e - s < batchSize) break;
    ranges.push([s, e]);
  }
  return ranges;
}
