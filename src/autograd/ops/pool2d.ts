/**
 * Max and average pooling of NHWC x [n,h,w,c], TensorFlow's geometry
 * (src/tensor/kernels/pool2d.ts has the loops). V is the set of window cells
 * inside the image (padding is not a value):
 *
 *   maxPool2d:  y = max_V x         dL/dx[argmax] += dL/dy   (first max; NaN wins)
 *   avgPool2d:  y = sum_V x / |V|   dL/dx[cell]   += dL/dy / |V|  for each cell in V
 *
 * The global variants pool the whole height x width into [n, c] (Keras'
 * GlobalMaxPooling2D / GlobalAveragePooling2D): one VALID window of the
 * input's size.
 */
import {
  avgPool2dBackward, avgPool2dForward, maxPool2dBackward, maxPool2dForward, type PoolInput,
} from '../../tensor/kernels/pool2d.js';
import { window2d, type Padding, type Window2d } from '../../tensor/kernels/window.js';
import { checkOptions, describe } from '../../tensor/options.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { record } from '../graph.js';

/** Options of `maxPool2d` and `avgPool2d`. */
export interface Pool2dOptions {
  /** Step between windows, one number or [vertical, horizontal]. Default: the pool size (as Keras). */
  strides?: number | readonly [number, number];
  /** 'valid' (default, as Keras) uses only whole windows; 'same' gives ceil(in / stride) outputs. */
  padding?: Padding;
}

/** A pool size: one positive integer for both axes or a [height, width] pair, checked. */
export function poolPair(op: string, poolSize: unknown): [number, number] {
  const pair = typeof poolSize === 'number' ? [poolSize, poolSize] : poolSize;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((k) => Number.isInteger(k) && k >= 1)) {
    throw new Error(`${op}: poolSize must be a positive integer or a [height, width] pair of them, got ${describe(poolSize)}`);
  }
  return pair as [number, number];
}

/** Checks x (a rank-4 NHWC Tensor) and the options; the input sizes and the window. */
export function poolGeometry(op: string, x: unknown, poolSize: unknown, opts: Pool2dOptions | undefined): [PoolInput, Window2d] {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected an input Tensor, got ${describe(x)}`);
  checkOptions(op, opts, ['strides', 'padding']);
  if (x.rank !== 4) throw new Error(`${op}: input ${formatShape(x.shape)} must have rank 4 [batch, height, width, channels], got rank ${x.rank}`);
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const pool = poolPair(op, poolSize);
  const g = window2d({
    op, size: [h, w], window: pool, strides: opts?.strides ?? pool, padding: opts?.padding ?? 'valid',
    inputShape: x.shape, windowShape: pool, windowName: 'pool',
  });
  return [{ n, h, w, c }, g];
}

/**
 * Max pooling of NHWC `x` (TensorFlow's tf.nn.max_pool2d): the largest value
 * of each window, padding ignored; the gradient goes to the first maximum of
 * each window. A window holding a NaN gives NaN.
 *
 * @example
 * maxPool2d(tensor([[[[1], [2]], [[4], [3]]]]), 2).toArray(); // [[[[4]]]]
 * maxPool2d(zeros([1, 5, 5, 3]), 3, { strides: 2, padding: 'same' }).shape; // [1, 3, 3, 3]
 */
export function maxPool2d(x: Tensor, poolSize: number | readonly [number, number], opts: Pool2dOptions = {}): Tensor {
  const [s, g] = poolGeometry('maxPool2d', x, poolSize, opts);
  const { y, argmax } = maxPool2dForward(x.data, s, g);
  return record('maxPool2d', y, [s.n, g.oh, g.ow, s.c], [x], (gy) => [maxPool2dBackward(gy, argmax, x.size)]);
}

/**
 * Average pooling of NHWC `x` (TensorFlow's tf.nn.avg_pool2d): the mean of
 * each window's cells inside the image, so a SAME border window divides by
 * fewer than poolSize cells.
 *
 * @example
 * avgPool2d(tensor([[[[1], [2]], [[4], [3]]]]), 2).toArray(); // [[[[2.5]]]]
 * avgPool2d(zeros([2, 7, 7, 4]), [2, 3], { strides: 1 }).shape;   // [2, 6, 5, 4]
 */
export function avgPool2d(x: Tensor, poolSize: number | readonly [number, number], opts: Pool2dOptions = {}): Tensor {
  const [s, g] = poolGeometry('avgPool2d', x, poolSize, opts);
  const y = avgPool2dForward(x.data, s, g);
  return record('avgPool2d', y, [s.n, g.oh, g.ow, s.c], [x], (gy) => [avgPool2dBackward(gy, s, g)]);
}

/** x checked as rank 4; one VALID window over its whole height and width. */
function globalGeometry(op: string, x: unknown): [PoolInput, Window2d] {
  if (x instanceof Tensor && x.rank === 4) return poolGeometry(op, x, [x.shape[1]!, x.shape[2]!], {});
  return poolGeometry(op, x, 1, {}); // only to raise the rank / type error
}

/**
 * The maximum over height and width of NHWC `x`: [n,h,w,c] -> [n,c]
 * (Keras' GlobalMaxPooling2D); gradient to the first maximum, NaN propagates.
 *
 * @example
 * globalMaxPool2d(zeros([8, 7, 7, 16])).shape; // [8, 16]
 */
export function globalMaxPool2d(x: Tensor): Tensor {
  const [s, g] = globalGeometry('globalMaxPool2d', x);
  const { y, argmax } = maxPool2dForward(x.data, s, g);
  return record('globalMaxPool2d', y, [s.n, s.c], [x], (gy) => [maxPool2dBackward(gy, argmax, x.size)]);
}

/**
 * The mean over height and width of NHWC `x`: [n,h,w,c] -> [n,c]
 * (Keras' GlobalAveragePooling2D).
 *
 * @example
 * globalAvgPool2d(ones([8, 7, 7, 16])).shape; // [8, 16]
 */
export function globalAvgPool2d(x: Tensor): Tensor {
  const [s, g] = globalGeometry('globalAvgPool2d', x);
  const y = avgPool2dForward(x.data, s, g);
  return record('globalAvgPool2d', y, [s.n, s.c], [x], (gy) => [avgPool2dBackward(gy, s, g)]);
}
