/**
 * 2-D convolution over NHWC input with an HWIO kernel [kh, kw, in, filters],
 * TensorFlow's SAME/VALID padding. y = conv2d(x, kernel) + bias.
 */
import { conv2d } from '../autograd/ops/conv2d.js';
import { checkOneOf, describe } from '../tensor/options.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkRank } from './layer.js';
import { checkKernelOptions, KernelLayer, type KernelOptions } from './weights.js';

/** Options of the `Conv2d` layer: strides, padding, and the kernel options (bias, initializer, regularizer, activation). */
export interface Conv2dOptions extends KernelOptions {
  /** The layer's name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** Step between patches, one number or [vertical, horizontal] (default 1). */
  strides?: number | [number, number];
  /** 'same' keeps ceil(size / stride) outputs; 'valid' uses only full patches (default 'valid', as Keras). */
  padding?: 'same' | 'valid';
}

/**
 * A 2-D convolution layer over NHWC input, kernel HWIO [kh, kw, in, filters],
 * TensorFlow's SAME/VALID padding (default 'valid', as Keras).
 *
 * @example
 * const conv = new Conv2d(16, 3, { padding: 'same', strides: 2, useBias: false });
 * new Conv2d(8, 3, { activation: 'relu' });   // max(conv2d(x, W) + b, 0), fused into one op
 * conv.call(zeros([8, 28, 28, 1]), { isTraining: false }).shape; // [8, 14, 14, 16]
 */
export class Conv2d extends KernelLayer {
  readonly kind = 'conv';
  /** Output channels: the kernel is HWIO [kh, kw, in, filters]. */
  readonly filters: number;
  /** The window [kh, kw]. */
  readonly kernelSize: [number, number];
  private readonly opts: Conv2dOptions;

  constructor(filters: number, kernelSize: number | [number, number], opts: Conv2dOptions = {}) {
    super(checkKernelOptions('Conv2d', opts, ['strides', 'padding']) ?? 'conv', opts);
    if (!Number.isInteger(filters) || filters < 1) throw new Error(`Conv2d: filters must be a positive integer, got ${describe(filters)}`);
    const ks: [number, number] = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : kernelSize;
    if (!Array.isArray(ks) || ks.length !== 2 || !ks.every((k) => Number.isInteger(k) && k >= 1)) {
      throw new Error(`Conv2d: kernelSize must be a positive integer or a pair, got ${describe(kernelSize)}`);
    }
    const strides = opts.strides ?? 1;
    const pair = typeof strides === 'number' ? [strides, strides] : strides;
    if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((st) => Number.isInteger(st) && st >= 1)) {
      throw new Error(`Conv2d: strides must be a positive integer or a pair of them, got ${describe(strides)}`);
    }
    if (opts.padding !== undefined) checkOneOf('Conv2d', 'padding', opts.padding, ['same', 'valid']);
    this.filters = filters;
    this.kernelSize = ks;
    this.opts = opts;
  }

  protected override build(inputShape: Shape): void {
    if (inputShape.length !== 4) throw new Error(`${this.name}: expected NHWC input [batch, height, width, channels], got ${formatShape(inputShape)}`);
    this.buildWeights([...this.kernelSize, inputShape[3]!, this.filters]);
  }

  protected linear(x: Tensor): Tensor {
    checkRank(this.name, x, [4]);
    return conv2d(x, this.kernel!, { strides: this.opts.strides ?? 1, padding: this.opts.padding ?? 'valid' });
  }
}
