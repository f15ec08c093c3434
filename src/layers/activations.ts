/** Parameter-free layers: activations and Flatten. */
import { elu, gelu, geluForm, leakyRelu, type GeluOptions } from '../autograd/ops/activations.js';
import { flatten } from '../autograd/ops/shape.js';
import { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
import { checkNumber, checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer } from './layer.js';

/** A layer that applies a fixed function (the base of the parameter-free layers). */
export abstract class Stateless extends Layer {
  /** The fixed function this layer applies. */
  protected abstract apply(x: Tensor): Tensor;
  protected forward(x: Tensor, _isTraining: boolean): Tensor {
    return this.apply(x);
  }
  /** Nothing to build: built from the start (Sequential may fuse it into the layer before, skipping its call). */
  override get isBuilt(): boolean {
    return true;
  }
}

/** max(x, 0) as a layer (see `relu`). */
export class ReLU extends Stateless {
  readonly kind = 'relu';
  constructor(opts: { name?: string } = {}) {
    super(opts.name ?? 'relu');
  }
  protected apply(x: Tensor): Tensor {
    return relu(x);
  }
}

/** The logistic function as a layer (see `sigmoid`). */
export class Sigmoid extends Stateless {
  readonly kind = 'sigmoid';
  constructor(opts: { name?: string } = {}) {
    super(opts.name ?? 'sigmoid');
  }
  protected apply(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** The hyperbolic tangent as a layer (see `tanh`). */
export class Tanh extends Stateless {
  readonly kind = 'tanh';
  constructor(opts: { name?: string } = {}) {
    super(opts.name ?? 'tanh');
  }
  protected apply(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** [N, d1, d2, ...] -> [N, d1*d2*...]. */
export class Flatten extends Stateless {
  readonly kind = 'flatten';
  constructor(opts: { name?: string } = {}) {
    super(opts.name ?? 'flatten');
  }
  protected apply(x: Tensor): Tensor {
    return flatten(x);
  }
}

/** The `name` option of a parameter-free layer, checked; `kind` when absent. */
export function layerName(owner: string, name: unknown, kind: string): string {
  if (name === undefined) return kind;
  if (typeof name !== 'string' || name === '') throw new Error(`${owner}: name must be a non-empty string, got ${describe(name)}`);
  return name;
}

/**
 * Leaky ReLU as a layer: x for x > 0, alpha x otherwise. `alpha` (>= 0)
 * defaults to 0.3, Keras' LeakyReLU default (PyTorch's is 0.01, and the
 * functional `leakyRelu` follows tf.nn with 0.2).
 */
export class LeakyReLU extends Stateless {
  readonly kind = 'leakyRelu';
  /** The slope for x <= 0. */
  readonly alpha: number;
  constructor(opts: { alpha?: number; name?: string } = {}) {
    checkOptions('LeakyReLU', opts, ['alpha', 'name']);
    super(layerName('LeakyReLU', opts.name, 'leakyRelu'));
    this.alpha = checkNumber('LeakyReLU', 'alpha', opts.alpha ?? 0.3, 0);
  }
  protected apply(x: Tensor): Tensor {
    return leakyRelu(x, this.alpha);
  }
}

/** ELU as a layer: x for x > 0, alpha (e^x - 1) otherwise; `alpha` (>= 0) defaults to 1 (Keras, PyTorch). */
export class ELU extends Stateless {
  readonly kind = 'elu';
  /** The value approached as x -> -Infinity is -alpha. */
  readonly alpha: number;
  constructor(opts: { alpha?: number; name?: string } = {}) {
    checkOptions('ELU', opts, ['alpha', 'name']);
    super(layerName('ELU', opts.name, 'elu'));
    this.alpha = checkNumber('ELU', 'alpha', opts.alpha ?? 1, 0);
  }
  protected apply(x: Tensor): Tensor {
    return elu(x, this.alpha);
  }
}

/** GELU as a layer (see `gelu`): exact by default, `{ approximate: 'tanh' }` for the tanh form. */
export class GELU extends Stateless {
  readonly kind = 'gelu';
  /** 'none' (exact, erf) or 'tanh'. */
  readonly approximate: 'none' | 'tanh';
  constructor(opts: GeluOptions & { name?: string } = {}) {
    checkOptions('GELU', opts, ['approximate', 'name']);
    super(layerName('GELU', opts.name, 'gelu'));
    this.approximate = geluForm('GELU', { approximate: opts.approximate });
  }
  protected apply(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }
}
