import { describe, expect, it } from 'vitest';
import { Adam } from '../../src/optim/adam.js';
import { expectClose } from '../helpers.js';
import { GRADS, W0, param, setGrad } from './fixtures.js';

// Hand-worked in float64, lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-7,
// w0 = [1, -2], grads g1 = [1, -2], g2 = [0.5, 0.5], g3 = [-1, 0].
// Tolerance 1e-6 (float32 storage of O(1) values). Checked with this float64 snippet:
//   m=v=0; for t,g in enumerate(G,1): m=.9*m+.1*g; v=.999*v+.001*g*g;
//   w -= .1*(m/(1-.9**t))/(sqrt(v/(1-.999**t))+1e-7)
describe('Adam: three steps worked by hand', () => {
  it('matches the arithmetic', () => {
    // t = 1: m = 0.1 g = [0.1, -0.2]; v = 0.001 g^2 = [0.001, 0.004]
    //        mHat = m / 0.1 = [1, -2]; vHat = v / 0.001 = [1, 4]; sqrt = [1, 2]
    //        step = 0.1 * [1/(1+1e-7), -2/(2+1e-7)] = [0.09999999, -0.099999995]
    //        w1 = [0.90000001, -1.900000005]
    // t = 2: m = 0.9 m + 0.1 g2 = [0.09 + 0.05, -0.18 + 0.05] = [0.14, -0.13]
    //        v = 0.999 v + 0.001 g2^2 = [0.000999 + 0.00025, 0.003996 + 0.00025] = [0.001249, 0.004246]
    //        mHat = m / 0.19 = [0.736842105, -0.684210526]; vHat = v / 0.001999 = [0.624812406, 2.124062031]
    //        sqrt(vHat) = [0.790450761, 1.457416217]; step = 0.1 mHat / sqrt = [0.093217952, -0.046946814]
    //        w2 = [0.806782058, -1.853053191]
    // t = 3: m = [0.126 - 0.1, -0.117 + 0] = [0.026, -0.117]
    //        v = [0.001247751 + 0.001, 0.004241754 + 0] = [0.002247751, 0.004241754]
    //        mHat = m / 0.271 = [0.095940959, -0.431734317]; vHat = v / 0.002997001 = [0.750000083, 1.415332861]
    //        sqrt(vHat) = [0.866025452, 1.189677629]; step = [0.011078306, -0.036290023]
    //        w3 = [0.795703752, -1.816763168]
    const w = param(W0);
    const opt = new Adam({ learningRate: 0.1 });
    const expectedW = [[0.900000009999999, -1.9000000049999997], [0.8067820579118706, -1.8530531911004469], [0.7957037520588724, -1.8167631684499717]];
    const expectedM = [[0.1, -0.2], [0.14, -0.13], [0.026, -0.117]];
    const expectedV = [[0.001, 0.004], [0.001249, 0.004246], [0.002247751, 0.004241754]];
    GRADS.forEach((g, k) => {
      setGrad(w, g);
      opt.step([w]);
      expectClose(w.data, expectedW[k]!, { atol: 1e-6 });
      const state = opt.stateDict(new Map([[w, 'w']]));
      expectClose(state.get('adam/w/m')!.data, expectedM[k]!, { atol: 1e-7 });
      expectClose(state.get('adam/w/v')!.data, expectedV[k]!, { atol: 1e-9 });
      expect(state.get('adam/w/step')!.data[0]).toBe(k + 1);
      expect(state.get('adam/step')!.data[0]).toBe(k + 1);
    });
  });

  it('takes a first step of lr * sign(g) whatever the gradient scale (the bias correction at work)', () => {
    for (const scale of [1e-3, 1, 1e3]) {
      const w = param([0, 0]);
      setGrad(w, [scale, -scale]);
      new Adam({ learningRate: 0.01 }).step([w]);
      expectClose(w.data, [-0.01, 0.01], { atol: 1e-6 });
    }
  });
});

