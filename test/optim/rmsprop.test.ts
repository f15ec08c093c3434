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
      expectClose(w.data, expectedW[k]!, 1e-6);
      expectClose(opt.stateDict(new Map([[w, 'w']])).get('rmsprop/w/ms')!.data, expectedMs[k]!, 1e-7);
    });
  });

  it('puts epsilon outside the square root', () => {
    // g = 1e-4, ms = 0.1 * 1e-8 = 1e-9, sqrt(ms) = 3.1623e-5.
    // Keras 2.x: 1 * 1e-4 / (3.1623e-5 + 0.01) = 0.0099685;  eps inside: 1e-4 / sqrt(1e-9 + 0.01) = 0.0010000
    const w = param([0]);
    setGrad(w, [1e-4]);
    new RMSprop({ learningRate: 1, epsilon: 0.01 }).step([w]);
    expectClose(w.data, [-1e-4 / (Math.sqrt(1e-9) + 0.01)], 1e-9);
  });
});

describe('RMSprop options', () => {
  it('defaults to Keras: lr 0.001, rho 0.9, epsilon 1e-7', () => {
    const opt = new RMSprop();
    expect([opt.learningRate, opt.rho, opt.epsilon]).toEqual([0.001, 0.9, 1e-7]);
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
