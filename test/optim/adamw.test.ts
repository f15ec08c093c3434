import { describe, expect, it } from 'vitest';
import { Adam, AdamW, BatchNorm, Dense, ReLU, Sequential, biasAndNormWeights, mul, sum, tensor } from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';
import { param, setGrad, values } from './fixtures.js';


describe('AdamW: decoupled weight decay', () => {
  it('is Adam applied to (1 - lr wd) w (hand-worked first step)', () => {
    // Step 1 of Adam moves each coordinate by lr * g / (|g| + eps) = ~lr * sign(g).
    // AdamW first shrinks w by (1 - 0.1 * 0.5) = 0.95.
    const w = param([2, -4]);
    setGrad(w, [0.3, 0.3]);
    new AdamW({ learningRate: 0.1, weightDecay: 0.5 }).step([w]);
    const adamStep = (0.1 * 0.3) / (0.3 + 1e-7);
    expectClose(w.data, [0.95 * 2 - adamStep, 0.95 * -4 - adamStep], { atol: 3e-7 }); // about a float32 ulp at |w| = 4
  });

  it('with weightDecay 0 gives exactly Adam\'s floats', () => {
    const a = param([0.5, -1.5, 2]);
    const b = param([0.5, -1.5, 2]);
    const adamw = new AdamW({ learningRate: 0.05, weightDecay: 0 });
    const adam = new Adam({ learningRate: 0.05 });
    for (let k = 0; k < 5; k++) {
      const g = [Math.sin(k), Math.cos(k), 0.1 * k - 0.2];
      setGrad(a, g);
      setGrad(b, g);
      adamw.step([a]);
      adam.step([b]);
    }
    expect(values(a)).toEqual(values(b));
  });

  it('decays with the scheduled learning rate', () => {
    const w = param([1]);
    setGrad(w, [0]); // no gradient: only the decay moves w
    const opt = new AdamW({ learningRate: (step) => 0.1 * step, weightDecay: 0.5 });
    opt.step([w]);
    opt.step([w]);
    expectClose(w.data, [(1 - 0.05) * (1 - 0.1)], { atol: 1e-7 });
  });

  it('defaults: PyTorch\'s weightDecay 0.01, normgrad Adam\'s lr, betas, epsilon; no exclusions', () => {
    const opt = new AdamW();
    expect([opt.learningRateAt(1), opt.beta1, opt.beta2, opt.epsilon, opt.weightDecay, opt.exclude]).toEqual([0.001, 0.9, 0.999, 1e-7, 0.01, null]);
  });

  it('refuses an exclude predicate that does not answer true or false, before changing anything', () => {
    const first = param([5]);
    const w = param([1, 2]);
    setGrad(first, [1]);
    setGrad(w, [1, 1]);
    const opt = new AdamW({ exclude: ((p: { size: number }) => (p.size === 1 ? false : 'yes')) as never });
    expect(() => opt.step([first, w])).toThrow(/AdamW: exclude must return true or false, got yes for a parameter \[2\]/);
    expect([...values(first), ...values(w)]).toEqual([5, 1, 2]); // the first parameter was not stepped either
    expect(opt.iterations).toBe(0);
  });

  it.each([
    [{ weightDecay: -0.1 }, /AdamW: weightDecay must be a number in \[0, Infinity\), got -0.1/],
    [{ weight_decay: 0.1 }, /AdamW: unknown option 'weight_decay' \(did you mean 'weightDecay'\?\)/],
    [{ exclude: ['bias'] }, /AdamW: exclude must be a function \(param\) => boolean/],
    [{ clipNorm: 1, globalClipNorm: 1 }, /AdamW: set at most one of clipNorm/],
  ])('rejects %o', (opts, message) => {
    expect(() => new AdamW(opts as never)).toThrow(message);
  });
});

describe('biasAndNormWeights: excluding biases and BatchNorm gamma/beta from the decay', () => {
  const build = () => new Sequential([new Dense(4), new BatchNorm(), new ReLU(), new Sequential([new Dense(2)], { name: 'head' })]);

  it('skips exactly dense1/bias, bn1/gamma, bn1/beta and head/dense1/bias, found by name in a nested model built after the optimizer', () => {
    const model = build();
    const opt = new AdamW({ learningRate: 0.01, weightDecay: 0.5, exclude: biasAndNormWeights(model) });
    const twin = build(); // the same seeded weights, trained with plain Adam for comparison
    const adam = new Adam({ learningRate: 0.01 });
    const x = uniform([3, 5], 1);
    for (const [m, o] of [[model, opt], [twin, adam]] as const) {
      sum(mul(m.call(x, { isTraining: true }), uniform([3, 2], 2))).backward();
      o.step(m.parameters());
    }
    const decayed: string[] = [];
    const a = model.weights();
    const b = twin.weights();
    for (const [name, w] of a) {
      const same = values(w).every((v, i) => Object.is(v, b.get(name)!.data[i]));
      if (!same) decayed.push(name);
    }
    expect(decayed.sort()).toEqual(['dense1/kernel', 'head/dense1/kernel']);
  });

  it('refuses a parameter that is not in the model', () => {
    const model = build();
    model.call(uniform([1, 5], 3), { isTraining: false });
    const stranger = tensor([1, 2]).requireGrad();
    setGrad(stranger, [1, 1]);
    const opt = new AdamW({ exclude: biasAndNormWeights(model) });
    expect(() => opt.step([stranger])).toThrow(/biasAndNormWeights: a parameter \[2\] is not a weight of model 'sequential'/);
  });
});
