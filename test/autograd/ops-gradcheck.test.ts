/**
 * A finite-difference gradcheck for every differentiable op in the tensor
 * core, with respect to every input, on awkward and broadcast shapes.
 *
 * Tolerance: gradcheck's defaults, eps 1e-3, atol 1e-3, rtol 1e-2, with the
 * output reduced by a fixed random weighting sum(w * y). Inputs stay away from
 * kinks (relu/abs/leakyRelu/elu with alpha 0.5/maximum/minimum/max/min:
 * values on an offset grid, no ties within 0.05) and from domain edges
 * (log/sqrt/div/pow bases in [0.5, 2]).
 */
import { describe, expect, it } from 'vitest';
import {
  Random, Tensor, abs, add, avgPool2d, concat, conv2d, globalAvgPool2d, globalMaxPool2d, maxPool2d, div, dropout, elu, exp, flatten, gelu, gradcheck, leakyRelu, log, logSoftmax, max, maximum, mean, min, minimum, mul, neg,
  permute, pow, relu, reshape, sigmoid, sliceRows, softmax, sparseSoftmaxCrossEntropyWithLogits, sqrt, square, sub, sum, tanh, transpose,
  type Shape,
} from '../../src/index.js';
import { distinct, offGrid, positive, uniform } from '../helpers.js';

function check(fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  const report = gradcheck(fn, inputs);
  expect(report.ok).toBe(true);
  expect(report.inputs.every((r) => r.failures === 0)).toBe(true);
  // Every input actually received a gradient (a dropped one would read as zeros).
  for (const x of inputs) expect(x.grad).not.toBeNull();
}

const PAIRS: [Shape, Shape][] = [
  [[2, 3], [2, 3]],
  [[5, 1, 3], [4, 1]],
  [[4, 1], [5, 1, 3]],
  [[], [3, 5]],
  [[3, 5], []],
  [[3], [2, 3]],
  [[2, 1], [1, 3]],
  [[1], [7]],
];

type Binary = (a: Tensor, b: Tensor) => Tensor;
const BINARY: [string, Binary, (s: Shape, seed: number) => Tensor, (s: Shape, seed: number) => Tensor][] = [
  ['add', add, uniform, uniform],
  ['sub', sub, uniform, uniform],
  ['mul', mul, uniform, uniform],
  ['div', div, uniform, positive],
  ['pow', pow, positive, (s, seed) => uniform(s, seed, -2, 2)],
  ['maximum', maximum, (s, seed) => offGrid(s, seed, 0.025), (s, seed) => offGrid(s, seed, -0.025)],
  ['minimum', minimum, (s, seed) => offGrid(s, seed, 0.025), (s, seed) => offGrid(s, seed, -0.025)],
];

describe.each(BINARY)('%s', (_, op, makeA, makeB) => {
  it.each(PAIRS)('%j with %j, both inputs', (sa, sb) => {
    check(op, [makeA(sa, 1), makeB(sb, 2)]);
  });

  it('with one input constant (a tensor without grad) on either side', () => {
    const cb = makeB([2], 4);
    check((x) => op(x, cb), [makeA([3, 2], 3)]);
    const ca = makeA([2], 5);
    check((x) => op(ca, x), [makeB([3, 2], 6)]);
  });
});

describe('binary ops with a number operand', () => {
  it('add, sub, mul, div, pow with numbers on either side', () => {
    check((x) => add(2, x), [uniform([4], 1)]);
    check((x) => sub(1, x), [uniform([4], 2)]);
    check((x) => mul(x, -3), [uniform([4], 3)]);
    check((x) => div(1, x), [positive([4], 4)]);
    check((x) => pow(x, 3), [positive([4], 5)]);
    check((x) => pow(2, x), [uniform([4], 6)]);
  });
});

