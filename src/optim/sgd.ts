/**
 * Stochastic gradient descent, optionally with (Nesterov) momentum, in
 * Keras's formulation (the velocity carries the learning rate):
 *
 *   v = momentum * v - lr * g
 *   w = w + v                            (classical momentum)
 *   w = w + momentum * v - lr * g        (nesterov, with the new v)
 *
 * With momentum 0 this is plain w -= lr * g and no velocity is kept.
 * PyTorch keeps lr outside the velocity (v = mu v + g; w -= lr v); the two
 * agree for a constant learning rate and differ when it changes.
 */
import { CLIP_OPTIONS, readClipping, type ClipOptions } from './clip.js';
import type { LearningRate, Slots } from './optimizer.js';
import { Optimizer } from './optimizer.js';
import { checkOptionNames, checkRange } from './option-checks.js';

/** Options of `SGD` (and the clipping options every optimizer takes). */
export interface SGDOptions extends ClipOptions {
  /** Step size, or a schedule of the 1-based step (default 0.01, as in Keras). */
  learningRate?: LearningRate;
  /** Velocity decay in [0, 1) (default 0: plain SGD). */
  momentum?: number;
  /** Look ahead along the velocity (default false); needs momentum > 0. */
  nesterov?: boolean;
}

const OPTIONS = ['learningRate', 'momentum', 'nesterov'] as const;

/**
 * SGD with optional momentum. State: `sgd/step` and, with momentum,
 * `sgd/<param>/velocity`.
 *
 * @example
 * const opt = new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true });
 * loss.backward();
 * opt.step(model.parameters());
 * opt.zeroGrad(model.parameters());
 */
export class SGD extends Optimizer<'velocity'> {
  /** Velocity decay (0: plain SGD). */
  readonly momentum: number;
  /** Whether the step looks ahead along the velocity. */
  readonly nesterov: boolean;

  constructor(opts: SGDOptions = {}) {
    checkOptionNames('SGD', opts, [...OPTIONS, ...CLIP_OPTIONS]);
    const momentum = checkRange('SGD', 'momentum', opts.momentum ?? 0, 0, 1);
    const nesterov = opts.nesterov ?? false;
    if (typeof nesterov !== 'boolean') throw new Error(`SGD: nesterov must be true or false, got ${String(nesterov)}`);
    if (nesterov && momentum === 0) throw new Error('SGD: nesterov needs momentum > 0 (with momentum 0 it is plain SGD)');
    // Without momentum there is no slot at all, so no velocity is allocated or saved.
    super('SGD', 'sgd', momentum > 0 ? { velocity: 'element' } : ({} as Record<'velocity', 'element'>), opts.learningRate ?? 0.01, readClipping('SGD', opts));
    this.momentum = momentum;
    this.nesterov = nesterov;
  }

  protected update(w: Float32Array, g: Float32Array, slots: Slots<'velocity'>, lr: number): void {
    const n = w.length;
    const mu = this.momentum;
    // w = w - lr * g
    if (mu === 0) {
      for (let i = 0; i < n; i++) w[i] = w[i]! - lr * g[i]!;
      return;
    }
    const v = slots.velocity;
    if (this.nesterov) {
      // v = mu v - lr g;  w = w + mu v - lr g
      for (let i = 0; i < n; i++) {
        const vi = mu * v[i]! - lr * g[i]!;
        v[i] = vi;
        w[i] = w[i]! + mu * vi - lr * g[i]!;
      }
    } else {
      // v = mu v - lr g;  w = w + v
      for (let i = 0; i < n; i++) {
        const vi = mu * v[i]! - lr * g[i]!;
        v[i] = vi;
        w[i] = w[i]! + vi;
      }
    }
  }
}
