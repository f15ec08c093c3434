/**
 * The autograd graph: hand-worked gradients, accumulation, detach/noGrad,
 * deep graphs, and the errors of backward. Gradients below are exact
 * (small integers or dyadic values), unless a tolerance is stated.
 */
import { describe, expect, it } from 'vitest';
import {
  Tensor, add, backward, concat, exp, isGradEnabled, max, mean, mul, noGrad, ones, reshape, scalar, sliceRows, sub, sum,
  tensor,
} from '../../src/index.js';
import { record } from '../../src/autograd/graph.js';
import { expectClose } from '../helpers.js';

function grad(t: Tensor): number[] {
  if (t.grad === null) throw new Error('no grad');
  return [...t.grad.data];
}

describe('hand-worked gradients', () => {
  it('y = sum((a + b) * a): dy/da = 2a + b, dy/db = a summed over the broadcast rows', () => {
    const a = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]).requireGrad();
    const b = tensor([10, 20, 30]).requireGrad(); // broadcast over 2 rows
    const y = sum(mul(add(a, b), a));
    // (1+10)*1 + (2+20)*2 + (3+30)*3 + (4+10)*4 + (5+20)*5 + (6+30)*6
    expect(y.item()).toBe(11 + 44 + 99 + 56 + 125 + 216);
    y.backward();
    expect(a.grad!.shape).toEqual([2, 3]);
    expect(grad(a)).toEqual([12, 24, 36, 18, 30, 42]);
    expect(b.grad!.shape).toEqual([3]);
    expect(grad(b)).toEqual([5, 7, 9]);
  });

  it('a tensor used twice gets both contributions: y = x*x + x -> 2x + 1', () => {
    const x = tensor([-1, 0.5, 3]).requireGrad();
    backward(sum(add(mul(x, x), x)));
    expect(grad(x)).toEqual([-1, 2, 7]);
  });

  it('add(x, x) and sub(x, x) accumulate through the same input slot twice', () => {
    const x = tensor([1, 2]).requireGrad();
    backward(sum(add(x, x)));
    expect(grad(x)).toEqual([2, 2]);
    const z = tensor([1, 2]).requireGrad();
    backward(sum(sub(z, z)));
    expect(grad(z)).toEqual([0, 0]);
  });

  it('an op passing the same gy to two inputs does not alias their gradients', () => {
    // add returns gy for both a and b; mul then adds to a's gradient. Were the
    // two entries one array, b would pick up a's extra term.
    // L = sum(a + b + a*b): dL/da = 1 + b, dL/db = 1 + a.
    const a = tensor([1, 2]).requireGrad();
    const b = tensor([10, 20]).requireGrad();
    backward(sum(add(add(a, b), mul(a, b))));
    expect(grad(a)).toEqual([11, 21]);
    expect(grad(b)).toEqual([2, 3]);
    const c = tensor([1, 2]).requireGrad();
    const d = tensor([10, 20]).requireGrad();
    backward(sum(add(mul(c, d), add(c, d))));
    expect(grad(c)).toEqual([11, 21]);
    expect(grad(d)).toEqual([2, 3]);
  });

  it('a diamond: z = a*b + (a*b)*a -> dz/da = b + 2ab, dz/db = a + a^2', () => {
    const a = scalar(3).requireGrad();
    const b = scalar(-2).requireGrad();
    const y = mul(a, b);
    backward(add(y, mul(y, a)));
    expect(a.grad!.item()).toBe(-2 + 2 * 3 * -2);
    expect(b.grad!.item()).toBe(3 + 9);
  });

  it('a scalar broadcast into a matrix gets the sum of the gradients', () => {
    const s = scalar(2).requireGrad();
    const m = tensor([
      [1, 2],
      [3, 4],
    ]).requireGrad();
    backward(sum(mul(m, s)));
    expect(s.grad!.shape).toEqual([]);
    expect(s.grad!.item()).toBe(10);
    expect(grad(m)).toEqual([2, 2, 2, 2]);
  });

  it('max gives the gradient to the maximum, shared equally among ties', () => {
    const x = tensor([
      [1, 3, 3],
      [7, 2, 0],
    ]).requireGrad();
    backward(sum(max(x, 1)));
    expect(grad(x)).toEqual([0, 0.5, 0.5, 1, 0, 0]);
  });

  it('mean spreads gy / count; reshape, sliceRows and concat route gradients back', () => {
    const x = tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]).requireGrad();
    const w = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
    // y = sum(w * concat([flat(rows 1..2 of x), flat(rows 0..1 of x)]))
    const top = reshape(sliceRows(x, 1, 3), [-1]);
    const bottom = reshape(sliceRows(x, 0, 2), [-1]);
    backward(sum(mul(concat([top, bottom]), w)));
    // x rows 1..2 get w[0..3]; x rows 0..1 get w[4..7].
    expect(grad(x)).toEqual([5, 6, 1 + 7, 2 + 8, 3, 4]);
    const z = tensor([1, 2, 3, 4]).requireGrad();
    backward(mean(z));
    expect(grad(z)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('only leaves that require grad receive .grad', () => {
    const x = tensor([1, 2]).requireGrad();
    const c = tensor([3, 4]);
    const h = mul(x, c);
    backward(sum(h));
    expect(grad(x)).toEqual([3, 4]);
    expect(c.grad).toBeNull();
    expect(h.grad).toBeNull(); // intermediates are not kept
    expect(h.requiresGrad).toBe(true);
    expect(h.gradFn!.op).toBe('mul');
  });

  it('backward on a leaf itself seeds 1', () => {
    const x = scalar(5).requireGrad();
    backward(x);
    expect(x.grad!.item()).toBe(1);
  });
});

