import { describe, expect, it } from 'vitest';
import { SGD } from '../../src/optim/sgd.js';
import { expectClose } from '../helpers.js';
import { GRADS, W0, dump, param, setGrad } from './fixtures.js';

// Hand-worked, lr = 0.1, momentum = 0.9, w0 = [1, -2], grads g1 = [1, -2], g2 = [0.5, 0.5], g3 = [-1, 0].
// Tolerance 1e-6: the values are O(1) and stored in float32 (spacing ~1.2e-7 near 1).
describe('SGD: three steps worked by hand', () => {
  it('plain SGD: w -= lr * g', () => {
    // w1 = [1 - 0.1, -2 + 0.2] = [0.9, -1.8]
    // w2 = [0.9 - 0.05, -1.8 - 0.05] = [0.85, -1.85]
    // w3 = [0.85 + 0.1, -1.85 - 0] = [0.95, -1.85]
    const w = param(W0);
    const opt = new SGD({ learningRate: 0.1 });
    const expected = [[0.9, -1.8], [0.85, -1.85], [0.95, -1.85]];
    GRADS.forEach((g, k) => {
      setGrad(w, g);
      opt.step([w]);
      expectClose(w.data, expected[k]!, { atol: 1e-6 });
    });
    expect([...opt.stateDict(new Map([[w, 'w']])).keys()]).toEqual(['sgd/step']); // no velocity without momentum
  });

  it('momentum 0.9: v = 0.9 v - 0.1 g; w += v', () => {
    // v1 = -0.1 * [1, -2]                      = [-0.1, 0.2]     w1 = [0.9, -1.8]
    // v2 = 0.9 * [-0.1, 0.2] - 0.1 * [0.5, 0.5] = [-0.09 - 0.05, 0.18 - 0.05] = [-0.14, 0.13]
    //                                                             w2 = [0.76, -1.67]
    // v3 = 0.9 * [-0.14, 0.13] - 0.1 * [-1, 0]  = [-0.126 + 0.1, 0.117] = [-0.026, 0.117]
    //                                                             w3 = [0.734, -1.553]
    const w = param(W0);
    const opt = new SGD({ learningRate: 0.1, momentum: 0.9 });
    const expectedW = [[0.9, -1.8], [0.76, -1.67], [0.734, -1.553]];
    const expectedV = [[-0.1, 0.2], [-0.14, 0.13], [-0.026, 0.117]];
    GRADS.forEach((g, k) => {
      setGrad(w, g);
      opt.step([w]);
      expectClose(w.data, expectedW[k]!, { atol: 1e-6 });
      expectClose(opt.stateDict(new Map([[w, 'w']])).get('sgd/w/velocity')!.data, expectedV[k]!, { atol: 1e-6 });
    });
    expect(opt.iterations).toBe(3);
  });

  it('nesterov: v = 0.9 v - 0.1 g; w += 0.9 v - 0.1 g', () => {
    // step 1: v = [-0.1, 0.2];    w += 0.9 v - 0.1 g = [-0.09 - 0.1, 0.18 + 0.2] = [-0.19, 0.38]   -> [0.81, -1.62]
    // step 2: v = [-0.14, 0.13];  w += [-0.126 - 0.05, 0.117 - 0.05] = [-0.176, 0.067]             -> [0.634, -1.553]
    // step 3: v = [-0.026, 0.117]; w += [-0.0234 + 0.1, 0.1053 - 0] = [0.0766, 0.1053]             -> [0.7106, -1.4477]
    const w = param(W0);
    const opt = new SGD({ learningRate: 0.1, momentum: 0.9, nesterov: true });
    const expected = [[0.81, -1.62], [0.634, -1.553], [0.7106, -1.4477]];
    GRADS.forEach((g, k) => {
      setGrad(w, g);
      opt.step([w]);
      expectClose(w.data, expected[k]!, { atol: 1e-6 });
    });
  });
});

describe('SGD options and state', () => {
  it.each([
    [{ learningRate: 0 }, /SGD: learningRate must be a positive finite number or a function/],
    [{ learningRate: -0.1 }, /SGD: learningRate/],
    [{ learningRate: Number.NaN }, /SGD: learningRate/],
    [{ momentum: 1 }, /SGD: momentum must be a number in \[0, 1\), got 1/],
    [{ momentum: -0.5 }, /SGD: momentum/],
    [{ nesterov: true }, /SGD: nesterov needs momentum > 0/],
    [{ lr: 0.1 }, /SGD: unknown option 'lr'; valid options: learningRate, momentum, nesterov/],
  ])('rejects %o', (opts, message) => {
    expect(() => new SGD(opts as never)).toThrow(message);
  });

  it('defaults to Keras: learningRate 0.01, no momentum', () => {
    const opt = new SGD();
    expect([opt.learningRate, opt.momentum, opt.nesterov]).toEqual([0.01, 0, false]);
  });

  it('refuses velocity entries when it has no momentum, changing nothing', () => {
    const w = param(W0);
    const withMomentum = new SGD({ learningRate: 0.1, momentum: 0.5 });
    setGrad(w, [1, 1]);
    withMomentum.step([w]);
    const saved = withMomentum.stateDict(new Map([[w, 'w']]));
    const plain = new SGD({ learningRate: 0.1 });
    plain.step([w]);
    const before = dump(plain.stateDict(new Map([[w, 'w']])));
    expect(() => plain.loadStateDict(saved, new Map([['w', w]]))).toThrow(/'velocity' is not a slot of this SGD \(slots: none\)/);
    expect(dump(plain.stateDict(new Map([[w, 'w']])))).toEqual(before);
    expect(plain.iterations).toBe(1);
  });
});
