/**
 * Parameter-free layers (activations and Flatten), and the `activation`
 * option of Dense, Conv2d and BatchNorm (Keras's names).
 */
import { flatten } from '../autograd/ops/shape.js';
import { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
import { checkOneOf } from '../tensor/options.js';
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
  protected forward(x: Tensor): Tensor {
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