type Unary = (x: Tensor) => Tensor;
const UNARY: [string, Unary, (s: Shape, seed: number) => Tensor][] = [
  ['neg', neg, uniform],
  ['exp', exp, (s, seed) => uniform(s, seed, -2, 2)],
  ['log', log, positive],
  ['sqrt', sqrt, positive],
  ['square', square, (s, seed) => uniform(s, seed, -2, 2)],
  ['abs', abs, offGrid],
  ['relu', relu, offGrid],
  ['sigmoid', sigmoid, (s, seed) => uniform(s, seed, -3, 3)],
  ['tanh', tanh, (s, seed) => uniform(s, seed, -2, 2)],
  ['leakyRelu alpha 0.2', (x) => leakyRelu(x, 0.2), offGrid],
  ['leakyRelu alpha 0.3', (x) => leakyRelu(x, 0.3), offGrid],
  ['elu alpha 1', (x) => elu(x), (s, seed) => uniform(s, seed, -3, 2)],
  ['elu alpha 0.5', (x) => elu(x, 0.5), (s, seed) => offGrid(s, seed)],
  ['gelu exact', (x) => gelu(x), (s, seed) => uniform(s, seed, -4, 4)],
  ['gelu tanh', (x) => gelu(x, { approximate: 'tanh' }), (s, seed) => uniform(s, seed, -4, 4)],
];

describe.each(UNARY)('%s', (_, op, make) => {
  it.each([[[3, 5]], [[]], [[2, 1, 3]], [[7]]] as [Shape][])('%j', (shape) => {
    check(op, [make(shape, 11)]);
  });
});

type Reduce = (x: Tensor, axes?: number | readonly number[], opts?: { keepDims?: boolean }) => Tensor;
const REDUCE: [string, Reduce, (s: Shape, seed: number) => Tensor][] = [
  ['sum', sum, uniform],
  ['mean', mean, uniform],
  ['max', max, distinct],
  ['min', min, distinct],
];
const AXES: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1]];

describe.each(REDUCE)('%s over [2,3,5]', (_, op, make) => {
  it.each(AXES.flatMap((a) => [[a, false], [a, true]]) as [number | number[] | undefined, boolean][])(
    'axes %j, keepDims %s',
    (axes, keepDims) => {
      check((x) => op(x, axes, { keepDims }), [make([2, 3, 5], 21)]);
    },
  );

  it('on a size-1 axis and a scalar', () => {
    check((x) => op(x, 1), [make([3, 1, 2], 22)]);
    check((x) => op(x), [make([], 23)]);
  });
});

describe('softmax and logSoftmax', () => {
  it.each([[[3, 5]], [[7]], [[2, 1, 3]], [[4, 1]]] as [Shape][])('%j, last axis', (shape) => {
    check((x) => softmax(x), [uniform(shape, 26, -3, 3)]);
    check((x) => logSoftmax(x), [uniform(shape, 27, -3, 3)]);
  });

  it.each([0, 1, 2, -2])('axis %s of [2,3,4]', (axis) => {
    check((x) => softmax(x, axis), [uniform([2, 3, 4], 24, -3, 3)]);
    check((x) => logSoftmax(x, axis), [uniform([2, 3, 4], 25, -3, 3)]);
  });
});

describe('dropout and the sparse cross-entropy', () => {
  it('dropout with a fixed mask (a fresh Random of the same seed on every evaluation)', () => {
    check((x) => dropout(x, 0.3, new Random(9)), [uniform([4, 5], 28)]);
    check((x) => dropout(x, 0.7, new Random(10)), [uniform([2, 3, 2], 29)]);
  });

  it('sparseSoftmaxCrossEntropyWithLogits in the logits, labels as a Tensor and as an Int32Array', () => {
    const labels = new Tensor(Float32Array.of(2, 0, 4, 4), [4]);
    check((x) => sparseSoftmaxCrossEntropyWithLogits(labels, x), [uniform([4, 5], 30, -3, 3)]);
    check((x) => sparseSoftmaxCrossEntropyWithLogits(Int32Array.of(1, 0, 2), x), [uniform([3, 1, 3], 31, -3, 3)]);
  });
});

describe('pooling (NHWC; max on distinct values, so no ties within eps)', () => {
  it.each([
    [[2, 5, 7, 3], 2, {}],
    [[1, 5, 5, 2], 3, { strides: 2, padding: 'same' }],
    [[2, 7, 2, 1], [3, 2], { strides: [1, 3], padding: 'same' }],
    [[1, 4, 6, 2], 2, { strides: 3, padding: 'same' }],
    [[1, 1, 1, 3], 1, {}],
  ] as [Shape, number | [number, number], object][])('%j pool %j %j', (shape, pool, opts) => {
    check((x) => maxPool2d(x, pool, opts), [distinct(shape, 61)]);
    check((x) => avgPool2d(x, pool, opts), [uniform(shape, 62)]);
  });

  it('global max and average pooling', () => {
    check(globalMaxPool2d, [distinct([2, 3, 5, 4], 63)]);
    check(globalAvgPool2d, [uniform([2, 3, 5, 4], 64)]);
  });
});

