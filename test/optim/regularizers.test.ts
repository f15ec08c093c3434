import { describe, expect, it } from 'vitest';
import { Tensor, gradcheck, noGrad, tensor } from '../../src/index.js';
import { l1, l1l2, l2 } from '../../src/optim/regularizers.js';
import { SGD } from '../../src/optim/sgd.js';
import { expectClose, offGrid, uniform } from '../helpers.js';

const M = (): Tensor => tensor([[1, -2], [-3, 4]]); // sum |w| = 10, sum w^2 = 1 + 4 + 9 + 16 = 30

describe('regularizer values (TensorFlow 1 meaning: l2 carries a 1/2)', () => {
  it('l2(0.1) of [0, 1, 2, 3] is 0.1 * (0 + 1 + 4 + 9) / 2 = 0.7', () => {
    const y = l2(0.1)(tensor([0, 1, 2, 3]));
    expect(y.shape).toEqual([]);
    expect(y.item()).toBeCloseTo(0.7, 6);
  });

  it('l1(0.5) of [[1,-2],[-3,4]] is 0.5 * 10 = 5', () => {
    expect(l1(0.5)(M()).item()).toBeCloseTo(5, 6);
  });

  it('l2(0.5) of [[1,-2],[-3,4]] is 0.5 * 30 / 2 = 7.5', () => {
    expect(l2(0.5)(M()).item()).toBeCloseTo(7.5, 6);
  });

  it('l1l2 is their sum: 5 + 7.5 = 12.5; a missing scale counts as 0', () => {
    expect(l1l2({ l1: 0.5, l2: 0.5 })(M()).item()).toBeCloseTo(12.5, 6);
    expect(l1l2({ l1: 0.5 })(M()).item()).toBeCloseTo(5, 6);
    expect(l1l2({ l2: 0.5 })(M()).item()).toBeCloseTo(7.5, 6);
  });

  it('scale 0 gives 0', () => {
    expect(l2(0)(M()).item()).toBe(0);
    expect(l1(0)(M()).item()).toBe(0);
  });
});

describe('regularizer gradients', () => {
  const gradOf = (reg: (w: Tensor) => Tensor): number[] => {
    const w = M().requireGrad();
    reg(w).backward();
    return Array.from(w.grad!.data);
  };

  it('l2: scale * w', () => {
    expectClose(gradOf(l2(0.5)), [0.5, -1, -1.5, 2], { atol: 1e-7 });
  });

  it('l1: scale * sign(w)', () => {
    expectClose(gradOf(l1(0.5)), [0.5, -0.5, -0.5, 0.5], { atol: 1e-7 });
  });

  it('l1l2: the sum of both', () => {
    expectClose(gradOf(l1l2({ l1: 0.5, l2: 0.5 })), [1, -1.5, -2, 2.5], { atol: 1e-7 });
  });

  it.each([
    ['l2(0.3)', l2(0.3), uniform([3, 4], 1)],
    ['l1(0.7) away from 0', l1(0.7), offGrid([3, 4], 2)],
    ['l1l2 away from 0', l1l2({ l1: 0.2, l2: 0.9 }), offGrid([2, 3, 2], 3)],
  ])('%s passes gradcheck', (_, reg, w) => {
    expect(gradcheck((x) => reg(x), [w]).ok).toBe(true);
  });

  it('records no graph under noGrad', () => {
    const w = M().requireGrad();
    const y = noGrad(() => l2(0.5)(w));
    expect(y.gradFn).toBeNull();
    expect(y.requiresGrad).toBe(false);
  });

  it('one SGD step on l2(scale) alone is weight decay: w *= 1 - lr * scale', () => {
    const w = M().requireGrad();
    l2(0.5)(w).backward();
    new SGD({ learningRate: 0.1 }).step([w]);
    expectClose(w.data, [0.95, -1.9, -2.85, 3.8], { atol: 1e-6 });
  });
});

describe('regularizer validation', () => {
  it.each([
    ['l2(-0.1)', () => l2(-0.1), /l2: scale must be a non-negative finite number, got -0.1/],
    ['l2(NaN)', () => l2(Number.NaN), /l2: scale must be a non-negative finite number, got NaN/],
    ['l1(Infinity)', () => l1(Infinity), /l1: scale must be a non-negative finite number, got Infinity/],
    ['l1l2 negative l1', () => l1l2({ l1: -1 }), /l1l2: l1 must be a non-negative finite number, got -1/],
    ['l1l2 non-number l2', () => l1l2({ l2: '0.1' as never }), /l1l2: l2 must be a non-negative finite number, got 0.1/],
    ['l1l2 unknown option', () => l1l2({ l3: 1 } as never), /l1l2: unknown option 'l3' \(did you mean 'l1'\?\); valid options: l1, l2/],
  ])('%s throws', (_, make, message) => {
    expect(make).toThrow(message);
  });

  it('refuses a non-tensor weight', () => {
    expect(() => l2(0.1)([1, 2] as never)).toThrow(/l2: expected a weight Tensor, got object/);
    expect(() => l1l2({ l1: 0.1 })(3 as never)).toThrow(/l1l2: expected a weight Tensor, got number/);
  });
});
