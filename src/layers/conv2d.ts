/**
 * 2-D convolution over NHWC input with an HWIO kernel [kh, kw, in / groups, filters],
 * TensorFlow's SAME/VALID padding, optional dilation and channel groups.
 * y = conv2d(x, kernel) + bias.
 */
import { conv2d } from '../autograd/ops/conv2d.js';
import { checkInteger, checkOneOf, describe } from '../tensor/options.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkRank } from './layer.js';
import { checkBuildChannelsLast } from '../autograd/ops/conv2d-layout.js';
import { checkKernelOptions, KernelLayer, type KernelOptions } from './weights.js';

/** Options of the `Conv2d` layer: strides, padding, and the kernel options (bias, initializer, regularizer, activation). */
export interface Conv2dOptions extends KernelOptions {
  /** The layer's name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** Step between patches, one number or [vertical, horizontal] (default 1). */
  strides?: number | [number, number];
  /** 'same' keeps ceil(size / stride) outputs; 'valid' uses only full patches (default 'valid', as Keras). */
  padding?: 'same' | 'valid';
  /** Spacing between kernel taps, one number or [vertical, horizontal] (default 1; Keras' dilation_rate). */
  dilationRate?: number | [number, number];
  /**
   * Channel groups (default 1): the input channels and `filters` both split
   * into this many groups, each convolved separately; the kernel is
   * [kh, kw, inChannels / groups, filters]. groups = inChannels is depthwise.
   */
  groups?: number;
}

/**
 * A 2-D convolution layer over NHWC input, kernel HWIO [kh, kw, in, filters],
 * TensorFlow's SAME/VALID padding (default 'valid', as Keras).
 *
 * @example
 * const conv = new Conv2d(16, 3, { padding: 'same', strides: 2, useBias: false });
 * new Conv2d(8, 3, { activation: 'relu' });   // max(conv2d(x, W) + b, 0), fused into one op
 * conv.call(zeros([8, 28, 28, 1]), { isTraining: false }).shape; // [8, 14, 14, 16]
 * new Conv2d(32, 3, { dilationRate: 2, padding: 'same' });  // a 3x3 kernel spanning 5x5 pixels
 * new Conv2d(32, 3, { groups: 32, padding: 'same' });       // depthwise over 32 input channels
 */
export class Conv2d extends KernelLayer {
  readonly kind = 'conv';
  /** Output channels: the kernel is HWIO [kh, kw, in, filters]. */
  readonly filters: number;
  /** The window [kh, kw]. */
  readonly kernelSize: [number, number];
  /** Spacing between kernel taps [vertical, horizontal]. */
  readonly dilationRate: [number, number];
  /** Number of channel groups (1: an ordinary convolution). */
  readonly groups: number;
  /** Step between patches [vertical, horizontal]. */
  readonly strides: [number, number];
  /** 'same' or 'valid' (TensorFlow's). */
  readonly padding: 'same' | 'valid';
  private readonly opts: Conv2dOptions;

  constructor(filters: number, kernelSize: number | [number, number], opts: Conv2dOptions = {}) {
    super(checkKernelOptions('Conv2d', opts, ['strides', 'padding', 'dilationRate', 'groups']) ?? 'conv', opts);
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
    const dilation = opts.dilationRate ?? 1;
    const dil = typeof dilation === 'number' ? [dilation, dilation] : dilation;
    if (!Array.isArray(dil) || dil.length !== 2 || !dil.every((d) => Number.isInteger(d) && d >= 1)) {
      throw new Error(`Conv2d: dilationRate must be a positive integer or a pair of them, got ${describe(dilation)}`);
    }
    const groups = checkInteger('Conv2d', 'groups', opts.groups ?? 1, 1);
    if (filters % groups !== 0) throw new Error(`Conv2d: filters ${filters} is not divisible by groups ${groups}`);
    this.dilationRate = dil as [number, number];
    this.groups = groups;
    this.filters = filters;
    this.kernelSize = ks;
    this.strides = [pair[0]!, pair[1]!];
    this.padding = opts.padding ?? 'valid';
    this.opts = opts;
  }

  protected override build(inputShape: Shape): void {
    if (inputShape.length !== 4) throw new Error(`${this.name}: expected NHWC input [batch, height, width, channels], got ${formatShape(inputShape)}`);
    checkBuildChannelsLast(this.name, inputShape);
    const cin = inputShape[3]!;
    if (cin % this.groups !== 0) {
      throw new Error(`${this.name}: input ${formatShape(inputShape)} has ${cin} channels, not divisible by groups ${this.groups}`);
    }
    this.buildWeights([...this.kernelSize, cin / this.groups, this.filters]);
  }

  protected linear(x: Tensor): Tensor {
    checkRank(this.name, x, [4]);
    const plain = this.groups === 1 && this.dilationRate[0] === 1 && this.dilationRate[1] === 1;
    const opts = { strides: this.opts.strides ?? 1, padding: this.opts.padding ?? 'valid' };
    return conv2d(x, this.kernel!, plain ? opts : { ...opts, dilations: this.dilationRate, groups: this.groups });
  }
}
