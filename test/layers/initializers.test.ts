/**
 * heNormal, heUniform, glorotNormal, constant/zeros/ones: the distributions'
 * moments and bounds on large kernels, Keras' truncation constant, seeding,
 * use from a layer, and the option checks.
 *
 * Statistical tolerances: on n = 73,728 draws the sample standard deviation
 * is within 1% of the target (its own standard error is ~0.3%, so 1% is a
 * >3-sigma band) and the mean within 4 sigma / sqrt(n).
 */
import { describe, expect, it } from 'vitest';
import {
  Dense, constantInitializer, glorotNormal, heNormal, heUniform, onesInitializer, tensor, zerosInitializer,
} from '../../src/index.js';
import { TRUNCATED_NORMAL_STDDEV, fansOf } from '../../src/layers/initializers.js';

const SHAPE = [3, 3, 64, 128]; // a conv kernel: fanIn 576, fanOut 1152
const FANS = fansOf(SHAPE);

function moments(data: Float32Array): { mean: number; std: number; maxAbs: number } {
  let s = 0, s2 = 0, maxAbs = 0;
  for (const v of data) {
    s += v;
    s2 += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const mean = s / data.length;
  return { mean, std: Math.sqrt(s2 / data.length - mean * mean), maxAbs };
}

describe('initializers', () => {
  it("the truncation constant is Keras' .87962566103423978 (stddev of N(0,1) cut at +-2)", () => {
    expect(Math.abs(TRUNCATED_NORMAL_STDDEV - 0.87962566103423978)).toBeLessThan(1e-15);
  });

  it.each([
    ['heNormal', heNormal, 2 / FANS.fanIn],
    ['glorotNormal', glorotNormal, 2 / (FANS.fanIn + FANS.fanOut)],
  ] as const)('%s: truncated normal with the target variance after truncation', (_, init, variance) => {
    const w = init({ seed: 1 })(SHAPE, FANS, 7);
    expect(w.shape).toEqual(SHAPE);
    const { mean, std, maxAbs } = moments(w.data);
    const target = Math.sqrt(variance);
    expect(Math.abs(std / target - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean)).toBeLessThan((4 * target) / Math.sqrt(w.size));
    // Truncated at 2 stddev of the pre-truncation distribution, which is target / 0.8796.
    const bound = (2 * target) / TRUNCATED_NORMAL_STDDEV;
    expect(maxAbs).toBeLessThanOrEqual(bound * (1 + 1e-6));
    expect(maxAbs).toBeGreaterThan(bound * 0.95); // and it does reach near the cut
  });

  it('heUniform: U(-sqrt(6/fanIn), sqrt(6/fanIn)), variance 2/fanIn', () => {
    const w = heUniform({ seed: 2 })(SHAPE, FANS, 7);
    const limit = Math.sqrt(6 / FANS.fanIn);
    const { std, maxAbs } = moments(w.data);
    expect(maxAbs).toBeLessThan(limit);
    expect(maxAbs).toBeGreaterThan(limit * 0.999);
    expect(Math.abs(std / Math.sqrt(2 / FANS.fanIn) - 1)).toBeLessThan(0.01);
  });

  it('are reproducible: same seeds, same bits; another initializer seed or layer seed, other values', () => {
    for (const init of [heNormal, heUniform, glorotNormal]) {
      const a = init({ seed: 3 })([20, 30], fansOf([20, 30]), 11).data;
      expect(init({ seed: 3 })([20, 30], fansOf([20, 30]), 11).data).toEqual(a);
      expect(init({ seed: 4 })([20, 30], fansOf([20, 30]), 11).data).not.toEqual(a);
      expect(init({ seed: 3 })([20, 30], fansOf([20, 30]), 12).data).not.toEqual(a);
    }
  });

  it('constant, zeros, ones fill the kernel', () => {
    expect([...constantInitializer(0.25)([2, 3], fansOf([2, 3]), 0).data]).toEqual(new Array(6).fill(0.25));
    expect([...zerosInitializer()([2, 2], fansOf([2, 2]), 0).data]).toEqual([0, 0, 0, 0]);
    expect([...onesInitializer()([1, 3], fansOf([1, 3]), 0).data]).toEqual([1, 1, 1]);
  });

  it('plug into a layer as kernelInitializer', () => {
    const dense = new Dense(4, { kernelInitializer: constantInitializer(0.5) });
    expect(dense.call(tensor([[1, 2]]), { isTraining: false }).toArray()).toEqual([[1.5, 1.5, 1.5, 1.5]]);
    const he = new Dense(8, { kernelInitializer: heNormal({ seed: 1 }) });
    he.call(tensor([[1, 2, 3]]), { isTraining: false });
    expect(he.kernel!.requiresGrad).toBe(true);
    expect(moments(he.kernel!.data).maxAbs).toBeLessThanOrEqual((2 * Math.sqrt(2 / 3)) / TRUNCATED_NORMAL_STDDEV);
  });

  it('refuse bad options and empty fans, naming themselves', () => {
    expect(() => heNormal({ sead: 1 } as never)).toThrow("heNormal: unknown option 'sead' (did you mean 'seed'?); valid options: seed");
    expect(() => glorotNormal({ seed: NaN })).toThrow('glorotNormal: seed must be a finite number, got NaN');
    expect(() => heUniform('x' as never)).toThrow("heUniform: options must be an object, got 'x' (a string)");
    expect(() => constantInitializer(NaN)).toThrow('constant: value must be a finite number, got NaN');
    expect(() => heNormal()([0, 3], fansOf([0, 3]), 0)).toThrow('heNormal: kernel [0,3] has a fan of 0');
  });
});
