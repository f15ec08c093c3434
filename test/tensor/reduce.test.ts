/**
 * Reductions against two independent references: naive loops over every
 * multi-index, and ndarray-ops' sum/sup/inf over `pick` views. Sums are
 * accumulated in float64 on both sides and rounded once, so they agree to
 * float32 rounding: rtol 1e-6, atol 1e-6 (sums of ~30 values in [-1, 1]).
 * max/min pick an existing element, so they must match exactly.
 */
import { describe, expect, it } from 'vitest';
import { Tensor, argmax, max, mean, min, sum, tensor, zeros, type Shape } from '../../src/index.js';
import { broadcastView, expectClose, indices, offsetOf, ops, subsets, uniform, type Nd } from '../helpers.js';

type Reduce = (x: Tensor, axes?: number | readonly number[], opts?: { keepDims?: boolean }) => Tensor;

/** Naive reference: for each output index, fold over every input index that maps to it. */
function naive(x: Tensor, axes: readonly number[], fold: (vs: number[]) => number): { shape: number[]; values: number[] } {
  const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  for (const idx of indices(x.shape)) {
    const o = offsetOf(
      kept,
      idx.map((v, d) => (axes.includes(d) ? 0 : v)),
    );
    const g = groups.get(o) ?? [];
    g.push(x.data[offsetOf(x.shape, idx)]!);
    groups.set(o, g);
  }
  const size = kept.reduce((p, d) => p * d, 1);
  return { shape: kept, values: Array.from({ length: size }, (_, o) => fold(groups.get(o) ?? [])) };
}

const folds: Record<string, (vs: number[]) => number> = {
  sum: (vs) => vs.reduce((a, b) => a + b, 0),
  mean: (vs) => vs.reduce((a, b) => a + b, 0) / vs.length,
  max: (vs) => Math.max(...vs),
  min: (vs) => Math.min(...vs),
};

/** ndarray-ops reference: pick the kept axes, leave the reduced ones free, reduce the view. */
function viaNdarray(x: Tensor, axes: readonly number[], reduce: (v: Nd) => number): number[] {
  const nd = broadcastView(x, x.shape);
  const keptShape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const out: number[] = [];
  for (const idx of indices(keptShape)) {
    const pick = idx.map((v, d) => (axes.includes(d) ? null : v));
    out.push(axes.length === 0 ? nd.get(...idx) : reduce(nd.pick(...pick)));
  }
  return out;
}

const REDUCERS: [string, Reduce, ((v: Nd) => number) | null][] = [
  ['sum', sum, (v) => ops.sum(v)],
  ['mean', mean, (v) => ops.sum(v) / v.size],
  ['max', max, (v) => ops.sup(v)],
  ['min', min, (v) => ops.inf(v)],
];

const x235 = uniform([2, 3, 5], 42);

describe.each(REDUCERS)('%s over every subset of axes of [2,3,5]', (name, op, ref) => {
  const tol = name === 'max' || name === 'min' ? 0 : 1e-6;
  it.each(subsets(3).map((a) => [a]))('axes %j', (axes) => {
    const { shape: kept, values } = naive(x235, axes, folds[name]!);
    const dropped = x235.shape.filter((_, i) => !axes.includes(i));

    const y = op(x235, axes);
    expect(y.shape).toEqual(dropped);
    expectClose(y.data, values, { atol: tol, rtol: tol });
    expectClose(y.data, viaNdarray(x235, axes, ref!), { atol: tol, rtol: tol });

    const yk = op(x235, axes, { keepDims: true });
    expect(yk.shape).toEqual(kept);
    expect(yk.data).toEqual(y.data);
  });
});

describe.each(REDUCERS)('%s on awkward shapes', (name, op) => {
  const shapes: [Shape, number[]][] = [
    [[7], [0]],
    [[1, 7, 1], [1]],
    [[1, 7, 1], [0, 2]],
    [[3, 1, 5], [0]],
    [[3, 1, 5], [1]],
    [[3, 1, 5], [0, 2]],
    [[5, 3, 2, 7], [1, 3]],
    [[5, 3, 2, 7], [0, 2, 3]],
  ];
  it.each(shapes)('%j over %j', (shape, axes) => {
    const x = uniform(shape, 5);
    const { values } = naive(x, axes, folds[name]!);
    const tol = name === 'max' || name === 'min' ? 0 : 1e-6;
    expectClose(op(x, axes).data, values, { atol: tol, rtol: tol });
  });

  it('negative axes count from the end', () => {
    expect(op(x235, -1).data).toEqual(op(x235, 2).data);
    expect(op(x235, [-3, -1]).data).toEqual(op(x235, [0, 2]).data);
    expect(op(x235, [-2, 0], { keepDims: true }).shape).toEqual([1, 1, 5]);
  });

  it('a number means one axis; axis order does not matter', () => {
    expect(op(x235, 1).data).toEqual(op(x235, [1]).data);
    expect(op(x235, [2, 0]).data).toEqual(op(x235, [0, 2]).data);
  });

  it('no axes argument reduces everything to a scalar', () => {
    const all = op(x235);
    expect(all.shape).toEqual([]);
    expect(all.item()).toBe(op(x235, [0, 1, 2]).item());
    expect(op(x235, undefined, { keepDims: true }).shape).toEqual([1, 1, 1]);
  });

  it('a scalar reduces to itself', () => {
    const s = tensor(2.5);
    expect(op(s).item()).toBe(2.5);
    expect(op(s).shape).toEqual([]);
  });

  it('rejects axes out of range, naming the op', () => {
    expect(() => op(x235, 3)).toThrow(`${name}: axis 3 is out of range for rank 3`);
    expect(() => op(x235, [0, -4])).toThrow(`${name}: axis -4 is out of range for rank 3`);
    expect(() => op(x235, 1.5)).toThrow(`${name}: axis 1.5 is out of range`);
    expect(() => op(tensor(1), 0)).toThrow(`${name}: axis 0 is out of range for rank 0`);
  });
});

