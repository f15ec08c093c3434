/**
 * softmax and logSoftmax along one axis (the last by default), stable (the
 * max is subtracted first), each keeping only its output for the backward.
 */
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import * as k from '../../tensor/kernels/softmax.js';
import { record } from '../graph.js';

/** The axis as an index, and x viewed as [outer, n, inner] around it. */
export function softmaxAxis(op: string, x: Tensor, axis: number): [outer: number, n: number, inner: number] {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${typeof x}`);
  if (!Number.isInteger(axis) || axis < -x.rank || axis >= x.rank) {
    throw new Error(`${op}: axis ${String(axis)} is out of range for input ${formatShape(x.shape)}`);
  }
  const a = axis < 0 ? axis + x.rank : axis;
  const outer = x.shape.slice(0, a).reduce((p, d) => p * d, 1);
  const inner = x.shape.slice(a + 1).reduce((p, d) => p * d, 1);
  return [outer, x.shape[a]!, inner];
}

/**
 * e^x / sum(e^x) along `axis` (default -1, the last): each slice along it
 * becomes a probability distribution. A NaN makes its whole slice NaN.
 *
 * @example
 * softmax(tensor([[1, 2, 3]])).toArray(); // [[0.0900, 0.2447, 0.6652]]
 * softmax(tensor([[1000, 1000]])).toArray(); // [[0.5, 0.5]]: no overflow
 */
// y_j = e^(x_j - m) / sum_k e^(x_k - m), m = max_k x_k      dx_j = y_j (gy_j - sum_k gy_k y_k)
export function softmax(x: Tensor, axis = -1): Tensor {
  const [outer, n, inner] = softmaxAxis('softmax', x, axis);
  const y = k.softmax(x.data, outer, n, inner);
  return record('softmax', y, x.shape, [x], (gy) => [k.softmaxGrad(y, gy, outer, n, inner)]);
}

/**
 * log(softmax(x)) along `axis` (default -1), computed as
 * x - m - log(sum e^(x - m)): finite where log(softmax(x)) would be log(0).
 *
 * @example
 * logSoftmax(tensor([0, -200])).toArray(); // [0, -200] (log(softmax) would give -Infinity)
 */
// y_j = x_j - m - log sum_k e^(x_k - m)                      dx_j = gy_j - e^(y_j) sum_k gy_k
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  const [outer, n, inner] = softmaxAxis('logSoftmax', x, axis);
  const y = k.logSoftmax(x.data, outer, n, inner);
  return record('logSoftmax', y, x.shape, [x], (gy) => [k.logSoftmaxGrad(y, gy, outer, n, inner)]);
}
