import { describe, expect, it } from 'vitest';
import { RMSprop } from '../../src/optim/rmsprop.js';
import { expectClose } from '../helpers.js';
import { GRADS, W0, param, setGrad } from './fixtures.js';

// Hand-worked in float64, lr = 0.1, rho = 0.9, eps = 1e-7 (Keras 2.x: eps outside the root),
// w0 = [1, -2], grads g1 = [1, -2], g2 = [0.5, 0.5], g3 = [-1, 0]. Tolerance 1e-6.
describe('RMSprop: three steps worked by hand', () => {
  it('matches the arithmetic', () => {
    // t = 1: ms = 0.1 g^2 = [0.1, 0.4]; sqrt = [0.316227766, 0.632455532]
    //        step = 0.1 g / (sqrt + 1e-7) = [0.316227666, -0.316227716]
    //        w1 = [0.683772334, -1.683772284]
    // t = 2: ms = 0.9 ms + 0.1 * 0.25 = [0.09 + 0.025, 0.36 + 0.025] = [0.115, 0.385]
    //        sqrt = [0.339116499, 0.620483682]; step = 0.05 / sqrt = [0.147441913, 0.080582283]
    //        w2 = [0.536330421, -1.764354567]
    // t = 3: ms = [0.1035 + 0.1, 0.3465 + 0] = [0.2035, 0.3465]; sqrt = [0.451109743, 0.588642506]
    //        step = [-0.1 / 0.451109743, 0] = [-0.221675500, 0]     (g = 0 leaves w alone)
    //        w3 = [0.758005921, -1.764354567]
    const w = param(W0);
    const opt = new RMSprop({ learningRate: 0.1 });
    const expectedW = [[0.6837723339831303, -1.6837722839831541], [0.5363304213064812, -1.7643545673986814], [0.7580059214271794, -1.7643545673986814]];
    const expectedMs = [[0.1, 0.4], [0.115, 0.385], [0.2035, 0.3465]];
    GRADS.forEach((g, k) => {
      setGrad(w, g);
      opt.step([w]);
      expectClose(w.data, expectedW[k]!, { atol: 1e-6 });
      expectClose(opt.stateDict(new Map([[w, 'w']])).get('rmsprop/w/ms')!.data, expectedMs[k]!, { atol: 1e-7 });
    });
  });

  it('puts epsilon outside the square root', () => {
    // g = 1e-4, ms = 0.1 * 1e-8 = 1e-9, sqrt(ms) = 3.1623e-5.
    // Keras 2.x: 1 * 1e-4 / (3.1623e-5 + 0.01) = 0.0099685;  eps inside: 1e-4 / sqrt(1e-9 + 0.01) = 0.0010000
    const w = param([0]);
    setGrad(w, [1e-4]);
    new RMSprop({ learningRate: 1, epsilon: 0.01 }).step([w]);
    expectClose(w.data, [-1e-4 / (Math.sqrt(1e-9) + 0.01)], { atol: 1e-9 });
  });
});

