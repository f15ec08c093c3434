/**
 * Adam (Kingma & Ba, Algorithm 1) with bias correction, Keras defaults:
 *
 *   t    = t + 1
 *   m    = b1 m + (1 - b1) g            first moment
 *   v    = b2 v + (1 - b2) g^2          second moment
 *   mHat = m / (1 - b1^t)               bias corrections: m and v start at 0
 *   vHat = v / (1 - b2^t)
 *   w    = w - lr * mHat / (sqrt(vHat) + eps)
 *
 * Two deliberate choices:
 *  - eps is added to sqrt(vHat), as in the paper's Algorithm 1. TF/Keras
 *    fold the corrections into the step size, lr_t = lr sqrt(1-b2^t)/(1-b1^t),
 *    and add eps to the uncorrected sqrt(v) ("epsilon hat"); that equals
 *    eps / sqrt(1 - b2^t) here, a larger eps in the first ~1000 steps. With
 *    eps = 1e-7 the two differ only where |g| is around 1e-7 or less.
 *  - t counts the updates each parameter has received (PyTorch keeps a step
 *    per parameter too); Keras uses the optimizer's global `iterations`. For
 *    parameters present from the first step the two are the same. They differ
 *    for a layer unfrozen later: with the global count its m, v (just
 *    started from zero) would be under-corrected, and with a steady gradient
 *    its first hundred steps would be 3 to 6.5 times the intended size.
 */
import { adamRowsFast } from '../tensor/kernels/adam.js';
import { CLIP_OPTIONS, readClipping, type ClipOptions } from './clip.js';
import type { LearningRate, Slots } from './optimizer.js';
import { checkOptionNames, checkPositive, checkRange, Optimizer } from './optimizer.js';

/** Options of `Adam`; the defaults are Keras's. Takes the clipping options too. */
export interface AdamOptions extends ClipOptions {
  /** Step size, or a schedule of the 1-based step (default 0.001). */
  learningRate?: LearningRate;
  /** Decay of the first-moment average, in [0, 1) (default 0.9). */
  beta1?: number;
  /** Decay of the second-moment average, in [0, 1) (default 0.999). */
  beta2?: number;
  /** Added to sqrt(vHat) to keep the step finite, > 0 (default 1e-7). */
  epsilon?: number;
}

const OPTIONS = ['learningRate', 'beta1', 'beta2', 'epsilon'] as const;

/** Adam's slots: the two moments and the parameter's own update count. */
export type AdamSlot = 'm' | 'v' | 'step';

/**
 * The Adam optimizer. State per parameter: `adam/<param>/m`, `adam/<param>/v`
 * and `adam/<param>/step` (its update count, for the bias correction), plus
 * the optimizer's `adam/step`, which drives the learning-rate schedule.
 *
 * @example
 * const opt = new Adam({ learningRate: 1e-3 });
 * for (const batch of batches) {
 *   const loss = lossFn(model.call(batch.x, { isTraining: true }), batch.y);
 *   loss.backward();
 *   opt.step(model.parameters());
 *   opt.zeroGrad(model.parameters());
 * }
 */
export class Adam extends Optimizer<AdamSlot> {
  /** Decay of the first-moment (mean) average. */
  readonly beta1: number;
  /** Decay of the second-moment (uncentered variance) average. */
  readonly beta2: number;
  /** Added to sqrt(vHat) to keep the step finite. */
  readonly epsilon: number;

  constructor(opts: AdamOptions = {}) {
    checkOptionNames('Adam', opts, [...OPTIONS, ...CLIP_OPTIONS]);
    super('Adam', 'adam', { m: 'element', v: 'element', step: 'counter' }, opts.learningRate ?? 0.001, readClipping('Adam', opts));
    this.beta1 = checkRange('Adam', 'beta1', opts.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRange('Adam', 'beta2', opts.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkPositive('Adam', 'epsilon', opts.epsilon ?? 1e-7);
  }

  protected update(w: Float32Array, g: Float32Array, slots: Slots<AdamSlot>, lr: number): void {
    adamUpdateOnBackend(w, g, slots, lr, this.beta1, this.beta2, this.epsilon, 1);
  }
}

/**
 * adamUpdate on the current backend: with 'wasm', its WebAssembly twin
 * (src/tensor/kernels/wasm/adam-wasm.ts), the same floats two at a time;
 * with 'js', adamUpdate itself.
 */
export function adamUpdateOnBackend(w: Float32Array, g: Float32Array, slots: Slots<AdamSlot>, lr: number, b1: number, b2: number, eps: number, shrink: number): void {
  const t = slots.step[0]! + 1;
  if (!adamRowsFast(w, g, slots.m, slots.v, lr, b1, b2, eps, shrink, 1 / (1 - b1 ** t), 1 / (1 - b2 ** t))) {
    adamUpdate(w, g, slots, lr, b1, b2, eps, shrink);
    return;
  }
  slots.step[0] = t;
}

/**
 * One Adam update of `w` in place (the formulas at the top of this file).
 * `shrink` multiplies w first: 1 for Adam, 1 - lr * weightDecay for AdamW.
 */
export function adamUpdate(w: Float32Array, g: Float32Array, slots: Slots<AdamSlot>, lr: number, b1: number, b2: number, eps: number, shrink: number): void {
  const { m, v } = slots;
  // t = t + 1;  c1 = 1 / (1 - b1^t);  c2 = 1 / (1 - b2^t)   (float64 scalars)
  const t = slots.step[0]! + 1;
  slots.step[0] = t;
  const c1 = 1 / (1 - b1 ** t);
  const c2 = 1 / (1 - b2 ** t);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    // m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2
    const mi = b1 * m[i]! + (1 - b1) * gi;
    const vi = b2 * v[i]! + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    // w = shrink w - lr * (m c1) / (sqrt(v c2) + eps)
    w[i] = shrink * w[i]! - (lr * mi * c1) / (Math.sqrt(vi * c2) + eps);
  }
}
