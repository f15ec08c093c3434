/**
 * The low-level functional API, as in `tf.nn`: batch normalization built
 * from primitive ops, so a reader can follow it line by line (and the test
 * suite can check the fused layer against it).
 */
import { checkBoolean, checkOptions } from '../../tensor/options.js';
import { Tensor } from '../../tensor/tensor.js';
import { add, div, mul, sub, type TensorLike } from './arithmetic.js';
import { mean as reduceMean, type Axes } from './reduce.js';
import { reshape } from './shape.js';
import { sqrt, square } from './unary.js';

/**
 * Mean and (biased) variance over `axes`, in two passes:
 *   mean = E[x],  variance = E[(x - mean)^2].
 * For NHWC batch norm use axes [0, 1, 2]; for [N, C] use [0].
 */
export function moments(x: Tensor, axes: Axes, opts: { keepDims?: boolean } = {}): { mean: Tensor; variance: Tensor } {
  checkOptions('moments', opts, ['keepDims']);
  if (opts?.keepDims !== undefined) checkBoolean('moments', 'keepDims', opts.keepDims);
  const m = reduceMean(x, axes, { keepDims: true });
  const variance = reduceMean(square(sub(x, m)), axes, { keepDims: opts.keepDims ?? false });
  const mean = opts.keepDims ? m : reshape(m, variance.shape);
  return { mean, variance };
}

/**
 * y = scale * (x - mean) / sqrt(variance + epsilon) + offset, broadcasting
 * the statistics over x. `offset` and `scale` may be null (0 and 1), like
 * tf.nn.batch_normalization.
 */
export function batchNormalization(
  x: Tensor, mean: TensorLike, variance: TensorLike,
  offset: TensorLike | null, scale: TensorLike | null, epsilon: number,
): Tensor {
  let y = div(sub(x, mean), sqrt(add(variance, epsilon)));
  if (scale !== null) y = mul(y, scale);
  if (offset !== null) y = add(y, offset);
  return y;
}
