/**
 * Elementwise ops against ndarray-ops, the independent reference. ndarray-ops
 * computes each element in float64 and stores it into a Float32Array, as
 * normgrad does, so the two agree up to float32 rounding of the result:
 * tolerance rtol 1e-6 (float32 epsilon is 1.2e-7), atol 1e-7.
 */
import { describe, expect, it } from 'vitest';
import {
  Tensor, abs, add, div, exp, log, maximum, minimum, mul, neg, pow, relu, scalar, sigmoid, sqrt, square, sub, tanh, tensor,
  type Shape,
} from '../../src/index.js';
import { reluGrad } from '../../src/tensor/kernels/elementwise.js';
import { broadcastView, expectClose, ndZeros, ops, positive, uniform, type Nd } from '../helpers.js';

const ATOL = 1e-7;
const RTOL = 1e-6;

/** Shape pairs: equal, broadcasting both ways, scalars, size-1 axes, primes, and empty axes. */
const PAIRS: [Shape, Shape, Shape][] = [
  [[2, 3], [2, 3], [2, 3]],
  [[5, 1, 3], [4, 1], [5, 4, 3]],
  [[4, 1], [5, 1, 3], [5, 4, 3]],
  [[3], [7, 3], [7, 3]],
  [[7, 3], [3], [7, 3]],
  [[1, 5], [3, 5], [3, 5]],
  [[7, 1], [1, 5], [7, 5]],
  [[2, 1, 3], [2, 5, 1], [2, 5, 3]],
  [[3, 1, 5], [3, 7, 5], [3, 7, 5]],
  [[], [3, 5], [3, 5]],
  [[3, 5], [], [3, 5]],
  [[1], [2, 3], [2, 3]],
  [[], [], []],
  [[1, 1], [1], [1, 1]],
  [[0, 3], [3], [0, 3]],
  [[2, 0], [2, 1], [2, 0]],
];

type Binary = (a: Tensor, b: Tensor) => Tensor;
type RefBinary = (out: Nd, a: Nd, b: Nd) => void;

const BINARY: [string, Binary, RefBinary, 'any' | 'positive' | 'nonzero'][] = [
  ['add', add, ops.add, 'any'],
  ['sub', sub, ops.sub, 'any'],
  ['mul', mul, ops.mul, 'any'],
  ['div', div, ops.div, 'nonzero'],
  ['pow', pow, ops.pow, 'positive'],
  ['maximum', maximum, ops.max, 'any'],
  ['minimum', minimum, ops.min, 'any'],
];

function reference(ref: RefBinary, a: Tensor, b: Tensor, outShape: Shape): Float32Array {
  const out = ndZeros(outShape);
  ref(out, broadcastView(a, outShape), broadcastView(b, outShape));
  return out.data;
}

describe.each(BINARY)('%s', (name, op, ref, domain) => {
  it.each(PAIRS)(`%j with %j -> %j matches ndarray-ops`, (sa, sb, so) => {
    const a = domain === 'positive' ? positive(sa, 1) : uniform(sa, 1, -2, 2);
    // Divisors in [0.5, 2]; exponents in [-2, 2].
    const b = domain === 'nonzero' ? positive(sb, 2) : uniform(sb, 2, -2, 2);
    const y = op(a, b);
    expect(y.shape).toEqual(so);
    expectClose(y.data, reference(ref, a, b, so), { atol: ATOL, rtol: RTOL });
    expect(y.requiresGrad).toBe(false);
    expect(y.gradFn).toBeNull();
  });

  it('accepts numbers as scalar operands on either side', () => {
    const a = domain === 'positive' ? positive([3, 5], 3) : uniform([3, 5], 3);
    const right = domain === 'positive' || domain === 'nonzero' ? 1.5 : -0.25;
    expect(op(a, right as unknown as Tensor).data).toEqual(op(a, scalar(right)).data);
    expect(op(1.5 as unknown as Tensor, a).data).toEqual(op(scalar(1.5), a).data);
  });

  it('does not write into its inputs', () => {
    const a = uniform([4, 3], 5, 0.5, 1);
    const b = uniform([3], 6, 0.5, 1);
    const before = [Float32Array.from(a.data), Float32Array.from(b.data)];
    const y = op(a, b);
    expect(y.data).not.toBe(a.data);
    expect(a.data).toEqual(before[0]);
    expect(b.data).toEqual(before[1]);
  });
});

describe('binary golden values (worked by hand)', () => {
  const col = tensor([[10], [20]]); // [2,1]
  const row = tensor([[1, 2, 3]]); // [1,3]
  it('broadcast a column against a row', () => {
    expect(add(col, row).toArray()).toEqual([
      [11, 12, 13],
      [21, 22, 23],
    ]);
    expect(sub(row, col).toArray()).toEqual([
      [-9, -8, -7],
      [-19, -18, -17],
    ]);
    expect(mul(col, row).toArray()).toEqual([
      [10, 20, 30],
      [20, 40, 60],
    ]);
    expect(div(row, col).data).toEqual(Float32Array.of(0.1, 0.2, 0.3, 0.05, 0.1, 0.15));
    expect(pow(row, tensor([2])).toArray()).toEqual([[1, 4, 9]]);
    expect(maximum(tensor([1, 5, -2]), 2).toArray()).toEqual([2, 5, 2]);
    expect(minimum(tensor([1, 5, -2]), 2).toArray()).toEqual([1, 2, -2]);
  });

  it('a scalar with a scalar stays a scalar', () => {
    const y = add(scalar(2), 3);
    expect(y.shape).toEqual([]);
    expect(y.item()).toBe(5);
  });

  it('follows IEEE rules at the edges', () => {
    expect([...div(tensor([1, -1, 0]), 0).data]).toEqual([Infinity, -Infinity, NaN]);
    expect(pow(tensor([0, 4]), 0.5).toArray()).toEqual([0, 2]);
  });
});

