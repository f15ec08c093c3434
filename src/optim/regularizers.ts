/**
 * Weight penalties, built from autograd ops so their gradients flow into the
 * kernel like any other loss term. TensorFlow 1's meaning
 * (tf.contrib.layers.l1_regularizer / l2_regularizer / l1_l2_regularizer):
 *
 *   l2(scale)(w) = scale * sum(w^2) / 2     d/dw = scale * w      (tf.nn.l2_loss)
 *   l1(scale)(w) = scale * sum(|w|)         d/dw = scale * sign(w)
 *   l1l2({ l1, l2 }) = l1(l1) + l2(l2)
 *
 * Note the 1/2 in l2: Keras's `regularizers.l2(k)` is k * sum(w^2) with no
 * half, so Keras's l2(k) is our l2(2k). With the half, l2(scale) shrinks each
 * weight by lr * scale * w per SGD step, which is "weight decay" = scale.
 */
import { add, mul } from '../autograd/ops/arithmetic.js';
import { sum } from '../autograd/ops/reduce.js';
import { abs, square } from '../autograd/ops/unary.js';
import type { Regularizer } from '../layers/layer.js';
import { checkOptions } from '../tensor/options.js';
import { Tensor } from '../tensor/tensor.js';

export type { Regularizer } from '../layers/layer.js';

function checkScale(name: string, option: string, scale: unknown): number {
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < 0) {
    throw new Error(`${name}: ${option} must be a non-negative finite number, got ${String(scale)}`);
  }
  return scale;
}

function checkWeights(name: string, w: unknown): Tensor {
  if (!(w instanceof Tensor)) throw new Error(`${name}: expected a weight Tensor, got ${typeof w}`);
  return w;
}

/**
 * The L2 penalty `scale * sum(w^2) / 2`, a differentiable scalar; its
 * gradient is `scale * w`.
 *
 * @example
 * const dense = new Dense(10, { kernelRegularizer: l2(1e-4) });
 * // l2(0.1)(tensor([0, 1, 2, 3])).item() === 0.7
 */
export function l2(scale: number): Regularizer {
  const s = checkScale('l2', 'scale', scale);
  // y = s/2 * sum(w^2)      dy/dw = s * w
  return (w) => mul(sum(square(checkWeights('l2', w))), s / 2);
}

/**
 * The L1 penalty `scale * sum(|w|)`, a differentiable scalar; its gradient
 * is `scale * sign(w)` (0 at w = 0).
 *
 * @example
 * l1(0.5)(tensor([[1, -2], [-3, 4]])).item() // 5
 */
export function l1(scale: number): Regularizer {
  const s = checkScale('l1', 'scale', scale);
  // y = s * sum(|w|)        dy/dw = s * sign(w)
  return (w) => mul(sum(abs(checkWeights('l1', w))), s);
}

/** Options of `l1l2`: the two scales, each defaulting to 0. */
export interface L1L2Options {
  /** Scale of the L1 penalty, l1 * sum(|w|) (default 0). */
  l1?: number;
  /** Scale of the L2 penalty, l2 * sum(w^2) (default 0). */
  l2?: number;
}

/**
 * Both penalties: `l1 * sum(|w|) + l2 * sum(w^2) / 2`.
 *
 * @example
 * l1l2({ l1: 0.5, l2: 0.5 })(tensor([[1, -2], [-3, 4]])).item() // 5 + 7.5 = 12.5
 */
export function l1l2(opts: L1L2Options): Regularizer {
  if (opts === null || typeof opts !== 'object') throw new Error(`l1l2: expected options { l1, l2 }, got ${String(opts)}`);
  checkOptions('l1l2', opts, ['l1', 'l2']);
  const penaltyL1 = l1(checkScale('l1l2', 'l1', opts.l1 ?? 0));
  const penaltyL2 = l2(checkScale('l1l2', 'l2', opts.l2 ?? 0));
  return (w) => {
    checkWeights('l1l2', w);
    return add(penaltyL1(w), penaltyL2(w));
  };
}
