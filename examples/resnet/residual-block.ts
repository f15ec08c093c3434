/**
 * A residual block (He et al. 2015, "Deep Residual Learning"), written as a
 * Layer subclass that holds its parts in fields:
 *
 *   main path:  x -> conv 3x3 -> BN -> ReLU -> conv 3x3 -> BN
 *   skip:       x                      (same shape)
 *               x -> conv 1x1 -> BN    (a projection, when the channels or the stride change)
 *   output:     ReLU(main + skip)
 *
 * The block learns only the residual F(x) = H(x) - x, and the identity path
 * carries the gradient straight through: deep stacks of blocks train where a
 * plain stack of the same depth does not.
 *
 * normgrad finds the convs and BNs in the fields on its own (parameters,
 * stateDict, checkpoints, freezing, summary): their tensors are named
 * `block2/conv1/kernel`, `block2/shortcut/kernel`, `block2/bn2/movingMean`, ...
 */
import { BatchNorm, Conv2d, Layer, add, heNormal, relu, type Shape, type Tensor } from '../../src/index.js';

export interface ResidualBlockOptions {
  /** Output channels of both 3x3 convolutions (and of the projection). */
  filters: number;
  /** Stride of the first conv (and of the projection); 2 halves height and width. Default 1. */
  strides?: number;
  /** Seed of the He-normal kernel initializer (each conv mixes in its own name). */
  seed: number;
  /** Momentum of the blocks' batch norms (default 0.99, as Keras). */
  momentum?: number;
}

export class ResidualBlock extends Layer {
  readonly kind = 'residual';
  readonly filters: number;
  readonly strides: number;
  conv1: Conv2d;
  bn1: BatchNorm;
  conv2: Conv2d;
  bn2: BatchNorm;
  /** The 1x1 projection of the skip path, created on the first call if the shapes need it. */
  shortcut: Conv2d | null = null;
  shortcutBn: BatchNorm | null = null;
  private readonly seed: number;
  private readonly momentum: number;

  constructor(name: string, { filters, strides = 1, seed, momentum = 0.99 }: ResidualBlockOptions) {
    super(name);
    this.filters = filters;
    this.strides = strides;
    this.seed = seed;
    this.momentum = momentum;
    // No conv biases: the BN right after each conv has its own shift (beta).
    const kernelInitializer = heNormal({ seed });
    this.conv1 = new Conv2d(filters, 3, { strides, padding: 'same', useBias: false, kernelInitializer });
    this.bn1 = new BatchNorm({ momentum });
    this.conv2 = new Conv2d(filters, 3, { padding: 'same', useBias: false, kernelInitializer });
    this.bn2 = new BatchNorm({ momentum });
  }

  /** Adds the projection when the input's channels or the stride differ from the output's. */
  protected override build(shape: Shape): void {
    const inChannels = shape[shape.length - 1];
    if (inChannels !== this.filters || this.strides !== 1) {
      this.shortcut = new Conv2d(this.filters, 1, {
        strides: this.strides, padding: 'same', useBias: false, kernelInitializer: heNormal({ seed: this.seed }), name: `${this.name}.shortcut`,
      });
      this.shortcutBn = new BatchNorm({ momentum: this.momentum, name: `${this.name}.shortcutBn` });
    }
  }

  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const o = { isTraining };
    const h = relu(this.bn1.call(this.conv1.call(x, o), o));
    const main = this.bn2.call(this.conv2.call(h, o), o);
    const skip = this.shortcut && this.shortcutBn ? this.shortcutBn.call(this.shortcut.call(x, o), o) : x;
    return relu(add(main, skip));
  }

  /** Each conv's output is read by its BN only, so `foldBatchNorm` may fold them. */
  batchNormPairs(): [string, string][] {
    const pairs: [string, string][] = [['conv1', 'bn1'], ['conv2', 'bn2']];
    if (this.shortcut) pairs.push(['shortcut', 'shortcutBn']);
    return pairs;
  }
}
