/**
 * Group normalization (Wu and He, 2018), channels last: per example, the C
 * channels are split into `groups` consecutive groups of C/groups, and each
 * group is normalized over its channels and every position (H, W for NHWC).
 *   y = gamma_c * (x - mean_g) / sqrt(var_g + epsilon) + beta_c
 * groups = C (or -1) is instance normalization; groups = 1 normalizes the
 * whole example (layer norm over [H, W, C], with per-channel gamma/beta).
 * No batch statistics, so it works the same at any batch size.
 * The op and its closed-form backward: src/autograd/ops/group-norm.ts.
 */
import { checkEpsilon, groupNormalization, resolveGroups } from '../autograd/ops/group-norm.js';
import { ones, zeros } from '../tensor/create.js';
import { checkBoolean, checkInteger } from '../tensor/options.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { affineWeights, checkLayerOptions, Layer } from './layer.js';

/** Options of `GroupNorm`; the defaults are Keras' GroupNormalization's. */
export interface GroupNormOptions {
  /** The layer\'s name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** Number of groups (default 32, Keras); -1 means one group per channel (instance norm). */
  groups?: number;
  /** Added to the variance (default 1e-3). */
  epsilon?: number;
  /** Learn a per-channel offset beta (default true). */
  center?: boolean;
  /** Learn a per-channel scale gamma (default true). */
  scale?: boolean;
}

/**
 * Group normalization over channels-last input ([N, C], [N, L, C] or NHWC),
 * gamma and beta per channel. No moving statistics: `isTraining` changes
 * nothing. See docs/norms.md.
 *
 * @example
 * const gn = new GroupNorm({ groups: 2 });
 * gn.call(randomNormal([2, 4, 4, 6], { seed: 1 }), { isTraining: true }); // 2 groups of 3 channels
 * new GroupNorm({ groups: -1 }); // instance norm
 */
export class GroupNorm extends Layer {
  readonly kind = 'gn';
  /** The number of channel groups normalized separately (the channel count: instance norm). */
  readonly groups: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer has a learned offset beta. */
  readonly center: boolean;
  /** Whether the layer has a learned scale gamma. */
  readonly scale: boolean;
  /** Trainable per-channel scale, initially 1 (null if `scale` is false). */
  gamma: Tensor | null = null;
  /** Trainable per-channel offset, initially 0 (null if `center` is false). */
  beta: Tensor | null = null;

  constructor(opts: GroupNormOptions = {}) {
    super(checkLayerOptions('GroupNorm', opts, ['groups', 'epsilon', 'center', 'scale']) ?? 'gn');
    const { groups = 32, epsilon = 1e-3, center = true, scale = true } = opts;
    this.groups = groups === -1 ? -1 : checkInteger('GroupNorm', 'groups', groups, 1);
    this.epsilon = checkEpsilon('GroupNorm', epsilon);
    this.center = checkBoolean('GroupNorm', 'center', center);
    this.scale = checkBoolean('GroupNorm', 'scale', scale);
  }

  protected override build(inputShape: Shape): void {
    if (inputShape.length < 2) throw new Error(`${this.name}: expected input [N, ..., C], got ${formatShape(inputShape)}`);
    const c = inputShape[inputShape.length - 1]!;
    resolveGroups(this.name, this.groups, c, inputShape);
    if (this.scale) this.gamma = ones([c]).requireGrad();
    if (this.center) this.beta = zeros([c]).requireGrad();
  }

  protected forward(x: Tensor): Tensor {
    try {
      return groupNormalization(x, this.gamma, this.beta, { groups: this.groups, epsilon: this.epsilon });
    } catch (err) {
      throw new Error(`${this.name}: ${(err as Error).message}`);
    }
  }

  override weights(): Map<string, Tensor> {
    return affineWeights(this.gamma, this.beta);
  }
}
