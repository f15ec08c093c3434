/** Inverted dropout with a caller-owned seeded random stream. */
import type { Random } from '../../tensor/random.js';
import { checkNumber } from '../../tensor/options.js';
import { Tensor } from '../../tensor/tensor.js';
import { record } from '../graph.js';

/**
 * Zeroes each element with probability `rate` and multiplies the kept ones
 * by 1 / (1 - rate) (rounded to float32, as PyTorch), so the expected value
 * of every element is unchanged and inference needs no rescaling (inverted
 * dropout, as Keras and PyTorch).
 * Draws one number per element from `random` (element i kept when its draw
 * is >= rate), so the same seeded stream gives the same masks. A NaN input
 * stays NaN even where dropped (NaN * 0), as in PyTorch and TensorFlow.
 *
 * @example
 * const random = new Random(1);
 * dropout(ones([2, 4]), 0.5, random).toArray(); // e.g. [[2, 0, 2, 2], [0, 0, 2, 0]]
 */
// y = x m / (1 - rate), m_i = [u_i >= rate], u_i ~ U[0, 1)    dx = gy m / (1 - rate)
export function dropout(x: Tensor, rate: number, random: Random): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`dropout: expected a Tensor, got ${typeof x}`);
  checkNumber('dropout', 'rate', rate, 0, 1);
  if (rate === 1) throw new Error('dropout: rate must be below 1 (rate 1 drops everything and divides by 0), got 1');
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = random.next() >= rate ? scale : 0;
  const y = new Float32Array(x.size);
  for (let i = 0; i < y.length; i++) y[i] = x.data[i]! * mask[i]!;
  return record('dropout', y, x.shape, [x], (gy) => {
    for (let i = 0; i < gy.length; i++) gy[i]! *= mask[i]!;
    return [gy];
  });
}
