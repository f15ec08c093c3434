/** Elementwise functions of one tensor, each with its derivative beside it. */
import { Tensor } from '../../tensor/tensor.js';
import * as k from '../../tensor/kernels/elementwise.js';
import { record } from '../graph.js';

/** Checks the argument before touching it, runs `forward` on x, and keeps y for `grad` (shared with ops/activations.ts). */
export function unary(
  op: string, x: Tensor,
  forward: (x: Float32Array) => Float32Array,
  grad: (gy: Float32Array, y: Float32Array) => Float32Array,
): Tensor {
  if (!(x instanceof Tensor)) throw new Error(`${op}: expected a Tensor, got ${typeof x}`);
  const y = forward(x.data);
  return record(op, y, x.shape, [x], (gy) => [grad(gy, y)]);
}

/** -x elementwise. */
// y = -x                 dx = -gy
export function neg(x: Tensor): Tensor {
  return unary('neg', x, (v) => k.map(v, (u) => -u), (gy) => k.map(gy, (g) => -g));
}

/** e^x elementwise. */
// y = e^x                dx = gy * y
export function exp(x: Tensor): Tensor {
  return unary('exp', x, (v) => k.map(v, Math.exp), (gy, y) => k.zipWith(gy, y, (g, e) => g * e));
}

/** The natural logarithm, elementwise. */
// y = ln x               dx = gy / x
export function log(x: Tensor): Tensor {
  return unary('log', x, (v) => k.map(v, Math.log), (gy) => k.zipWith(gy, x.data, (g, v) => g / v));
}

/** The square root, elementwise. */
// y = sqrt x             dx = gy / (2 y)
export function sqrt(x: Tensor): Tensor {
  return unary('sqrt', x, (v) => k.map(v, Math.sqrt), (gy, y) => k.zipWith(gy, y, (g, s) => g / (2 * s)));
}

/** x^2 elementwise. */
// y = x^2                dx = 2 x gy
export function square(x: Tensor): Tensor {
  return unary('square', x, (v) => k.map(v, (u) => u * u), (gy) => k.zipWith(gy, x.data, (g, v) => 2 * v * g));
}

/** |x| elementwise; its gradient is sign(x), 0 at 0. */
// y = |x|                dx = gy * sign(x)   (0 at x = 0)
export function abs(x: Tensor): Tensor {
  return unary('abs', x, (v) => k.map(v, Math.abs), (gy) => k.zipWith(gy, x.data, (g, v) => g * Math.sign(v)));
}

/**
 * max(x, 0) elementwise; the gradient is 0 at x = 0.
 *
 * @example
 * relu(tensor([-1, 0, 2])).toArray(); // [0, 0, 2]
 */
// y = max(x, 0)          dx = gy * [x > 0] = gy * [y > 0], written over gy
export function relu(x: Tensor): Tensor {
  return unary('relu', x, k.relu, (gy, y) => k.reluGrad(y, gy, gy));
}

/** The logistic function 1 / (1 + e^-x), elementwise, computed without overflow. */
// y = 1 / (1 + e^-x)     dx = gy * y * (1 - y)
export function sigmoid(x: Tensor): Tensor {
  return unary('sigmoid', x, (v) => k.map(v, k.sigmoid), (gy, y) => k.zipWith(gy, y, (g, s) => g * s * (1 - s)));
}

/** The hyperbolic tangent, elementwise. */
// y = tanh x             dx = gy * (1 - y^2)
export function tanh(x: Tensor): Tensor {
  return unary('tanh', x, (v) => k.map(v, Math.tanh), (gy, y) => k.zipWith(gy, y, (g, t) => g * (1 - t * t)));
}