type Unary = (x: Tensor) => Tensor;
/** Reference through ndarray-ops where it has the function; composed from its primitives otherwise. */
const UNARY: [string, Unary, (out: Nd, x: Nd) => void, 'any' | 'positive'][] = [
  ['neg', neg, (o, x) => ops.neg(o, x), 'any'],
  ['exp', exp, (o, x) => ops.exp(o, x), 'any'],
  ['log', log, (o, x) => ops.log(o, x), 'positive'],
  ['sqrt', sqrt, (o, x) => ops.sqrt(o, x), 'positive'],
  ['square', square, (o, x) => ops.mul(o, x, x), 'any'],
  ['abs', abs, (o, x) => ops.abs(o, x), 'any'],
  ['relu', relu, (o, x) => ops.maxs(o, x, 0), 'any'],
  // sigmoid(x) = 1 / (1 + e^-x); the reference is computed in float64, then stored.
  ['sigmoid', sigmoid, (o, x) => {
    const t = new Float64Array(x.size);
    for (let i = 0; i < t.length; i++) t[i] = 1 / (1 + Math.exp(-x.data[i]!));
    o.data.set(t);
  }, 'any'],
  // tanh(x) = (e^2x - 1) / (e^2x + 1), float64.
  ['tanh', tanh, (o, x) => {
    for (let i = 0; i < x.size; i++) {
      const e = Math.exp(2 * x.data[i]!);
      o.data[i] = (e - 1) / (e + 1);
    }
  }, 'any'],
];

const UNARY_SHAPES: Shape[] = [[], [1], [7], [3, 5], [2, 1, 3], [0, 4]];

describe.each(UNARY)('%s', (name, op, ref, domain) => {
  it.each(UNARY_SHAPES.map((s) => [s]))('%j matches the reference', (shape) => {
    const x = domain === 'positive' ? uniform(shape, 7, 0.01, 5) : uniform(shape, 7, -4, 4);
    const y = op(x);
    expect(y.shape).toEqual(shape);
    const out = ndZeros(shape);
    ref(out, broadcastView(x, shape));
    // tanh's reference formula loses a little near 0 (e - 1 cancels): atol 1e-6 there.
    expectClose(y.data, out.data, { atol: name === 'tanh' ? 1e-6 : ATOL, rtol: RTOL });
  });
});

describe('unary golden values', () => {
  it('hand-worked values', () => {
    expect(neg(tensor([1, -2, 0])).toArray()).toEqual([-1, 2, -0]);
    expect(square(tensor([-3, 0.5])).toArray()).toEqual([9, 0.25]);
    expect(abs(tensor([-3, 2])).toArray()).toEqual([3, 2]);
    expect(relu(tensor([-1, 0, 2.5])).toArray()).toEqual([0, 0, 2.5]);
    expect(sqrt(tensor([4, 9, 0])).toArray()).toEqual([2, 3, 0]);
    expect(sigmoid(tensor([0])).item()).toBe(0.5);
    expect(tanh(tensor([0])).item()).toBe(0);
    expect(exp(tensor([0])).item()).toBe(1);
    expect(log(tensor([1])).item()).toBe(0);
  });

  it('sigmoid is stable at large |x| (no e^big overflow to NaN)', () => {
    const y = sigmoid(tensor([-1000, -50, 50, 1000])).data;
    expect(y[0]).toBe(0);
    expect(y[1]).toBeGreaterThan(0);
    expect(y[1]).toBe(Math.fround(Math.exp(-50) / (1 + Math.exp(-50)))); // the float32 of e^-50, not 0
    expect(y[2]).toBe(1);
    expect(y[3]).toBe(1);
    expect(tanh(tensor([-1000, 1000])).toArray()).toEqual([-1, 1]);
  });

  it('follows IEEE rules outside the domain', () => {
    expect(log(tensor([0])).item()).toBe(-Infinity);
    expect(Number.isNaN(log(tensor([-1])).item())).toBe(true);
    expect(Number.isNaN(sqrt(tensor([-1])).item())).toBe(true);
    expect(exp(tensor([100])).item()).toBe(Infinity); // e^100 overflows float32
  });
});

describe('reluGrad kernel', () => {
  it('gy * [x > 0] into a new array, into another, or over gy itself (-0 gives 0, NaN gives NaN)', () => {
    const x = Float32Array.of(-1, 0, -0, 2, NaN, 1e-30, -3, 4);
    const gy = Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8);
    const want = Float32Array.of(0, 0, 0, 4, NaN, 6, 0, 8);
    expect(reluGrad(x, gy)).toEqual(want);
    const into = new Float32Array(8).fill(9);
    expect(reluGrad(x, gy, into)).toBe(into);
    expect(into).toEqual(want);
    expect(reluGrad(x, gy, gy)).toBe(gy);
    expect(gy).toEqual(want);
  });
});
