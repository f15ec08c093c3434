import { biasAdd } from '../autograd/ops/bias-add.js';
import { zeros } from '../tensor/create.js';
import { checkBoolean, describe } from '../tensor/options.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { applyActivation, checkActivation, type Activation } from './activations.js';
import { fansOf, glorotUniform, hashName, type Initializer } from './initializers.js';
import { checkLayerOptions, Layer, type CallOptions, type Regularizer } from './layer.js';

/** Options shared by the layers that own a kernel (Dense, Conv2d). */
export interface KernelOptions {
  /** Add a bias after the kernel (default true). Off before a BatchNorm, whose beta plays its part. */
  useBias?: boolean;
  /** Default: Glorot uniform, as in Keras. */
  kernelInitializer?: Initializer;
  /** A penalty on the kernel, added to `regularizationLoss()` (e.g. `l2(1e-4)`). */
  kernelRegularizer?: Regularizer;
  /** Applied to the output (default 'linear': none); 'relu' runs fused into the bias add. */
  activation?: Activation;
}

const KERNEL_OPTIONS = ['useBias', 'kernelInitializer', 'kernelRegularizer', 'activation'] as const;

/**
 * Checks the options of a kernel layer (`owner`: 'Dense', 'Conv2d'): the
 * keys (the kernel options, `name` and `extra`) and the kernel options'
 * values. Returns the name option.
 */
export function checkKernelOptions(owner: string, opts: unknown, extra: readonly string[] = []): string | undefined {
  const name = checkLayerOptions(owner, opts, [...extra, ...KERNEL_OPTIONS]);
  const o = (opts ?? {}) as Record<string, unknown>;
  if (o.useBias !== undefined) checkBoolean(owner, 'useBias', o.useBias);
  for (const key of ['kernelInitializer', 'kernelRegularizer']) {
    if (o[key] !== undefined && typeof o[key] !== 'function') throw new Error(`${owner}: ${key} must be a function, got ${describe(o[key])}`);
  }
  checkActivation(owner, o.activation);
  return name;
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
  /** The trainable kernel (dense [in, out], conv HWIO); null until the first call builds it. */
  kernel: Tensor | null = null;
  /** The trainable bias [out]; null until built, or when the layer has no bias. */
  bias: Tensor | null = null;
  /** The activation applied to the output ('linear': none). */
  readonly activation: Activation;

  /** `kernelOptions` must have been checked (`checkKernelOptions`). */
  constructor(name: string, protected readonly kernelOptions: KernelOptions) {
    super(name);
    this.activation = kernelOptions.activation ?? 'linear';
  }

  /** Creates the kernel of `shape` (seeded by this layer's name) and, if used, a zero bias. */
  protected buildWeights(kernelShape: Shape): void {
    this.kernel = makeKernel(kernelShape, this.kernelOptions.kernelInitializer, this.name);
    if (this.kernelOptions.useBias ?? true) this.bias = zeros([kernelShape[kernelShape.length - 1]!]).requireGrad();
  }

  /** The layer without its bias: x W (Dense) or conv2d(x, W) (Conv2d). */
  protected abstract linear(x: Tensor): Tensor;

  /** y = activation(linear(x) + bias), the bias when the layer has one. */
  protected forward(x: Tensor): Tensor {
    return this.apply(x, this.activation);
  }

  /**
   * Calls the layer with `activation` in place of its own: how `Sequential`
   * runs this layer and the ReLU layer after it as one fused op.
   */
  callWithActivation(x: Tensor, opts: CallOptions, activation: Activation): Tensor {
    this.prepareCall(x, opts);
    return this.apply(x, activation);
  }

  // y = max(x W + b, 0) in one op when fused: the same floats as relu(biasAdd(x W, b)).
  private apply(x: Tensor, activation: Activation): Tensor {
    const y = this.linear(x);
    if (activation === 'relu' && this.bias) return biasAdd(y, this.bias, { relu: true });
    return applyActivation(this.bias ? biasAdd(y, this.bias) : y, activation);
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
