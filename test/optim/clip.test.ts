import { describe, expect, it } from 'vitest';
import { Adam, AdamW, RMSprop, SGD, globalNorm } from '../../src/index.js';
import { clipGradients, readClipping } from '../../src/optim/clip.js';
import { expectClose } from '../helpers.js';
import { param, setGrad, values } from './fixtures.js';

// A naive reference in float64 for each rule (the Keras formulas), written apart from clip.ts.
const norm = (g: number[]): number => Math.sqrt(g.reduce((s, x) => s + x * x, 0));
const f32 = (xs: number[]): number[] => Array.from(Float32Array.from(xs));

describe('clipGradients: the Keras formulas', () => {
  const a = f32([3, -4, 0.5]); // norm 5.0249
  const b = f32([0.1, 0.2]); // norm 0.2236

  it('clipNorm rescales each gradient with a norm above c to norm c and leaves the others', () => {
    const [ca, cb] = clipGradients([Float32Array.from(a), Float32Array.from(b)], readClipping('t', { clipNorm: 1 }));
    expectClose(ca!, a.map((x) => (x * 1) / norm(a)), { rtol: 1e-7 });
    expect(Array.from(cb!)).toEqual(b); // below c: the same floats
    expect(norm(Array.from(ca!))).toBeCloseTo(1, 6);
  });

  it('globalClipNorm rescales all gradients by c / their joint norm', () => {
    const n = Math.sqrt(norm(a) ** 2 + norm(b) ** 2);
    const [ca, cb] = clipGradients([Float32Array.from(a), Float32Array.from(b)], readClipping('t', { globalClipNorm: 2 }));
    expectClose(ca!, a.map((x) => (x * 2) / n), { rtol: 1e-7 });
    expectClose(cb!, b.map((x) => (x * 2) / n), { rtol: 1e-7 });
    expect(globalNorm([ca!, cb!])).toBeCloseTo(2, 6);
    // Above the joint norm: unchanged.
    const [ua] = clipGradients([Float32Array.from(a), Float32Array.from(b)], readClipping('t', { globalClipNorm: 6 }));
    expect(Array.from(ua!)).toEqual(a);
  });

  it('clipValue clamps elements, and comes before a norm clip (Keras 2 order)', () => {
    const [ca] = clipGradients([Float32Array.from(a)], readClipping('t', { clipValue: 1 }));
    expect(Array.from(ca!)).toEqual(f32([1, -1, 0.5]));
    const [cn] = clipGradients([Float32Array.from(a)], readClipping('t', { clipValue: 1, clipNorm: 1 }));
    const clamped = [1, -1, 0.5];
    expectClose(cn!, clamped.map((x) => x / norm(clamped)), { rtol: 1e-7 }); // norm 1.5 -> 1, not a's norm 5.02
  });

  it('turns a gradient with a NaN or infinite norm into NaN, never a quiet 0', () => {
    const [c1] = clipGradients([Float32Array.of(1, NaN)], readClipping('t', { clipNorm: 1 }));
    expect(Array.from(c1!)).toEqual([NaN, NaN]);
    const [c2, c3] = clipGradients([Float32Array.of(1, Infinity), Float32Array.of(2)], readClipping('t', { globalClipNorm: 1 }));
    expect([...c2!, ...c3!]).toEqual([NaN, NaN, NaN]);
    const [c4] = clipGradients([Float32Array.of(NaN, 5)], readClipping('t', { clipValue: 1 }));
    expect(Array.from(c4!)).toEqual([NaN, 1]);
  });
});

describe('clipping on the optimizers', () => {
  it('every optimizer takes the three options and leaves param.grad as backward() left it', () => {
    for (const make of [
      (o: object) => new SGD(o), (o: object) => new Adam(o), (o: object) => new RMSprop(o), (o: object) => new AdamW(o),
    ]) {
      const w = param([0, 0]);
      setGrad(w, [30, -40]);
      const opt = make({ learningRate: 0.1, clipNorm: 5 });
      opt.step([w]);
      expect(values(w.grad!)).toEqual([30, -40]);
      expect(opt.clipping).toEqual({ clipNorm: 5, globalClipNorm: null, clipValue: null });
    }
  });

  it('SGD with clipNorm steps by lr * the clipped gradient', () => {
    const w = param([1, 1]);
    setGrad(w, [30, -40]); // norm 50 -> [3, -4]
    new SGD({ learningRate: 0.1, clipNorm: 5 }).step([w]);
    expectClose(w.data, [1 - 0.3, 1 + 0.4], { atol: 1e-7 });
  });

  it('globalClipNorm takes the norm over the parameters stepped this time (those with a gradient)', () => {
    const a = param([0, 0]);
    const b = param([0]);
    const idle = param([0]); // no gradient: not in the norm
    setGrad(a, [3, 0]);
    setGrad(b, [4]);
    new SGD({ learningRate: 1, globalClipNorm: 1 }).step([a, b, idle]);
    expectClose([...a.data, ...b.data, ...idle.data], [-0.6, 0, -0.8, 0], { atol: 1e-7 });
  });

  it.each([
    [{ clipNorm: 1, globalClipNorm: 1 }, /SGD: set at most one of clipNorm \(per parameter\) and globalClipNorm \(over all gradients\), got both/],
    [{ clipNorm: 0 }, /SGD: clipNorm must be a positive finite number, got 0/],
    [{ globalClipNorm: -1 }, /SGD: globalClipNorm must be a positive finite number, got -1/],
    [{ clipValue: Infinity }, /SGD: clipValue must be a positive finite number, got Infinity/],
    [{ clipnorm: 1 }, /SGD: unknown option 'clipnorm' \(did you mean 'clipNorm'\?\)/],
    [{ global_clipnorm: 1 }, /SGD: unknown option 'global_clipnorm' \(did you mean 'globalClipNorm'\?\)/],
  ])('rejects %o', (opts, message) => {
    expect(() => new SGD(opts as never)).toThrow(message);
  });
});
