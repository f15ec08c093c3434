/**
 * The inference Conv2d -> BatchNorm (-> ReLU) as one op:
 *
 *   y = conv2d(x, K)                        rounded to float32
 *   y = y * scale_c + shift_c               scale = gamma / sqrt(var + eps), shift = beta - mean * scale
 *   y = max(y, 0)                           with relu; NaN stays NaN
 *
 * exactly the floats of conv2d, then batchNormInference (with its relu) run
 * apart, in one pass over memory instead of three: the WebAssembly forward
 * maps each block of y while it is still in cache (conv2dForwardAffine in
 * src/tensor/kernels/conv2d.ts). Nothing is recorded: when a gradient could
 * flow (grad mode on and x, K, gamma or beta requiring it), the op runs the
 * two recorded ops instead, so the fused path never changes what backward sees.
 */
import { conv2dForwardAffine, conv2dGeometry } from '../../tensor/kernels/conv2d.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { isGradEnabled } from '../graph.js';
import { batchNormInference, inferenceAffine } from './batch-norm.js';
import { conv2d, type Conv2dOptions } from './conv2d.js';
import { checkChannelsLast } from './conv2d-layout.js';

/** The batch norm half of `conv2dBatchNormInference`: its moving statistics, affine weights and epsilon. */
export interface InferenceBatchNorm {
  /** The moving mean [cout]. */
  mean: Tensor;
  /** The moving variance [cout]. */
  variance: Tensor;
  /** The scale [cout], or null for 1. */
  gamma: Tensor | null;
  /** The offset [cout], or null for 0. */
  beta: Tensor | null;
  /** Added to the variance before the square root. */
  epsilon: number;
}

/**
 * batchNormInference(conv2d(x, kernel, convOpts), mean, variance, gamma, beta, epsilon, { relu })
 * with the same floats, fused when no gradient can flow (see the file header).
 * Only the plain convolution (strides and padding; no dilations or groups) fuses.
 *
 * @example
 * const y = noGrad(() => conv2dBatchNormInference(x, kernel, { padding: 'same' },
 *   { mean: bn.movingMean!, variance: bn.movingVariance!, gamma: bn.gamma, beta: bn.beta, epsilon: bn.epsilon }, true));
 */
export function conv2dBatchNormInference(
  x: Tensor, kernel: Tensor, convOpts: Pick<Conv2dOptions, 'strides' | 'padding'>, norm: InferenceBatchNorm, relu: boolean,
): Tensor {
  const { mean, variance, gamma, beta, epsilon } = norm;
  const wantsGrad = isGradEnabled() && [x, kernel, gamma, beta].some((t) => t?.requiresGrad === true);
  if (wantsGrad) return batchNormInference(conv2d(x, kernel, convOpts), mean, variance, gamma, beta, epsilon, { relu });
  checkChannelsLast('conv2d', x, kernel);
  const g = conv2dGeometry(x.shape, kernel.shape, convOpts.strides ?? 1, convOpts.padding ?? 'valid');
  for (const [name, t] of Object.entries({ mean, variance, gamma, beta })) {
    if (t && (t.rank !== 1 || t.shape[0] !== g.cout)) {
      throw new Error(`conv2dBatchNormInference: ${name} ${formatShape(t.shape)} must be [${g.cout}] for kernel ${formatShape(kernel.shape)}`);
    }
  }
  const { scale, shift } = inferenceAffine(mean, variance, gamma, beta, epsilon);
  return new Tensor(conv2dForwardAffine(x.data, kernel.data, g, { scale, shift, relu }), [g.n, g.oh, g.ow, g.cout]);
}
