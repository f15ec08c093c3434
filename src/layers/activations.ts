/** Parameter-free layers: activations and Flatten. */
import { flatten } from '../autograd/ops/shape.js';
import { relu, sigmoid, tanh } from '../autograd/ops/unary.js';
import type { Tensor } from '../tensor/tensor.js';
import { Layer } from './layer.js';

/** A layer that applies a fixed function. */
abstract class Stateless extends Layer {
  /** The fixed function this layer applies. */
  protected abstract apply(x: Tensor): Tensor;
  protected forward(x: Tensor): Tensor {
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
