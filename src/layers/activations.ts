/**
 * Parameter-free layers (activations and Flatten), and the `activation`
 * option of Dense, Conv2d and BatchNorm (Keras's names).
 */
import { elu, gelu, geluForm, leakyRelu, type GeluOptions } from '../autograd/ops/activations.js';
import { flatten } from '../autograd/ops/shape.js';
import { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
import { checkNumber, checkOneOf, checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkLayerOptions, Layer } from './layer.js';

/**
 * An activation applied by a layer to its own output, by Keras's names:
 * 'relu' runs fused into the layer's op (the same floats as a ReLU after
 * it, one pass over memory fewer); 'sigmoid' and 'tanh' run as separate
 * ops after it; 'linear' (the default) applies nothing.
 */
export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'linear';

const ACTIVATIONS: readonly Activation[] = ['relu', 'sigmoid', 'tanh', 'linear'];

/** `value` checked as an `Activation` for layer `owner` (undefined is 'linear'). */
export function checkActivation(owner: string, value: unknown): Activation {
  return value === undefined ? 'linear' : checkOneOf(owner, 'activation', value, ACTIVATIONS);
}

/** Applies an activation that the layer did not fuse: sigmoid, tanh (and relu, linear). */
export function applyActivation(y: Tensor, activation: Activation): Tensor {
  switch (activation) {
    case 'relu': return relu(y);
    case 'sigmoid': return sigmoid(y);
    case 'tanh': return tanh(y);
    case 'linear': return y;
  }
}

/**
 * The base of parameter-free layers (ReLU, Sigmoid, Tanh, Flatten): a layer
 * that applies a fixed function, has no weights and no state, and counts as
 * built from the start. Subclass it for a new activation or reshaping layer.
 *
 * @example
 * class Square extends StatelessLayer {
 *   readonly kind = 'square';
 *   constructor(opts: { name?: string } = {}) { super(opts.name ?? 'square'); }
 *   protected apply(x: Tensor): Tensor { return mul(x, x); }
 * }
 */
export abstract class StatelessLayer extends Layer {
  /** The fixed function this layer applies. */
  protected abstract apply(x: Tensor): Tensor;
  protected forward(x: Tensor, _isTraining: boolean): Tensor {
    return this.apply(x);
  }
  /** Nothing to build: built from the start (even when Sequential runs it fused into the layer before). */
  override get isBuilt(): boolean {
    return true;
  }
}

/** max(x, 0) as a layer (see `relu`). */
export class ReLU extends StatelessLayer {
  readonly kind = 'relu';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('ReLU', opts) ?? 'relu');
  }
  protected apply(x: Tensor): Tensor {
    return relu(x);
  }
}

/** The logistic function as a layer (see `sigmoid`). */
export class Sigmoid extends StatelessLayer {
  readonly kind = 'sigmoid';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('Sigmoid', opts) ?? 'sigmoid');
  }
  protected apply(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** The hyperbolic tangent as a layer (see `tanh`). */
export class Tanh extends StatelessLayer {
  readonly kind = 'tanh';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('Tanh', opts) ?? 'tanh');
  }
  protected apply(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** [N, d1, d2, ...] -> [N, d1*d2*...]. */
export class Flatten extends StatelessLayer {
  readonly kind = 'flatten';
  constructor(opts: { name?: string } = {}) {
    super(checkLayerOptions('Flatten', opts) ?? 'flatten');
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
export class LeakyReLU extends StatelessLayer {
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
export class ELU extends StatelessLayer {
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
export class GELU extends StatelessLayer {
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
