import { biasAdd } from '../autograd/ops/bias-add.js';
import { relu } from '../autograd/ops/unary.js';
import { zeros } from '../tensor/create.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { fansOf, glorotUniform, hashName, type Initializer } from './initializers.js';
import { Layer, type CallOptions, type Regularizer } from './layer.js';

/** Options shared by the layers that own a kernel (Dense, Conv2d). */
export interface KernelOptions {
  /** Add a bias after the kernel (default true). Off before a BatchNorm, whose beta plays its part. */
  useBias?: boolean;
  /** Default: Glorot uniform, as in Keras. */
  kernelInitializer?: Initializer;
  /** A penalty on the kernel, added to `regularizationLoss()` (e.g. `l2(1e-4)`). */
  kernelRegularizer?: Regularizer;
}

/** A trainable kernel drawn by `init`, seeded by the layer's name. */
export function makeKernel(shape: Shape, init: Initializer | undefined, layerName: string): Tensor {
  const kernel = (init ?? glorotUniform())(shape, fansOf(shape), hashName(layerName));
  kernel.requiresGrad = true;
  return kernel;
}

/**
 * A layer that owns a kernel and an optional bias (Dense, Conv2d): the two
 * share their weights, their penalty, and how the weights are created.
 */
export abstract class KernelLayer extends Layer {
  kernel: Tensor | null = null;
  bias: Tensor | null = null;

  constructor(name: string, protected readonly kernelOptions: KernelOptions) {
    super(name);
  }

  /** Creates the kernel of `shape` (seeded by this layer's name) and, if used, a zero bias. */
  protected buildWeights(kernelShape: Shape): void {
    this.kernel = makeKernel(kernelShape, this.kernelOptions.kernelInitializer, this.name);
    if (this.kernelOptions.useBias ?? true) this.bias = zeros([kernelShape[kernelShape.length - 1]!]).requireGrad();
  }

  /** The layer without its bias: x W (Dense) or conv2d(x, W) (Conv2d). */
  protected abstract linear(x: Tensor): Tensor;

  /** y = linear(x) + bias (when the layer has one). */
  protected forward(x: Tensor): Tensor {
    const y = this.linear(x);
    return this.bias ? biasAdd(y, this.bias) : y;
  }

  /**
   * relu(this.call(x, opts)), the ReLU fused into the bias add (the same
   * floats). Sequential calls it for a Dense or Conv2d directly followed by a ReLU.
   */
  callThenRelu(x: Tensor, opts: CallOptions): Tensor {
    this.prepareCall(x, opts);
    const y = this.linear(x);
    return this.bias ? biasAdd(y, this.bias, { relu: true }) : relu(y);
  }

  override weights(): Map<string, Tensor> {
    const w = new Map<string, Tensor>();
    if (this.kernel) w.set('kernel', this.kernel);
    if (this.bias) w.set('bias', this.bias);
    return w;
  }

  override regularizationLoss(): Tensor | null {
    const penalty = this.kernelOptions.kernelRegularizer;
    return this.kernel && penalty ? penalty(this.kernel) : null;
  }
}
