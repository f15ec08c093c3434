/** Softmax as a layer, for models that should output probabilities. */
import { softmax, softmaxAxis } from '../autograd/ops/softmax.js';
import { checkOptions, describe } from '../tensor/options.js';
import type { Tensor } from '../tensor/tensor.js';
import { StatelessLayer, layerName } from './activations.js';

/**
 * softmax along `axis` (default -1, the last, as Keras' Softmax). Train on
 * logits with `softmaxCrossEntropyWithLogits` or
 * `sparseSoftmaxCrossEntropyWithLogits` and add this layer for prediction:
 * the fused losses are the stable ones.
 *
 * @example
 * new Softmax().call(tensor([[1, 2, 3]]), { isTraining: false }).toArray(); // [[0.0900, 0.2447, 0.6652]]
 */
export class Softmax extends StatelessLayer {
  readonly kind = 'softmax';
  /** The axis normalized over (negative counts from the end). */
  readonly axis: number;
  constructor(opts: { axis?: number; name?: string } = {}) {
    checkOptions('Softmax', opts, ['axis', 'name']);
    super(layerName('Softmax', opts.name, 'softmax'));
    const axis: unknown = opts.axis ?? -1;
    if (typeof axis !== 'number' || !Number.isInteger(axis)) throw new Error(`Softmax: axis must be an integer, got ${describe(axis)}`);
    this.axis = axis;
  }
  protected apply(x: Tensor): Tensor {
    softmaxAxis(this.name, x, this.axis); // refuses an axis the input lacks, naming this layer
    return softmax(x, this.axis);
  }
}
