/**
 * Kernels of the activations beyond relu/sigmoid/tanh: leaky ReLU, ELU and
 * GELU (exact and tanh forms), each forward with its derivative. Computed in
 * float64 per element and stored as float32. NaN in, NaN out: every branch
 * is written so that a NaN input takes a path that yields NaN.
 */
import { erfc } from './erf.js';
import { sigmoid } from './elementwise.js';

/** y = x for x > 0, alpha x otherwise. */
export function leakyRelu(x: Float32Array, alpha: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v > 0 ? v : alpha * v;
  }
  return y;
}

/** gx = gy for x > 0, alpha gy otherwise (alpha at 0, as PyTorch and TensorFlow). */
export function leakyReluGrad(x: Float32Array, gy: Float32Array, alpha: number): Float32Array {
  const gx = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) gx[i] = x[i]! > 0 ? gy[i]! : alpha * gy[i]!;
  return gx;
}

/** y = x for x > 0, alpha (e^x - 1) otherwise (expm1: accurate near 0). */
export function elu(x: Float32Array, alpha: number): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    y[i] = v > 0 ? v : alpha * Math.expm1(v);
  }
  return y;
}

/** gx = gy for x > 0, gy alpha e^x otherwise. */
export function eluGrad(x: Float32Array, gy: Float32Array, alpha: number): Float32Array {
  const gx = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    gx[i] = v > 0 ? gy[i]! : gy[i]! * alpha * Math.exp(v);
  }
  return gx;
}

const SQRT_HALF = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_CUBIC = 0.044715;

/**
 * Phi(x), the standard normal CDF, as 0.5 erfc(-x / sqrt 2): for x < 0 this
 * keeps its relative accuracy where 0.5 (1 + erf(x / sqrt 2)) cancels to 0.
 */
function normalCdf(v: number): number {
  return 0.5 * erfc(-v * SQRT_HALF);
}

/**
 * Exact GELU, y = x Phi(x). At -Infinity the limit 0 (not -Infinity * 0).
 * Tanh form, y = 0.5 x (1 + tanh(u)) with u = sqrt(2/pi) (x + 0.044715 x^3),
 * evaluated as x sigmoid(2u) (the same value: 1 + tanh u = 2 sigmoid(2u)),
 * which does not cancel for large negative x.
 */
export function gelu(x: Float32Array, approximate: 'none' | 'tanh'): Float32Array {
  const y = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v === -Infinity) y[i] = -0;
    else if (approximate === 'none') y[i] = v * normalCdf(v);
    else y[i] = v * sigmoid(2 * SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v));
  }
  return y;
}

/**
 * Exact:  dy/dx = Phi(x) + x phi(x),   phi(x) = e^(-x^2/2) / sqrt(2 pi).
 * Tanh:   dy/dx = s + 2 x s (1 - s) u',  s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
 *         (0.5 (1 + t) + 0.5 x (1 - t^2) u' with t = tanh u, rewritten through s).
 * Both tend to 0 at -Infinity and 1 at +Infinity; gx = gy dy/dx.
 */
export function geluGrad(x: Float32Array, gy: Float32Array, approximate: 'none' | 'tanh'): Float32Array {
  const gx = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    let d: number;
    if (v === -Infinity) d = 0;
    else if (v === Infinity) d = 1;
    else if (approximate === 'none') d = normalCdf(v) + v * INV_SQRT_2PI * Math.exp(-0.5 * v * v);
    else {
      const s = sigmoid(2 * SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v));
      d = s + 2 * v * s * (1 - s) * SQRT_2_OVER_PI * (1 + 3 * GELU_CUBIC * v * v);
    }
    gx[i] = gy[i]! * d;
  }
  return gx;
}
