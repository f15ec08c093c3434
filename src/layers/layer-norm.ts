/**
 * Layer normalization (Ba, Kiros and Hinton, 2016): each example is
 * normalized over its own trailing axes, so the output never depends on the
 * rest of the batch and training and inference compute the same thing.
 *   y = gamma * (x - mean) / sqrt(var + epsilon) + beta   (mean, var per example)
 * The op and its closed-form backward: src/autograd/ops/group-norm.ts.
 */
import { checkEpsilon, layerNormalization, trailingAxes } from '../autograd/ops/group-norm.js';
import { ones, zeros } from '../tensor/create.js';
import { checkBoolean } from '../tensor/options.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { affineWeights, checkLayerOptions, Layer } from './layer.js';

/** Options of `LayerNorm`; the defaults are Keras' LayerNormalization's. */
export interface LayerNormOptions {
  /** The layer\'s name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** The normalized axes: -1 (default, the last) or a list of trailing axes, e.g. [1, 2, 3] for NHWC. */
  axis?: number | readonly number[];
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
}

/**
 * Layer normalization over the trailing axes, gamma and beta shaped like
 * them. No moving statistics: `isTraining` changes nothing. See docs/norms.md.
 *
 * @example
 * const ln = new LayerNorm({ axis: -1, epsilon: 1e-3 });
 * ln.call(randomNormal([4, 16], { seed: 1 }), { isTraining: true }); // each row: mean 0, variance ~1
 * [...ln.stateDict().keys()]; // ['gamma', 'beta']
 */
export class LayerNorm extends Layer {
  readonly kind = 'ln';
  /** The axes normalized over, per example (-1: the last). */
  readonly axis: number | readonly number[];
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer has a learned offset beta. */
  readonly center: boolean;
  /** Whether the layer has a learned scale gamma. */
  readonly scale: boolean;
  /** Trainable scale, initially 1 (null if `scale` is false). */
  gamma: Tensor | null = null;
  /** Trainable offset, initially 0 (null if `center` is false). */
  beta: Tensor | null = null;

  constructor(opts: LayerNormOptions = {}) {
    super(checkLayerOptions('LayerNorm', opts, ['axis', 'epsilon', 'center', 'scale']) ?? 'ln');
    const { axis = -1, epsilon = 1e-3, center = true, scale = true } = opts;
    if (typeof axis !== 'number' && !Array.isArray(axis)) {
      throw new Error(`LayerNorm: axis must be an integer or a list of trailing axes, got ${String(axis)}`);
    }
    this.axis = typeof axis === 'number' ? axis : [...axis];
    this.epsilon = checkEpsilon('LayerNorm', epsilon);
    this.center = checkBoolean('LayerNorm', 'center', center);
    this.scale = checkBoolean('LayerNorm', 'scale', scale);
  }

  protected override build(inputShape: Shape): void {
    const axes = trailingAxes(this.name, inputShape.length, this.axis, inputShape);
    const shape = inputShape.slice(axes[0]);
    if (this.scale) this.gamma = ones(shape).requireGrad();
    if (this.center) this.beta = zeros(shape).requireGrad();
  }

  protected forward(x: Tensor): Tensor {
    try {
      return layerNormalization(x, this.gamma, this.beta, { axis: this.axis, epsilon: this.epsilon });
    } catch (err) {
      throw new Error(`${this.name}: ${(err as Error).message}`);
    }
  }

  override weights(): Map<string, Tensor> {
    return affineWeights(this.gamma, this.beta);
  }
}