describe('accumulation and zeroGrad', () => {
  it('grad accumulates across two backward calls and zeroGrad clears it', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    backward(sum(mul(x, 2)));
    backward(sum(mul(x, 3)));
    expect(grad(x)).toEqual([5, 5, 5]);
    x.zeroGrad();
    expect(x.grad).toBeNull();
    backward(sum(mul(x, 4)));
    expect(grad(x)).toEqual([4, 4, 4]);
  });

  it('the leaf grad is its own copy (not aliased to an intermediate)', () => {
    const x = tensor([1, 2]).requireGrad();
    const y = add(x, 0);
    backward(y, { grad: tensor([1, 1]) });
    const first = x.grad!;
    backward(add(x, 0), { grad: tensor([1, 1]) });
    expect(x.grad).toBe(first);
    expect(grad(x)).toEqual([2, 2]);
  });
});

describe('gy belongs to the backward closure', () => {
  /** y = 3x, whose backward writes dL/dx over gy and returns it. */
  const tripleInPlace = (x: Tensor): Tensor =>
    record('tripleInPlace', x.data.map((v) => 3 * v), x.shape, [x], (gy) => [gy.map((g, i) => (gy[i] = 3 * g))]);

  it('a closure may overwrite gy and return it: the chain rule still holds through several of them', () => {
    const x = tensor([1, 2]).requireGrad();
    backward(sum(mul(tripleInPlace(tripleInPlace(x)), x))); // L = sum(9x * x), dL/dx = 18x
    expect(grad(x)).toEqual([18, 36]);
  });

  it('gy returned for two inputs (add) is stored once and copied once: += into one never reaches the other', () => {
    const a = tensor([1, 2]).requireGrad();
    const b = tensor([3, 4]).requireGrad();
    const s = add(a, b);
    backward(sum(add(s, tripleInPlace(a)))); // L = sum(a + b + 3a): a gets two contributions, b one
    expect(grad(a)).toEqual([4, 4]);
    expect(grad(b)).toEqual([1, 1]);
    expect(a.grad!.data).not.toBe(b.grad!.data);
  });

  it('add(x, x): both contributions land in the one gradient', () => {
    const x = tensor([5]).requireGrad();
    backward(add(x, x));
    expect(grad(x)).toEqual([2]);
  });

  it('two leaves fed by one identity op each get their own array', () => {
    const a = tensor([1, 2]).requireGrad();
    const b = tensor([1, 2]).requireGrad();
    backward(add(a, b), { grad: tensor([1, 1]) });
    a.grad!.data[0] = 7;
    expect(grad(b)).toEqual([1, 1]);
  });
});

