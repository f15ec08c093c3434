import { describe, expect, it } from 'vitest';
import { SGD, cosineDecay, exponentialDecay, piecewiseConstant } from '../../src/index.js';
import { expectClose } from '../helpers.js';
import { param, setGrad } from './fixtures.js';

// Values worked by hand from the Keras formulas, with k = step - 1 (the steps already taken).
describe('schedules: hand-worked values', () => {
  it('exponentialDecay: smooth and staircase', () => {
    const smooth = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5 });
    expectClose([smooth(1), smooth(51), smooth(101), smooth(201)], [0.1, 0.1 * Math.SQRT1_2, 0.05, 0.025], { rtol: 1e-15 });
    const stairs = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 100, decayRate: 0.5, staircase: true });
    expect([stairs(1), stairs(100), stairs(101), stairs(200), stairs(201)]).toEqual([0.1, 0.1, 0.05, 0.05, 0.025]);
  });

  it('cosineDecay: the warmup, the half cosine, then flat at alpha * peak', () => {
    const lr = cosineDecay({ initialLearningRate: 0, warmupTarget: 0.1, warmupSteps: 10, decaySteps: 90 });
    expectClose([lr(1), lr(6), lr(11), lr(56), lr(101), lr(500)], [0, 0.05, 0.1, 0.05, 0, 0], { atol: 1e-17 });
    const noWarmup = cosineDecay({ initialLearningRate: 0.2, decaySteps: 4, alpha: 0.25 });
    // k = 0..5: 0.2 * (0.75 * 0.5 (1 + cos(pi k / 4)) + 0.25), clamped after k = 4
    const expected = [0, 1, 2, 3, 4, 4].map((k) => 0.2 * (0.75 * 0.5 * (1 + Math.cos((Math.PI * k) / 4)) + 0.25));
    expectClose([1, 2, 3, 4, 5, 6].map(noWarmup), expected, { rtol: 1e-15 });
    expect(noWarmup(6)).toBeCloseTo(0.05, 15);
  });

  it('piecewiseConstant: values[i] while boundaries[i-1] < k <= boundaries[i]', () => {
    const lr = piecewiseConstant({ boundaries: [100, 200], values: [0.1, 0.01, 0.001] });
    expect([lr(1), lr(101), lr(102), lr(201), lr(202), lr(10_000)]).toEqual([0.1, 0.1, 0.01, 0.01, 0.001, 0.001]);
  });

  it('drives an optimizer: the first step uses initialLearningRate', () => {
    const w = param([0]);
    const opt = new SGD({ learningRate: piecewiseConstant({ boundaries: [1], values: [1, 0.5] }) });
    const taken: number[] = [];
    for (let i = 0; i < 3; i++) {
      const before = w.item();
      setGrad(w, [1]);
      opt.step([w]);
      taken.push(before - w.item());
    }
    expect(taken).toEqual([1, 1, 0.5]); // k = 0, 1 use values[0]; k = 2 > 1 uses values[1]
  });
});

describe('schedules: options checked', () => {
  it.each([
    [() => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10 } as never), /exponentialDecay: option 'decayRate' is required/],
    [() => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 0, decayRate: 0.5 }), /exponentialDecay: decaySteps must be a positive finite number, got 0/],
    [() => exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5, stairCase: true } as never), /unknown option 'stairCase' \(did you mean 'staircase'\?\)/],
    [() => exponentialDecay({ initial_learning_rate: 0.1, decaySteps: 10, decayRate: 0.5 } as never), /did you mean 'initialLearningRate'/],
    [() => exponentialDecay({ initialLearningRate: -1, decaySteps: 10, decayRate: 0.5 }), /exponentialDecay: initialLearningRate must be a number in \[0, Infinity\], got -1/],
    [() => exponentialDecay(undefined as never), /exponentialDecay: options \{ initialLearningRate, decaySteps, decayRate \} are required/],
    [() => cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupSteps: 5 }), /cosineDecay: warmupTarget and warmupSteps > 0 go together/],
    [() => cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, warmupTarget: 1 }), /cosineDecay: warmupTarget and warmupSteps > 0 go together/],
    [() => cosineDecay({ initialLearningRate: 0.1, decaySteps: 10, alpha: 2 }), /cosineDecay: alpha must be a number in \[0, 1\], got 2/],
    [() => piecewiseConstant({ boundaries: [10, 20], values: [1, 2] }), /piecewiseConstant: needs one more value than boundaries, got 2 values for 2 boundaries/],
    [() => piecewiseConstant({ boundaries: [20, 10], values: [1, 2, 3] }), /piecewiseConstant: boundaries must increase, got 20 then 10/],
    [() => piecewiseConstant({ boundaries: [10], values: [1, NaN] }), /piecewiseConstant: values\[1\] must be a number in \[0, Infinity\], got NaN/],
  ])('rejects bad options (%#)', (make, message) => {
    expect(make).toThrow(message);
  });

  it('rejects a step that is not a 1-based integer', () => {
    const lr = exponentialDecay({ initialLearningRate: 0.1, decaySteps: 10, decayRate: 0.5 });
    expect(() => lr(0)).toThrow(/exponentialDecay: the step must be an integer >= 1 \(the 1-based step being taken\), got 0/);
    expect(() => lr(1.5)).toThrow(/got 1.5/);
  });
});
