/**
 * A layer's bias, added over the last axis (TensorFlow's tf.nn.bias_add):
 *
 *   y[..., c] = x[..., c] + bias[c]      dx = gy,   dbias[c] = sum of gy[..., c]
 *
 * The same floats as add(x, bias) in both directions, with a loop per channel
 * instead of the general broadcast (a function call per element). With
 * { relu: true } it is relu(x + bias) in one op, the same floats again.
 */
import { addBias, reluGrad } from '../../tensor/kernels/elementwise.js';
import { sumRows } from '../../tensor/kernels/reduce.js';
import { checkBoolean, checkOptions } from '../../tensor/options.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { record } from '../graph.js';

/**
 * x + bias, bias [C] added along the last axis of x [..., C]; with `relu`,
 * max(x + bias, 0).
 *
 * @example
 * biasAdd(tensor([[1, 2], [3, 4]]), tensor([10, 20])).toArray();                  // [[11, 22], [13, 24]]
 * biasAdd(tensor([[1, -2]]), tensor([0, 1]), { relu: true }).toArray();          // [[1, 0]]
 */
// y = x + bias           dx = gy (passed on as is),  dbias = sum over every axis but the last of gy
// y = max(x + bias, 0)   the same with gy * [y > 0], written over gy
export function biasAdd(x: Tensor, bias: Tensor, opts: { relu?: boolean } = {}): Tensor {
  if (!(x instanceof Tensor) || !(bias instanceof Tensor)) throw new Error('biasAdd: expected an input Tensor and a bias Tensor');
  checkOptions('biasAdd', opts, ['relu']);
  const relu = checkBoolean('biasAdd', 'relu', opts?.relu ?? false);
  const channels = x.shape[x.rank - 1];
  if (bias.rank !== 1 || bias.shape[0] !== channels) {
    throw new Error(`biasAdd: bias ${formatShape(bias.shape)} must be [${channels ?? 'C'}] for input ${formatShape(x.shape)}`);
  }
  const y = addBias(x.data, bias.data, relu);
  return record(relu ? 'biasAddRelu' : 'biasAdd', y, x.shape, [x, bias], (gy) => {
    if (relu) reluGrad(y, gy, gy);
    return [gy, bias.requiresGrad ? sumRows(gy, channels!) : null];
  });
}