describe('RMSprop momentum and centered (hand-worked; the trajectories are checked against PyTorch in torch-reference.test.ts)', () => {
  it('momentum: v = mu v - lr g / (sqrt(ms) + eps), w = w + v', () => {
    // lr 0.1, rho 0.9, mu 0.5, eps 1e-7, g = 1 twice from w = 0.
    // t=1: ms = 0.1, step1 = 0.1 / (sqrt(0.1) + 1e-7) = 0.316227666; v = -0.316227666, w = -0.316227666
    // t=2: ms = 0.19, step2 = 0.1 / (sqrt(0.19) + 1e-7) = 0.229415680; v = -0.158113833 - 0.229415680 = -0.387529513
    //      w = -0.703757179
    const w = param([0]);
    const opt = new RMSprop({ learningRate: 0.1, momentum: 0.5 });
    const s1 = 0.1 / (Math.sqrt(0.1) + 1e-7);
    const s2 = 0.1 / (Math.sqrt(0.19) + 1e-7);
    setGrad(w, [1]);
    opt.step([w]);
    expectClose(w.data, [-s1], { atol: 1e-7 });
    setGrad(w, [1]);
    opt.step([w]);
    expectClose(w.data, [-s1 - (0.5 * s1 + s2)], { atol: 1e-7 });
    expectClose(opt.stateDict(new Map([[w, 'w']])).get('rmsprop/w/velocity')!.data, [-(0.5 * s1 + s2)], { atol: 1e-7 });
  });

  it('centered: divides by sqrt(ms - mg^2) + eps', () => {
    // lr 0.1, rho 0.9, g = 1 then -1 from w = 0.
    // t=1: ms = 0.1, mg = 0.1, var = 0.09, w = -0.1 / (0.3 + 1e-7)
    // t=2: ms = 0.19, mg = 0.09 - 0.1 = -0.01, var = 0.1899, w += 0.1 / (sqrt(0.1899) + 1e-7)
    const w = param([0]);
    const opt = new RMSprop({ learningRate: 0.1, centered: true });
    setGrad(w, [1]);
    opt.step([w]);
    expectClose(w.data, [-0.1 / (0.3 + 1e-7)], { atol: 1e-7 });
    setGrad(w, [-1]);
    opt.step([w]);
    expectClose(w.data, [-0.1 / (0.3 + 1e-7) + 0.1 / (Math.sqrt(0.1899) + 1e-7)], { atol: 1e-7 });
    expectClose(opt.stateDict(new Map([[w, 'w']])).get('rmsprop/w/mg')!.data, [-0.01], { atol: 1e-8 });
  });

  it('keeps only the slots in use: ms; mg when centered; velocity with momentum', () => {
    const names = (opts: object): string[] => {
      const w = param([0]);
      setGrad(w, [1]);
      const opt = new RMSprop(opts);
      opt.step([w]);
      return [...opt.stateDict(new Map([[w, 'w']])).keys()];
    };
    expect(names({})).toEqual(['rmsprop/step', 'rmsprop/w/ms']);
    expect(names({ centered: true })).toEqual(['rmsprop/step', 'rmsprop/w/ms', 'rmsprop/w/mg']);
    expect(names({ momentum: 0.9, centered: true })).toEqual(['rmsprop/step', 'rmsprop/w/ms', 'rmsprop/w/mg', 'rmsprop/w/velocity']);
  });

  it('centered: a variance that rounding pushes below 0 is floored, so the step is lr g / eps and not NaN', () => {
    // A constant gradient 0.3 with rho 0.5: the true variance g^2 rho^t (1 - rho^t) falls below the
    // float32 rounding of ms and mg within ~25 steps, and ms - mg^2 then comes out negative
    // (376 of 400 steps in a replay of the arithmetic).
    const w = param([0]);
    const opt = new RMSprop({ learningRate: 1e-9, rho: 0.5, centered: true });
    const g = Math.fround(0.3);
    let floored = 0;
    for (let t = 0; t < 60; t++) {
      const before = w.item();
      setGrad(w, [0.3]);
      opt.step([w]);
      expect(Number.isFinite(w.item())).toBe(true);
      const taken = before - w.item();
      if (Math.abs(taken - (1e-9 * g) / 1e-7) <= 1e-6 * Math.abs(taken)) floored++;
    }
    expect(floored).toBeGreaterThan(10);
  });
});

describe('RMSprop options', () => {
  it('defaults to Keras: lr 0.001, rho 0.9, epsilon 1e-7, no momentum, not centered', () => {
    const opt = new RMSprop();
    expect([opt.learningRate, opt.rho, opt.epsilon, opt.momentum, opt.centered]).toEqual([0.001, 0.9, 1e-7, 0, false]);
  });

  it.each([
    [{ learningRate: -1 }, /RMSprop: learningRate/],
    [{ rho: 1 }, /RMSprop: rho must be a number in \[0, 1\), got 1/],
    [{ rho: -0.1 }, /RMSprop: rho/],
    [{ epsilon: -1e-7 }, /RMSprop: epsilon must be a positive finite number/],
    [{ momentum: 1 }, /RMSprop: momentum must be a number in \[0, 1\), got 1/],
    [{ centered: 1 }, /RMSprop: centered must be true or false, got 1/],
    [{ decay: 0.9 }, /RMSprop: unknown option 'decay'; valid options: learningRate, rho, epsilon, momentum, centered, clipNorm, globalClipNorm, clipValue/],
  ])('rejects %o', (opts, message) => {
    expect(() => new RMSprop(opts as never)).toThrow(message);
  });
});
