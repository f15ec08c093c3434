/**
 * Pooling layers over NHWC input (Keras' MaxPooling2D, AveragePooling2D,
 * GlobalMaxPooling2D, GlobalAveragePooling2D): parameter-free wrappers of
 * the ops in src/autograd/ops/pool2d.ts, options checked at construction.
 */
import { avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d, poolGeometry, poolPair } from '../autograd/ops/pool2d.js';
import { checkOneOf, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { StatelessLayer } from './activations.js';
import { checkLayerOptions, checkRank } from './layer.js';

/** Options of `MaxPool2d` and `AvgPool2d`. */
export interface Pool2dLayerOptions {
  /** The layer\'s name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** The window, one number or [height, width] (default 2, as Keras); may also be given as the first argument. */
  poolSize?: number | [number, number];
  /** Step between windows, one number or [vertical, horizontal] (default: the pool size, as Keras). */
  strides?: number | [number, number];
  /** 'valid' (default, as Keras) uses only whole windows; 'same' gives ceil(size / stride) outputs. */
  padding?: 'same' | 'valid';
}

/** The checked settings of a pooling layer. */
interface PoolSettings {
  name: string | undefined;
  poolSize: [number, number];
  strides: [number, number];
  padding: 'same' | 'valid';
}

function poolSettings(owner: string, poolSize: number | [number, number] | Pool2dLayerOptions, opts: Pool2dLayerOptions): PoolSettings {
  const o: Pool2dLayerOptions = typeof poolSize === 'object' && !Array.isArray(poolSize) && poolSize !== null ? poolSize : opts;
  if (o !== opts && opts !== undefined && (typeof opts !== 'object' || opts === null || Object.keys(opts).length > 0)) {
    throw new Error(`${owner}: options given twice; pass new ${owner}(poolSize, options) or new ${owner}(options)`);
  }
  const name = checkLayerOptions(owner, o, ['poolSize', 'strides', 'padding']);
  const size = o === poolSize ? (o.poolSize ?? 2) : (o.poolSize !== undefined ? conflict(owner) : poolSize);
  const pool = poolPair(owner, size);
  const strides = o.strides ?? pool;
  const pair = typeof strides === 'number' ? [strides, strides] : strides;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((s) => Number.isInteger(s) && s >= 1)) {
    throw new Error(`${owner}: strides must be a positive integer or a pair of them, got ${describe(strides)}`);
  }
  const padding = o.padding === undefined ? 'valid' : checkOneOf(owner, 'padding', o.padding, ['same', 'valid']);
  return { name, poolSize: pool, strides: pair as [number, number], padding };
}

function conflict(owner: string): never {
  throw new Error(`${owner}: poolSize given twice (as the first argument and as an option)`);
}

/** What MaxPool2d and AvgPool2d share: the window settings and the rank check. */
abstract class Pool2dLayer extends StatelessLayer {
  /** The window [height, width]. */
  readonly poolSize: [number, number];
  /** The step between windows [vertical, horizontal]. */
  readonly strides: [number, number];
  /** TensorFlow's padding mode. */
  readonly padding: 'same' | 'valid';
  constructor(owner: string, kind: string, poolSize: number | [number, number] | Pool2dLayerOptions, opts: Pool2dLayerOptions) {
    const s = poolSettings(owner, poolSize, opts);
    super(s.name ?? kind);
    this.poolSize = s.poolSize;
    this.strides = s.strides;
    this.padding = s.padding;
  }
  protected apply(x: Tensor): Tensor {
    checkRank(this.name, x, [4], ' (NHWC [batch, height, width, channels])');
    poolGeometry(this.name, x, this.poolSize, { strides: this.strides, padding: this.padding }); // errors name this layer
    return this.pool(x);
  }
  protected abstract pool(x: Tensor): Tensor;
}

/**
 * Max pooling as a layer (see `maxPool2d`): the largest value of each
 * window; strides default to the pool size and padding to 'valid' (Keras).
 *
 * @example
 * new MaxPool2d(2).call(zeros([8, 28, 28, 16]), { isTraining: false }).shape;             // [8, 14, 14, 16]
 * new MaxPool2d(3, { strides: 2, padding: 'same' }).call(zeros([1, 7, 7, 4]), { isTraining: false }).shape; // [1, 4, 4, 4]
 */
export class MaxPool2d extends Pool2dLayer {
  readonly kind = 'maxPool';
  constructor(poolSize: number | [number, number] | Pool2dLayerOptions = 2, opts: Pool2dLayerOptions = {}) {
    super('MaxPool2d', 'maxPool', poolSize, opts);
  }
  protected pool(x: Tensor): Tensor {
    return maxPool2d(x, this.poolSize, { strides: this.strides, padding: this.padding });
  }
}

/**
 * Average pooling as a layer (see `avgPool2d`): the mean of each window's
 * cells inside the image (TensorFlow: padding is not counted).
 *
 * @example
 * new AvgPool2d({ poolSize: 2 }).call(zeros([8, 28, 28, 16]), { isTraining: false }).shape; // [8, 14, 14, 16]
 */
export class AvgPool2d extends Pool2dLayer {
  readonly kind = 'avgPool';
  constructor(poolSize: number | [number, number] | Pool2dLayerOptions = 2, opts: Pool2dLayerOptions = {}) {
    super('AvgPool2d', 'avgPool', poolSize, opts);
  }
  protected pool(x: Tensor): Tensor {
    return avgPool2d(x, this.poolSize, { strides: this.strides, padding: this.padding });
  }
}

/**
 * The maximum over height and width as a layer: [n,h,w,c] -> [n,c] (see `globalMaxPool2d`).
 *
 * @example
 * new GlobalMaxPool2d().call(zeros([8, 7, 7, 32]), { isTraining: false }).shape; // [8, 32]
 */
export class GlobalMaxPool2d extends StatelessLayer {
  readonly kind = 'globalMaxPool';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('GlobalMaxPool2d', opts) ?? 'globalMaxPool');
  }
  protected apply(x: Tensor): Tensor {
    checkRank(this.name, x, [4], ' (NHWC [batch, height, width, channels])');
    return globalMaxPool2d(x);
  }
}

/**
 * The mean over height and width as a layer: [n,h,w,c] -> [n,c] (see `globalAvgPool2d`).
 *
 * @example
 * new GlobalAvgPool2d().call(zeros([8, 7, 7, 32]), { isTraining: false }).shape; // [8, 32]
 */
export class GlobalAvgPool2d extends StatelessLayer {
  readonly kind = 'globalAvgPool';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('GlobalAvgPool2d', opts) ?? 'globalAvgPool');
  }
  protected apply(x: Tensor): Tensor {
    checkRank(this.name, x, [4], ' (NHWC [batch, height, width, channels])');
    return globalAvgPool2d(x);
  }
}
