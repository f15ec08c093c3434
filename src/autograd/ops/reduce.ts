/**
 * Reductions over any set of axes, with keepDims. Their gradients spread
 * dL/dy back over the reduced axes:
 *   sum:  dx = gy (repeated)          mean: dx = gy / count
 *   max/min: dx = gy where x equals the extreme, shared among ties.
 */
import { formatShape, normalizeAxes, type Shape } from '../../tensor/shape.js';
import { checkBoolean, checkOptions } from '../../tensor/options.js';
import { Tensor } from '../../tensor/tensor.js';
import * as k from '../../tensor/kernels/reduce.js';
import { record } from '../graph.js';
import { describeValue } from '../../tensor/check.js';

/** Options of the reductions. */
export interface ReduceOptions {
  /** Keep reduced axes as size 1 (default false). */
  keepDims?: boolean;
}

/** Axes to reduce: a number, a list, or undefined for all. Negative axes count from the end. */
export type Axes = number | readonly number[] | undefined;

function outShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  return keepDims ? k.keptShape(shape, axes) : shape.filter((_, i) => !axes.includes(i));
}

function check(op: string, x: Tensor, opts: ReduceOptions | undefined): void {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${typeof x}`);
  checkOptions(op, opts, ['keepDims']);
  if (opts?.keepDims !== undefined) checkBoolean(op, 'keepDims', opts.keepDims);
}

function checkAxis(op: string, axis: unknown): void {
  if (typeof axis !== 'number') throw new Error(`${op}: axis must be a number (one axis), got ${describeValue(axis)}`);
}

/**
 * Sum over `axes` (all of them by default).
 *
 * @example
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * sum(x).item();                          // 21
 * sum(x, 0).toArray();                    // [5, 7, 9]
 * sum(x, -1, { keepDims: true }).shape;   // [2, 1]
 */
export function sum(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  check('sum', x, opts);
  const ax = normalizeAxes('sum', axes, x.rank);
  const y = k.sum(x.data, x.shape, ax);
  return record('sum', y, outShape(x.shape, ax, opts.keepDims ?? false), [x], (gy) => [k.expand(gy, x.shape, ax)]);
}

/** Mean over `axes` (all of them by default); refuses to average zero values. */
export function mean(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  check('mean', x, opts);
  const ax = normalizeAxes('mean', axes, x.rank);
  const count = ax.reduce((n, a) => n * x.shape[a]!, 1);
  if (count === 0) throw new Error(`mean: reducing ${formatShape(x.shape)} over axes [${ax}] averages zero values`);
  const y = k.sum(x.data, x.shape, ax).map((v) => v / count);
  return record('mean', y, outShape(x.shape, ax, opts.keepDims ?? false), [x], (gy) => [
    k.expand(gy, x.shape, ax).map((g) => g / count),
  ]);
}

function extreme(op: 'max' | 'min', sign: 1 | -1, x: Tensor, axes: Axes, opts: ReduceOptions): Tensor {
  check(op, x, opts);
  const ax = normalizeAxes(op, axes, x.rank);
  if (ax.some((a) => x.shape[a] === 0)) throw new Error(`${op}: cannot reduce an empty axis of ${formatShape(x.shape)}`);
  const y = k.extreme(x.data, x.shape, ax, sign);
  return record(op, y, outShape(x.shape, ax, opts.keepDims ?? false), [x], (gy) => [k.extremeGrad(x.data, x.shape, ax, y, gy)]);
}

/** Largest value over `axes`; the gradient is shared equally among tied maxima. */
export function max(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  return extreme('max', 1, x, axes, opts);
}

/** Smallest value over `axes`; the gradient is shared equally among tied minima. */
export function min(x: Tensor, axes?: Axes, opts: ReduceOptions = {}): Tensor {
  return extreme('min', -1, x, axes, opts);
}

/** Index of the largest value along `axis` (default the last), as float values; not differentiable. */
export function argmax(x: Tensor, axis = -1): Tensor {
  check('argmax', x, undefined);
  checkAxis('argmax', axis);
  const [a] = normalizeAxes('argmax', axis, x.rank);
  if (x.shape[a!] === 0) throw new Error(`argmax: axis ${a} of ${formatShape(x.shape)} is empty`);
  return new Tensor(k.argmax(x.data, x.shape, a!), x.shape.filter((_, i) => i !== a));
}