describe('detach and noGrad', () => {
  it('detach shares values but cuts the graph', () => {
    const x = tensor([2, 3]).requireGrad();
    const d = x.detach();
    expect(d.data).toBe(x.data);
    expect(d.requiresGrad).toBe(false);
    expect(d.gradFn).toBeNull();
    backward(sum(mul(d, x)));
    expect(grad(x)).toEqual([2, 3]); // not 2x: the detached factor is a constant
    expect(d.grad).toBeNull();
    const h = exp(x);
    expect(h.detach().gradFn).toBeNull();
  });

  it('records nothing: result has no gradFn and does not require grad', () => {
    const x = tensor([1, 2]).requireGrad();
    expect(isGradEnabled()).toBe(true);
    const y = noGrad(() => {
      expect(isGradEnabled()).toBe(false);
      return mul(x, x);
    });
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
    expect([...y.data]).toEqual([1, 4]);
    expect(isGradEnabled()).toBe(true);
    expect(() => backward(sum(y))).toThrow(/backward: tensor \[\] does not require grad/);
  });

  it('restores the mode even when the function throws, and nests', () => {
    expect(() =>
      noGrad(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(isGradEnabled()).toBe(true);
    noGrad(() => {
      noGrad(() => undefined);
      expect(isGradEnabled()).toBe(false);
      expect(() =>
        noGrad(() => {
          throw new Error('inner');
        }),
      ).toThrow('inner');
      expect(isGradEnabled()).toBe(false);
    });
    expect(isGradEnabled()).toBe(true);
    expect(noGrad(() => 42)).toBe(42);
  });
});

describe('deep graphs', () => {
  it('a 10,000-op chain runs backward without stack overflow', () => {
    const x = scalar(1).requireGrad();
    let y = x;
    for (let i = 0; i < 10_000; i++) y = mul(y, 1.0001);
    backward(y);
    // dy/dx = f^10000 with f = fround(1.0001) ~ e^1.0001; float32 gradients
    // lose ~1 ulp per step: rtol 2e-3.
    const f = Math.fround(1.0001);
    expectClose([x.grad!.item()], [f ** 10_000], { rtol: 2e-3 });
    expectClose([y.item()], [f ** 10_000], { rtol: 2e-3 });
  });

  it('a 10,000-op chain of adds gives exactly 1', () => {
    const x = tensor([0, 1]).requireGrad();
    let y = x;
    for (let i = 0; i < 10_000; i++) y = i % 2 === 0 ? add(y, 0.5) : sub(y, 0.25);
    backward(sum(y));
    expect(grad(x)).toEqual([1, 1]);
  });
});

describe('backward options and errors', () => {
  it('needs a seed gradient for a non-scalar root', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    expect(() => backward(mul(x, 2))).toThrow('backward: root [3] is not a scalar; pass opts.grad');
    expect(() => mul(x, 2).backward()).toThrow(/not a scalar/);
  });

  it('takes an explicit seed gradient as a Tensor or a Float32Array', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    backward(mul(x, 3), { grad: tensor([1, 2, 3]) });
    expect(grad(x)).toEqual([3, 6, 9]);
    x.zeroGrad();
    mul(x, x).backward({ grad: Float32Array.of(1, 0, -1) });
    expect(grad(x)).toEqual([2, 0, -6]);
    x.zeroGrad();
    backward(sum(x), { grad: scalar(0.5) });
    expect(grad(x)).toEqual([0.5, 0.5, 0.5]);
  });

  it('rejects a seed whose shape does not match the root', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    expect(() => backward(mul(x, 3), { grad: tensor([1, 2]) })).toThrow('backward: grad [2] does not match root [3]');
    expect(() => backward(mul(x, 3), { grad: tensor([[1, 2, 3]]) })).toThrow('backward: grad [1,3] does not match root [3]');
    expect(() => backward(mul(x, 3), { grad: Float32Array.of(1, 2) })).toThrow('backward: grad [2] does not match root [3]');
  });

  it('throws for a root that does not require grad', () => {
    expect(() => backward(ones([1]))).toThrow('backward: tensor [1] does not require grad');
  });

  it('backward twice through a released graph throws a clear error', () => {
    const x = tensor([1, 2]).requireGrad();
    const y = sum(mul(x, x));
    y.backward();
    expect(y.gradFn!.op).toBe('sum');
    expect(y.gradFn!.inputs).toEqual([]); // released: inputs and closure dropped
    expect(() => y.backward()).toThrow(
      "backward: the graph through 'sum' was already used and released; pass { retainGraph: true } to backward twice",
    );
  });

  it('retainGraph allows a second backward, which accumulates', () => {
    const x = tensor([1, 2]).requireGrad();
    const y = sum(mul(x, x));
    y.backward({ retainGraph: true });
    expect(grad(x)).toEqual([2, 4]);
    y.backward();
    expect(grad(x)).toEqual([4, 8]);
    expect(() => y.backward()).toThrow(/already used and released/);
  });

  it('a shared subgraph released by one loss cannot serve another', () => {
    const x = tensor([1, 2]).requireGrad();
    const h = mul(x, 2);
    sum(h).backward();
    expect(() => sum(mul(h, h)).backward()).toThrow(/graph through 'mul' was already used/);
  });

  it('an op returning the wrong number of gradient values is reported', () => {
    const x = tensor([1, 2, 3]).requireGrad();
    const y = record('broken', Float32Array.from(x.data), x.shape, [x], () => [new Float32Array(2)]);
    expect(() => backward(y, { grad: tensor([1, 1, 1]) })).toThrow(
      "backward: op 'broken' returned 2 gradient values for input 0 of shape [3]",
    );
  });
});
