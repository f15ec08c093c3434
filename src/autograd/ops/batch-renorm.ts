/**
 * Batch renormalization (Ioffe, 2017) as Keras computes it: the batch is
 * normalized with its own statistics, then corrected towards the moving ones
 * by per-channel r and d that are constants for the backward pass
 * (tf.stop_gradient):
 *
 *   y = gamma * (xHat * r + d) + beta = (gamma * r) * xHat + (beta + gamma * d)
 *
 * so the fused batch-norm op runs with gamma' = gamma * r and
 * beta' = beta + gamma * d, recorded as products with constants: the
 * gradients are gGamma = r * sum(gy * xHat) + d * sum(gy), gBeta = sum(gy),
 * and gx is batch norm's closed form with gxHat = gy * gamma * r.
 * How r and d are computed and clipped: src/layers/batch-renorm.ts.
 */
import { Tensor } from '../../tensor/tensor.js';
import { formatShape } from '../../tensor/shape.js';
import { add, mul } from './arithmetic.js';
import { batchNormTraining, type BatchNormOpOptions, type BatchNormTrainingResult } from './batch-norm.js';

/**
 * gamma' = gamma * r and beta' = beta + gamma * d (gamma null: 1; beta null: 0),
 * with r and d constants: what a renormalizing batch norm feeds the ordinary op.
 *
 * @example
 * const { gamma: g, beta: b } = renormAffine(gamma, beta, r, d); // then batchNormTraining(x, g, b, eps)
 */
export function renormAffine(
  gamma: Tensor | null, beta: Tensor | null, r: Float32Array, d: Float32Array,
): { gamma: Tensor; beta: Tensor } {
  const c = r.length;
  if (d.length !== c || (gamma && gamma.size !== c) || (beta && beta.size !== c)) {
    throw new Error(`batchRenorm: r [${c}], d [${d.length}], gamma ${gamma ? formatShape(gamma.shape) : 'null'} and beta ${beta ? formatShape(beta.shape) : 'null'} must all be [channels]`);
  }
  const rt = new Tensor(Float32Array.from(r), [c]);
  const dt = new Tensor(Float32Array.from(d), [c]);
  const scaled = gamma ? mul(gamma, rt) : rt;
  const shift = gamma ? mul(gamma, dt) : dt;
  return { gamma: scaled, beta: beta ? add(beta, shift) : shift };
}

/**
 * Training-mode batch renormalization with given corrections r and d (per
 * channel, held constant in the backward pass). Differentiable in x, gamma
 * and beta; returns the batch statistics like batchNormTraining.
 *
 * @example
 * const r = Float32Array.of(1.2, 0.9), d = Float32Array.of(0.1, -0.3);
 * const { y } = batchRenormTraining(x, gamma, beta, r, d, 1e-3); // x [N, 2]
 */
export function batchRenormTraining(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, r: Float32Array, d: Float32Array, epsilon: number,
  opts: BatchNormOpOptions = {},
): BatchNormTrainingResult {
  const { gamma: g, beta: b } = renormAffine(gamma, beta, r, d);
  return batchNormTraining(x, g, b, epsilon, opts);
}
