/**
 * Activations with a parameter or a choice of form: leaky ReLU, ELU, GELU.
 * Elementwise, each with its derivative beside it; NaN propagates.
 */
import * as k from '../../tensor/kernels/activations.js';
import { checkNumber, checkOneOf, checkOptions } from '../../tensor/options.js';
import type { Tensor } from '../../tensor/tensor.js';
import { unary } from './unary.js';

/**
 * Leaky ReLU: x for x > 0, alpha x otherwise. `alpha` defaults to 0.2, as
 * tf.nn.leaky_relu and tf.js `tf.leakyRelu` (the `LeakyReLU` layer defaults
 * to Keras' 0.3; PyTorch's default is 0.01).
 *
 * @example
 * leakyRelu(tensor([-2, 0, 3]), 0.1).toArray(); // [-0.2, 0, 3]
 */
// y = x if x > 0 else alpha x          dx = gy if x > 0 else alpha gy
export function leakyRelu(x: Tensor, alpha = 0.2): Tensor {
  checkNumber('leakyRelu', 'alpha', alpha);
  return unary('leakyRelu', x, (v) => k.leakyRelu(v, alpha), (gy) => k.leakyReluGrad(x.data, gy, alpha));
}

/**
 * Exponential linear unit: x for x > 0, alpha (e^x - 1) otherwise (alpha
 * defaults to 1, as Keras and PyTorch).
 *
 * @example
 * elu(tensor([-1, 2])).toArray(); // [-0.632..., 2]
 */
// y = x if x > 0 else alpha (e^x - 1)  dx = gy if x > 0 else gy alpha e^x
export function elu(x: Tensor, alpha = 1): Tensor {
  checkNumber('elu', 'alpha', alpha);
  return unary('elu', x, (v) => k.elu(v, alpha), (gy) => k.eluGrad(x.data, gy, alpha));
}

/** Options of `gelu` and the `GELU` layer. */
export interface GeluOptions {
  /**
   * 'none' (default): the exact x Phi(x), with the normal CDF Phi from erf.
   * 'tanh': 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), the approximation
   * of the BERT/GPT-2 code. PyTorch's names; Keras' `approximate: true` is 'tanh'.
   */
  approximate?: 'none' | 'tanh';
}

/** The `approximate` option, checked. */
export function geluForm(owner: string, opts: GeluOptions | undefined): 'none' | 'tanh' {
  checkOptions(owner, opts, ['approximate']);
  return checkOneOf(owner, 'approximate', opts?.approximate ?? 'none', ['none', 'tanh']);
}

/**
 * Gaussian error linear unit, y = x Phi(x) with Phi the standard normal CDF
 * (or its tanh approximation). erf is computed from scratch
 * (src/tensor/kernels/erf.ts), accurate to the float32 rounding.
 *
 * @example
 * gelu(tensor([-1, 0, 1])).toArray();                          // [-0.1587, 0, 0.8413]
 * gelu(tensor([1]), { approximate: 'tanh' }).item();           // 0.8412
 */
// y = x Phi(x)                         dx = gy (Phi(x) + x phi(x)),  phi(x) = e^(-x^2/2) / sqrt(2 pi)
// y = x sigmoid(2u), u = sqrt(2/pi)(x + 0.044715 x^3)
//                                      dx = gy (s + 2 x s (1 - s) u'),  s = sigmoid(2u)
export function gelu(x: Tensor, opts: GeluOptions = {}): Tensor {
  const form = geluForm('gelu', opts);
  return unary('gelu', x, (v) => k.gelu(v, form), (gy) => k.geluGrad(x.data, gy, form));
}
