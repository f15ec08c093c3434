/** Dense (fully connected): y = x W + b, with W [in, units] and b [units]. */
import { matmul } from '../autograd/ops/matmul.js';
import { describe } from '../tensor/options.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkRank } from './layer.js';
import { checkKernelOptions, KernelLayer, type KernelOptions } from './weights.js';

/** Options of `Dense`: a name, plus the kernel options (bias, initializer, regularizer, activation). */
export interface DenseOptions extends KernelOptions {
  /** The layer's name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
}

/**
 * A fully connected layer, y = x W + b, with W [in, units] built on the first
 * call from the input's feature count (Keras style), Glorot-uniform by default.
 *
 * @example
 * const dense = new Dense(10, { useBias: false, kernelRegularizer: l2(1e-4), activation: 'relu' });
 * dense.call(tensor([[1, 2, 3]]), { isTraining: false }).shape; // [1, 10]
 * [...dense.stateDict().keys()];                                // ['kernel']
 */
export class Dense extends KernelLayer {
  readonly kind = 'dense';
  /** Output features: the kernel is [inputs, units]. */
  readonly units: number;

  constructor(units: number, opts: DenseOptions = {}) {
    super(checkKernelOptions('Dense', opts) ?? 'dense', opts);
    if (!Number.isInteger(units) || units < 1) throw new Error(`Dense: units must be a positive integer, got ${describe(units)}`);
    this.units = units;
  }

  protected override build(inputShape: Shape): void {
    if (inputShape.length !== 2) throw new Error(`${this.name}: expected input [batch, features], got ${formatShape(inputShape)} (add a Flatten first)`);
    this.buildWeights([inputShape[1]!, this.units]);
  }

  protected linear(x: Tensor): Tensor {
    checkRank(this.name, x, [2], ' (add a Flatten first)');
    if (x.shape[1] !== this.kernel!.shape[0]) {
      throw new Error(`${this.name}: input ${formatShape(x.shape)} has ${x.shape[1]} features but the layer was built for ${this.kernel!.shape[0]}`);
    }
    return matmul(x, this.kernel!);
  }
}
