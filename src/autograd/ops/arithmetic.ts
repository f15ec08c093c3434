/**
 * Broadcasting arithmetic. Each op's gradient is computed at the output's
 * (broadcast) shape and then summed back to each input's shape by sumToShape.
 */
import { broadcastShapes, type Shape } from '../../tensor/shape.js';
import { scalar } from '../../tensor/create.js';
import { Tensor } from '../../tensor/tensor.js';
import { describeValue, withSizeCheck } from '../../tensor/check.js';
import { broadcastBinary, map, zipWith } from '../../tensor/kernels/elementwise.js';
import { record } from '../graph.js';
import { sumToShape } from '../sum-to-shape.js';

/** A tensor, or a number standing for a scalar constant. */
export type TensorLike = Tensor | number;

/** `v` itself if it is a Tensor, a scalar tensor if it is a number; otherwise throws, naming `op`. */
export function asTensor(op: string, v: TensorLike): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v === 'number') return scalar(v);
  throw new Error(`${op}: expected a Tensor or a number, got ${typeof v}${Array.isArray(v) ? ` ${describeValue(v)} (use tensor(values) to make a Tensor)` : ''}`);
}

/** The output shape and the two operands' values broadcast to it, lazily. */
function binary(
  op: string, a: TensorLike, b: TensorLike,
  f: (u: number, v: number) => number,
  grads: (ctx: { a: Tensor; b: Tensor; y: Float32Array; gy: Float32Array; shape: Shape }) => [Float32Array | null, Float32Array | null],
): Tensor {
  const ta = asTensor(op, a);
  const tb = asTensor(op, b);
  const shape = broadcastShapes(op, ta.shape, tb.shape);
  const y = withSizeCheck(op, shape, () => broadcastBinary(ta.data, ta.shape, tb.data, tb.shape, shape, f));
  return record(op, y, shape, [ta, tb], (gy) => {
    const [ga, gb] = grads({ a: ta, b: tb, y, gy, shape });
    return [
      ga && ta.requiresGrad ? sumToShape(ga, shape, ta.shape) : null,
      gb && tb.requiresGrad ? sumToShape(gb, shape, tb.shape) : null,
    ];
  });
}

/** a or b broadcast to `shape` (for backward closures that need the other operand). */
function spread(t: Tensor, shape: Shape): Float32Array {
  return broadcastBinary(t.data, t.shape, new Float32Array(1), [], shape, (u) => u);
}

/**
 * a + b elementwise, with NumPy broadcasting (a number is a scalar).
 *
 * @example
 * add(tensor([[1, 2, 3], [4, 5, 6]]), tensor([10, 20, 30])).toArray(); // [[11,22,33],[14,25,36]]
 * add(tensor([1, 2]), 1).toArray();                                     // [2, 3]
 */
// y = a + b          da = gy,  db = gy
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', a, b, (u, v) => u + v, ({ gy }) => [gy, gy]);
}

/** a - b elementwise, with broadcasting. */
// y = a - b          da = gy,  db = -gy
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', a, b, (u, v) => u - v, ({ b, gy }) => [gy, b.requiresGrad ? map(gy, (g) => -g) : null]);
}

/** a * b elementwise, with broadcasting (not a matrix product: see `matmul`). */
// y = a * b          da = gy * b,  db = gy * a
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', a, b, (u, v) => u * v, ({ a, b, gy, shape }) => [
    a.requiresGrad ? zipWith(gy, spread(b, shape), (g, v) => g * v) : null,
    b.requiresGrad ? zipWith(gy, spread(a, shape), (g, u) => g * u) : null,
  ]);
}

/** a / b elementwise, with broadcasting. */
// y = a / b          da = gy / b,  db = -gy * a / b^2 = -gy * y / b
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', a, b, (u, v) => u / v, ({ a, b, y, gy, shape }) => {
    const bs = b.requiresGrad || a.requiresGrad ? spread(b, shape) : null;
    return [
      a.requiresGrad ? zipWith(gy, bs!, (g, v) => g / v) : null,
      b.requiresGrad ? gy.map((g, i) => (-g * y[i]!) / bs![i]!) : null,
    ];
  });
}

/** a raised to the power b elementwise, with broadcasting; the gradient in b needs a > 0. */
// y = a ^ b          da = gy * b * a^(b-1),  db = gy * y * ln(a)
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary('pow', a, b, (u, v) => u ** v, ({ a, b, y, gy, shape }) => {
    const as = spread(a, shape);
    const bs = spread(b, shape);
    return [
      a.requiresGrad ? gy.map((g, i) => g * bs[i]! * as[i]! ** (bs[i]! - 1)) : null,
      b.requiresGrad ? gy.map((g, i) => (y[i]! === 0 ? 0 : g * y[i]! * Math.log(as[i]!))) : null,
    ];
  });
}

/** max(a, b) elementwise; the gradient goes to the larger (to a on ties). */
// y = max(a, b)      da = gy * [a >= b],  db = gy * [a < b]
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', a, b, (u, v) => (u >= v ? u : v), ({ a, b, gy, shape }) => {
    const as = spread(a, shape);
    const bs = spread(b, shape);
    return [gy.map((g, i) => (as[i]! >= bs[i]! ? g : 0)), gy.map((g, i) => (as[i]! >= bs[i]! ? 0 : g))];
  });
}

/** min(a, b) elementwise; the gradient goes to the smaller (to a on ties). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', a, b, (u, v) => (u <= v ? u : v), ({ a, b, gy, shape }) => {
    const as = spread(a, shape);
    const bs = spread(b, shape);
    return [gy.map((g, i) => (as[i]! <= bs[i]! ? g : 0)), gy.map((g, i) => (as[i]! <= bs[i]! ? 0 : g))];
  });
}
