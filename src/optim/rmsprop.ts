/**
 * RMSprop (Tieleman & Hinton), with ms the running mean square of g and,
 * when centered, mg the running mean of g:
 *
 *   ms = rho ms + (1 - rho) g^2                      ms starts at 0
 *   mg = rho mg + (1 - rho) g                        centered only
 *   d  = sqrt(ms) + eps,  or  sqrt(ms - mg^2) + eps  centered (a variance estimate)
 *   w  = w - lr g / d                                momentum 0
 *   v  = mu v - lr g / d;  w = w + v                 momentum mu > 0
 *
 * eps sits outside the root in every mode: that is Keras 2.x's momentum-free
 * update (optimizer_v2) and PyTorch's RMSprop (`alpha` is rho) in all modes.
 * With a constant learning rate this is exactly torch.optim.RMSprop(lr, alpha
 * = rho, eps, momentum, centered): PyTorch keeps lr outside its buffer
 * (b = mu b + g / d; w -= lr b), so v = -lr b; the two differ only when a
 * schedule changes lr, as for SGD. Keras 3, TF >= 2.11 and TF.js (and Keras
 * 2.x once momentum > 0 or centered) put eps inside the root,
 * lr g / sqrt(ms + eps), and carry lr in the velocity as here; TF1 also starts
 * ms at ones. The defaults are Keras's (rho 0.9, eps 1e-7; PyTorch's are
 * alpha 0.99, eps 1e-8).
 */
import { CLIP_OPTIONS, readClipping, type ClipOptions } from './clip.js';
import type { LearningRate, SlotKind, Slots } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkOptionNames, checkPositive, checkRange } from './option-checks.js';
import { checkBoolean } from '../tensor/options.js';

/** Options of `RMSprop`; the defaults are Keras's. Takes the clipping options too. */
export interface RMSpropOptions extends ClipOptions {
  /** Step size, or a schedule of the 1-based step (default 0.001). */
  learningRate?: LearningRate;
  /** Decay of the mean-square average, in [0, 1) (default 0.9; PyTorch calls it alpha). */
  rho?: number;
  /** Added to the root of the mean square to keep the step finite, > 0 (default 1e-7). */
  epsilon?: number;
  /** Velocity decay in [0, 1) (default 0: no velocity kept). */
  momentum?: number;
  /** Divide by the root of the gradient's running variance, ms - mg^2, instead of its mean square (default false). */
  centered?: boolean;
}

const OPTIONS = ['learningRate', 'rho', 'epsilon', 'momentum', 'centered'] as const;

/** RMSprop's slots: ms always, mg when centered, velocity with momentum. */
type RMSpropSlot = 'ms' | 'mg' | 'velocity';

/**
 * The RMSprop optimizer. State: `rmsprop/step`, `rmsprop/<param>/ms`, and
 * `rmsprop/<param>/mg` (centered) and `rmsprop/<param>/velocity` (momentum).
 *
 * @example
 * const opt = new RMSprop({ learningRate: 1e-3, rho: 0.9, momentum: 0.9, centered: true });
 * loss.backward();
 * opt.step(model.parameters());
 * opt.zeroGrad(model.parameters());
 */
export class RMSprop extends Optimizer<RMSpropSlot> {
  /** Decay of the mean-square average. */
  readonly rho: number;
  /** Added to the root of the mean square to keep the step finite. */
  readonly epsilon: number;
  /** Velocity decay (0: no velocity kept). */
  readonly momentum: number;
  /** Whether the step divides by the root of the gradient's running variance instead of its mean square. */
  readonly centered: boolean;

  constructor(opts: RMSpropOptions = {}) {
    checkOptionNames('RMSprop', opts, [...OPTIONS, ...CLIP_OPTIONS]);
    const momentum = checkRange('RMSprop', 'momentum', opts.momentum ?? 0, 0, 1);
    const centered = checkBoolean('RMSprop', 'centered', opts.centered ?? false);
    // Only the slots in use exist, so a plain RMSprop saves just ms.
    const slots: Partial<Record<RMSpropSlot, SlotKind>> = { ms: 'element' };
    if (centered) slots.mg = 'element';
    if (momentum > 0) slots.velocity = 'element';
    super('RMSprop', 'rmsprop', slots as Record<RMSpropSlot, SlotKind>, opts.learningRate ?? 0.001, readClipping('RMSprop', opts));
    this.rho = checkRange('RMSprop', 'rho', opts.rho ?? 0.9, 0, 1);
    this.epsilon = checkPositive('RMSprop', 'epsilon', opts.epsilon ?? 1e-7);
    this.momentum = momentum;
    this.centered = centered;
  }

  protected update(w: Float32Array, g: Float32Array, slots: Slots<RMSpropSlot>, lr: number): void {
    const { ms, mg, velocity } = slots;
    const rho = this.rho;
    const eps = this.epsilon;
    const mu = this.momentum;
    const centered = this.centered;
    for (let i = 0; i < w.length; i++) {
      const gi = g[i]!;
      // ms = rho ms + (1-rho) g^2
      const s = rho * ms[i]! + (1 - rho) * gi * gi;
      ms[i] = s;
      let d: number;
      if (centered) {
        // mg = rho mg + (1-rho) g;  d = sqrt(ms - mg^2) + eps. Rounding (ms and mg are
        // stored as float32) can leave the variance a hair below 0, so it is floored at 0
        // (a comparison with NaN is false, so NaN stays NaN).
        const a = rho * mg[i]! + (1 - rho) * gi;
        mg[i] = a;
        const variance = s - a * a;
        d = Math.sqrt(variance < 0 ? 0 : variance) + eps;
      } else {
        d = Math.sqrt(s) + eps;
      }
      if (mu > 0) {
        // v = mu v - lr g / d;  w = w + v
        const vi = mu * velocity[i]! - (lr * gi) / d;
        velocity[i] = vi;
        w[i] = w[i]! + vi;
      } else {
        // w = w - lr g / d
        w[i] = w[i]! - (lr * gi) / d;
      }
    }
  }
}