describe('reduction golden values', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  it('hand-worked', () => {
    expect(sum(x, 0).toArray()).toEqual([5, 7, 9]);
    expect(sum(x, 1).toArray()).toEqual([6, 15]);
    expect(sum(x, 1, { keepDims: true }).toArray()).toEqual([[6], [15]]);
    expect(sum(x).item()).toBe(21);
    expect(mean(x, 0).toArray()).toEqual([2.5, 3.5, 4.5]);
    expect(mean(x).item()).toBe(3.5);
    expect(max(x, 1).toArray()).toEqual([3, 6]);
    expect(min(x, 0).toArray()).toEqual([1, 2, 3]);
    expect(max(tensor([-5, -2, -9])).item()).toBe(-2);
    expect(min(tensor([5, 2, 9])).item()).toBe(2);
  });

  it('sum accumulates in float64: 2^24 + four 1s is exact', () => {
    // In float32, 2^24 + 1 rounds back to 2^24 every time, giving 16777216.
    expect(sum(tensor([2 ** 24, 1, 1, 1, 1])).item()).toBe(16777220);
  });

  it('max/min propagate NaN', () => {
    expect(Number.isNaN(max(tensor([1, NaN, 3])).item())).toBe(true);
    expect(Number.isNaN(min(tensor([NaN, 1, 3])).item())).toBe(true);
  });

  it('empty axes: sum gives 0, mean/max/min refuse', () => {
    const e = zeros([0, 3]);
    expect(sum(e, 0).toArray()).toEqual([0, 0, 0]);
    expect(sum(zeros([2, 0]), 1).toArray()).toEqual([0, 0]);
    expect(sum(e, 1).shape).toEqual([0]);
    expect(max(e, 1).shape).toEqual([0]); // reduces the non-empty axis: fine
    expect(() => mean(e, 0)).toThrow('mean: reducing [0,3] over axes [0] averages zero values');
    expect(() => max(e, 0)).toThrow('max: cannot reduce an empty axis of [0,3]');
    expect(() => min(e)).toThrow('min: cannot reduce an empty axis of [0,3]');
  });
});

describe('argmax', () => {
  it('matches a naive loop on every axis of [2,3,5]', () => {
    for (let axis = 0; axis < 3; axis++) {
      const outShape = x235.shape.filter((_, i) => i !== axis);
      const y = argmax(x235, axis);
      expect(y.shape).toEqual(outShape);
      const expected: number[] = [];
      for (const idx of indices(outShape)) {
        let best = -Infinity;
        let at = -1;
        for (let r = 0; r < x235.shape[axis]!; r++) {
          const full = [...idx];
          full.splice(axis, 0, r);
          const v = x235.data[offsetOf(x235.shape, full)]!;
          if (v > best) {
            best = v;
            at = r;
          }
        }
        expected.push(at);
      }
      expect([...y.data]).toEqual(expected);
    }
  });

  it('agrees with ndarray-ops argmax on a 1-D row', () => {
    const row = uniform([11], 8);
    expect(argmax(row).item()).toBe(ops.argmax(broadcastView(row, [11]))[0]);
  });

  it('returns the first index on ties', () => {
    const x = tensor([
      [1, 3, 3],
      [5, 5, 0],
      [2, 2, 2],
    ]);
    expect(argmax(x).toArray()).toEqual([1, 0, 0]);
    expect(argmax(x, 0).toArray()).toEqual([1, 1, 0]); // columns [1,5,2], [3,5,2], [3,0,2]
    expect(argmax(tensor([[4, 1], [4, 7]]), 0).toArray()).toEqual([0, 1]);
    expect(argmax(tensor([-Infinity, -Infinity])).item()).toBe(0);
  });

  it('defaults to the last axis and takes negative axes', () => {
    expect(argmax(x235).data).toEqual(argmax(x235, 2).data);
    expect(argmax(x235, -3).data).toEqual(argmax(x235, 0).data);
  });

  it('is not differentiable and rejects bad axes', () => {
    const x = uniform([3, 4], 1).requireGrad();
    expect(argmax(x).requiresGrad).toBe(false);
    expect(() => argmax(x, 2)).toThrow('argmax: axis 2 is out of range for rank 2');
    expect(() => argmax(zeros([3, 0]))).toThrow('argmax: axis 1 of [3,0] is empty');
  });
});