describe('conv2d with dilations and groups (both inputs)', () => {
  it.each([
    [[1, 7, 6, 2], [3, 2, 2, 3], { dilations: 2, padding: 'same' }],
    [[2, 7, 5, 2], [2, 2, 2, 2], { dilations: [3, 1], strides: [2, 1] }],
    [[1, 5, 5, 4], [3, 3, 2, 4], { groups: 2, padding: 'same' }],
    [[2, 5, 4, 3], [3, 3, 1, 6], { groups: 3, strides: 2, padding: 'same' }],
    [[1, 6, 7, 3], [2, 3, 1, 3], { groups: 3, dilations: 2 }],
  ] as [Shape, Shape, object][])('x %j kernel %j %j', (xs, ks, opts) => {
    check((x, k) => conv2d(x, k, opts), [uniform(xs, 71), uniform(ks, 72)]);
  });
});

describe('shape ops', () => {
  it('reshape, including -1, and flatten', () => {
    check((x) => reshape(x, [5, -1]), [uniform([2, 3, 5], 31)]);
    check((x) => reshape(x, [-1]), [uniform([3, 1, 2], 32)]);
    check(flatten, [uniform([2, 3, 2], 33)]);
  });

  it.each([[[0, 1, 2]], [[2, 0, 1]], [[1, 2, 0]], [[0, 2, 1]], [[2, 1, 0]], [[1, 0, 2]]])('permute %j of [2,3,4]', (perm) => {
    check((x) => permute(x, perm), [uniform([2, 3, 4], 34)]);
  });

  it('transpose (default and given) on 2-D and 3-D', () => {
    check((x) => transpose(x), [uniform([3, 5], 35)]);
    check((x) => transpose(x), [uniform([2, 3, 4], 36)]);
    check((x) => transpose(x, [1, 0, 2]), [uniform([2, 3, 4], 37)]);
  });

  it('sliceRows: a middle, a first and a last slice', () => {
    check((x) => sliceRows(x, 1, 3), [uniform([4, 3], 38)]);
    check((x) => sliceRows(x, 0, 1), [uniform([5, 2, 1], 39)]);
    check((x) => sliceRows(x, 2, 5), [uniform([5, 3], 40)]);
  });

  it.each([
    [0, [[2, 3, 4], [1, 3, 4], [3, 3, 4]]],
    [1, [[2, 3, 4], [2, 5, 4]]],
    [2, [[2, 3, 4], [2, 3, 1], [2, 3, 2]]],
    [-1, [[3, 2], [3, 5]]],
  ] as [number, Shape[]][])('concat on axis %s, every input', (axis, shapes) => {
    check((...xs) => concat(xs, axis), shapes.map((s, i) => uniform(s, 41 + i)));
  });
});

describe('compositions (chain rule through several ops)', () => {
  it('sum over axis 1 of sigmoid(a) * log(b), b broadcast', () => {
    check((a, b) => sum(mul(sigmoid(a), log(b)), 1), [uniform([3, 4], 51), positive([4], 52)]);
  });

  it('an input used twice: x * exp(x) and x / (1 + x^2)', () => {
    check((x) => mul(x, exp(x)), [uniform([2, 3], 53)]);
    check((x) => div(x, add(1, square(x))), [uniform([2, 3], 54)]);
  });

  it('mean-centering (an output whose plain sum is constant)', () => {
    check((x) => sub(x, mean(x, 1, { keepDims: true })), [uniform([3, 5], 55)]);
  });

  it('a small layer: tanh(reshape(x) * w + b), softmax-free logits', () => {
    check(
      (x, w, b) => tanh(add(mul(reshape(x, [2, 3, 1]), w), b)),
      [uniform([6], 56), uniform([1, 3, 4], 57), uniform([4], 58)],
    );
  });
});
