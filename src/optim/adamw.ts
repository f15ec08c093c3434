/**
 * AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), with
 * PyTorch's semantics (torch.optim.AdamW): the weights shrink by lr * wd
 * before Adam's update, instead of wd * w being added to the gradient:
 *
 *   w = w - lr * wd * w                 decoupled decay (skipped for excluded parameters)
 *   w = w - lr * mHat / (sqrt(vHat) + eps)   Adam, as in adam.ts
 *
 * The decay uses this step's learning rate, so a schedule scales it too (as
 * in PyTorch and Keras). With an L2 penalty on the loss instead (`l2(s)`),
 * the decay term would pass through Adam's division by sqrt(vHat) and
 * weights with large gradients would be decayed less; here every weight
 * shrinks by the same factor (1 - lr * wd).
 *
 * Defaults: weightDecay 0.01 as PyTorch (Keras' AdamW uses 0.004); lr, betas
 * and epsilon are normgrad's Adam's (Keras's eps 1e-7; PyTorch's is 1e-8).
 */
import { formatShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import { adamUpdateOnBackend, type AdamOptions, type AdamSlot } from './adam.js';
import { CLIP_OPTIONS, readClipping } from './clip.js';
import type { Slots } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkOptionNames, checkPositive, checkRange } from './option-checks.js';

/** Options of `AdamW`: Adam's, plus the decay and which parameters it skips. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay rate, >= 0 (default 0.01, as PyTorch). */
  weightDecay?: number;
  /**
   * Parameters that get no weight decay (they still get Adam's update): called
   * for each parameter at each step. `biasAndNormWeights(model)` excludes biases
   * and normalization scales and offsets. Default: decay every parameter, as PyTorch.
   */
  exclude?: (param: Tensor) => boolean;
}

const OPTIONS = ['learningRate', 'beta1', 'beta2', 'epsilon', 'weightDecay', 'exclude'] as const;

/**
 * The AdamW optimizer. State as Adam's, under `adamw/`: `adamw/step`,
 * `adamw/<param>/m`, `adamw/<param>/v`, `adamw/<param>/step`.
 *
 * @example
 * const opt = new AdamW({ learningRate: 1e-3, weightDecay: 0.01, exclude: biasAndNormWeights(model) });
 * loss.backward();
 * opt.step(model.parameters());
 * opt.zeroGrad(model.parameters());
 */
export class AdamW extends Optimizer<AdamSlot> {
  /** Decay of the first-moment (mean) average. */
  readonly beta1: number;
  /** Decay of the second-moment (uncentered variance) average. */
  readonly beta2: number;
  /** Added to sqrt(vHat) to keep the step finite. */
  readonly epsilon: number;
  /** Decoupled weight decay rate: each step multiplies decayed weights by 1 - learningRate * weightDecay. */
  readonly weightDecay: number;
  /** The exclusion predicate, or null when every parameter is decayed. */
  readonly exclude: ((param: Tensor) => boolean) | null;

  constructor(opts: AdamWOptions = {}) {
    checkOptionNames('AdamW', opts, [...OPTIONS, ...CLIP_OPTIONS]);
    super('AdamW', 'adamw', { m: 'element', v: 'element', step: 'counter' }, opts.learningRate ?? 0.001, readClipping('AdamW', opts));
    this.beta1 = checkRange('AdamW', 'beta1', opts.beta1 ?? 0.9, 0, 1);
    this.beta2 = checkRange('AdamW', 'beta2', opts.beta2 ?? 0.999, 0, 1);
    this.epsilon = checkPositive('AdamW', 'epsilon', opts.epsilon ?? 1e-7);
    this.weightDecay = checkRange('AdamW', 'weightDecay', opts.weightDecay ?? 0.01, 0, Infinity);
    const exclude = opts.exclude ?? null;
    if (exclude !== null && typeof exclude !== 'function') {
      throw new Error(`AdamW: exclude must be a function (param) => boolean, got ${String(exclude)}`);
    }
    this.exclude = exclude;
  }

  /**
   * Asks `exclude` about every parameter first, so a predicate that throws
   * (or answers neither true nor false) stops the step before any weight changes.
   */
  override step(params: Iterable<Tensor>): void {
    const list = [...params];
    const excluded = new Set<Tensor>();
    if (this.exclude !== null) {
      for (const p of list) if (p instanceof Tensor && p.grad !== null && this.isExcluded(p)) excluded.add(p);
    }
    this.excludedNow = excluded;
    super.step(list);
  }

  protected update(w: Float32Array, g: Float32Array, slots: Slots<AdamSlot>, lr: number, param: Tensor): void {
    // shrink = 1 - lr * wd (1 for an excluded parameter)
    const shrink = this.excludedNow.has(param) ? 1 : 1 - lr * this.weightDecay;
    adamUpdateOnBackend(w, g, slots, lr, this.beta1, this.beta2, this.epsilon, shrink);
  }

  private excludedNow = new Set<Tensor>();

  private isExcluded(param: Tensor): boolean {
    const answer = this.exclude!(param);
    if (typeof answer !== 'boolean') throw new Error(`AdamW: exclude must return true or false, got ${String(answer)} for a parameter ${formatShape(param.shape)}`);
    return answer;
  }
}