describe('Adam: epsilon is added to sqrt(vHat) (paper, Algorithm 1)', () => {
  it('differs from the TF/Keras epsilon-hat form where eps matters', () => {
    // eps = 0.1, g = 1, first step: mHat = 1, vHat = 1.
    // Here: 0.1 * 1 / (1 + 0.1) = 0.0909091.
    // TF's form: lr_t = 0.1 * sqrt(0.001) / 0.1 = 0.0316228; 0.0316228 * 0.1 / (0.0316228 + 0.1) = 0.0240253.
    const w = param([0]);
    setGrad(w, [1]);
    new Adam({ learningRate: 0.1, epsilon: 0.1 }).step([w]);
    expectClose(w.data, [-0.1 / 1.1], { atol: 1e-7 });
  });
});

describe('Adam: per-parameter bias correction', () => {
  it('a parameter that starts receiving gradients late is corrected from its own first step', () => {
    const early = param([0]);
    const late = param([0]);
    const opt = new Adam({ learningRate: 0.01 });
    for (let k = 0; k < 20; k++) {
      setGrad(early, [1]);
      opt.step([early, late]); // late has no grad yet: skipped, no slots
    }
    expect([...opt.stateDict(new Map([[early, 'early'], [late, 'late']])).keys()]).not.toContain('adam/late/m');
    // Its first update: mHat = g, vHat = g^2, so it moves by lr (not ~3.2 lr as with the global t = 21).
    setGrad(late, [5]);
    opt.step([early, late]);
    expectClose(late.data, [-0.01], { atol: 1e-7 });
    const state = opt.stateDict(new Map([[early, 'early'], [late, 'late']]));
    expect(state.get('adam/late/step')!.data[0]).toBe(1);
    expect(state.get('adam/early/step')!.data[0]).toBe(21);
    expect(state.get('adam/step')!.data[0]).toBe(21);
  });
});

describe('Adam options', () => {
  it('defaults to Keras: lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7', () => {
    const opt = new Adam();
    expect([opt.learningRate, opt.beta1, opt.beta2, opt.epsilon]).toEqual([0.001, 0.9, 0.999, 1e-7]);
  });

  it.each([
    [{ learningRate: 0 }, /Adam: learningRate must be a positive finite number or a function of the step, got 0/],
    [{ learningRate: Infinity }, /Adam: learningRate/],
    [{ learningRate: '0.1' }, /Adam: learningRate/],
    [{ beta1: 1 }, /Adam: beta1 must be a number in \[0, 1\), got 1/],
    [{ beta1: -0.1 }, /Adam: beta1/],
    [{ beta2: 1.5 }, /Adam: beta2 must be a number in \[0, 1\)/],
    [{ beta2: Number.NaN }, /Adam: beta2/],
    [{ epsilon: 0 }, /Adam: epsilon must be a positive finite number, got 0/],
    [{ beta_1: 0.9 }, /Adam: unknown option 'beta_1' \(did you mean 'beta1'\?\); valid options: learningRate, beta1, beta2, epsilon/],
  ])('rejects %o', (opts, message) => {
    expect(() => new Adam(opts as never)).toThrow(message);
  });

  it('accepts beta1 = 0 (no first-moment averaging: RMSprop with bias correction)', () => {
    const w = param([0]);
    const opt = new Adam({ learningRate: 0.1, beta1: 0 });
    setGrad(w, [2]);
    opt.step([w]);
    setGrad(w, [-2]);
    opt.step([w]);
    // step 1: m = 2, v = 0.004, mHat = 2, vHat = 4: w = 0 - 0.1 * 2/2 = -0.1
    // step 2: m = -2, v = 0.999*0.004 + 0.004 = 0.007996, vHat = 0.007996/0.001999 = 4: w = -0.1 + 0.1 = 0
    expectClose(w.data, [0], { atol: 1e-6 });
  });
});
