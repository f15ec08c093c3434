/**
 * Which parameters should get no weight decay: by common practice (BERT,
 * timm, Keras' `exclude_from_weight_decay(var_names=[...])`) the biases and
 * the normalization layers' scale and offset, which set the scale and shift
 * of activations rather than add capacity. Parameters are tensors with no
 * name of their own, so the names come from the model: `model.weights()`
 * names every trainable tensor by its stateDict path (`dense1/bias`,
 * `block2/bn1/gamma`), through nested Sequentials and any composite layer
 * whose weights() prefixes its children's names the same way. A new
 * normalization layer that calls its scale and offset gamma and beta
 * (Keras' names) is covered with no change here.
 */
import type { Layer } from '../layers/layer.js';
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** The last path segments that mark a bias or a normalization scale/offset (Keras' names). */
const NO_DECAY_NAMES = ['bias', 'gamma', 'beta'];

/**
 * A predicate for `AdamW({ exclude })` that is true for the model's biases
 * and normalization scales and offsets: every weight whose stateDict name
 * ends in `/bias`, `/gamma` or `/beta` (Dense and Conv2d biases, BatchNorm's
 * gamma and beta). The names are looked up when the optimizer asks, so the
 * model may be built (by its first call) after the optimizer is made. A
 * parameter that is not a weight of `model` is an error.
 *
 * @example
 * const model = new Sequential([new Dense(8), new BatchNorm(), new ReLU(), new Dense(2)]);
 * const opt = new AdamW({ weightDecay: 0.01, exclude: biasAndNormWeights(model) });
 * // decays dense1/kernel and dense2/kernel; skips dense1/bias, bn1/gamma, bn1/beta, dense2/bias
 */
export function biasAndNormWeights(model: Layer): (param: Tensor) => boolean {
  let names = new Map<Tensor, string>();
  return (param) => {
    let name = names.get(param);
    if (name === undefined) {
      names = new Map([...model.weights()].map(([n, t]) => [t, n])); // built or changed since last time
      name = names.get(param);
      if (name === undefined) {
        throw new Error(`biasAndNormWeights: a parameter ${formatShape(param.shape)} is not a weight of model '${model.name}'`);
      }
    }
    return NO_DECAY_NAMES.includes(name.slice(name.lastIndexOf('/') + 1));
  };
}
