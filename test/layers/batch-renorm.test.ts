/**
 * BatchNorm({ renorm: true }) against a naive float64 re-implementation of
 * tf.keras' renorm code path, step by step over several training calls
 * (outputs and statistics atol 1e-6, rtol 1e-6: float32 vs float64; measured
 * max difference 1.7e-7), r and d
 * constant in the backward pass (gradcheck of batchRenormTraining with r, d
 * fixed, eps 1e-3, atol 1e-3, rtol 1e-2), and the layer contract: freezing,
 * checkpoints, folding, the report, clipping ramps, NaN.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm, Dense, Sequential, Tensor, backward, batchNormReport, batchNormTraining, batchRenormTraining, foldBatchNorm,
  fromBytes, gradcheck, randomNormal, recomputeBatchNormStatistics, toBytes,
} from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';

/** Keras' renorm training call in float64, on [m, C] data (as _renorm_correction_and_moments and variance_update). */
class NaiveRenorm {
  renormMean: number[];
  renormStddev: number[];
  movingMean: number[];
  movingStddev: number[];
  movingVariance: number[];
  lastR: number[] = [];
  lastD: number[] = [];
  constructor(c: number, readonly eps: number, readonly momentum: number, readonly renormMomentum: number,
    readonly clip: { rMin: number; rMax: number; dMax: number }, readonly bessel: boolean) {
    this.renormMean = new Array<number>(c).fill(0);
    this.renormStddev = new Array<number>(c).fill(1);
    this.movingMean = new Array<number>(c).fill(0);
    this.movingStddev = new Array<number>(c).fill(1);
    this.movingVariance = new Array<number>(c).fill(1);
  }

  call(x: Float32Array, c: number, gamma: number[], beta: number[]): number[] {
    const m = x.length / c;
    const y = new Array<number>(x.length);
    for (let k = 0; k < c; k++) {
      let mean = 0;
      for (let i = 0; i < m; i++) mean += x[i * c + k]! / m;
      let variance = 0;
      for (let i = 0; i < m; i++) variance += (x[i * c + k]! - mean) ** 2 / m;
      const stddev = Math.sqrt(variance + this.eps);
      const renormStddev = Math.max(this.renormStddev[k]!, Math.sqrt(this.eps));
      let r = stddev / renormStddev;
      let d = (mean - this.renormMean[k]!) / renormStddev;
      r = Math.min(Math.max(r, this.clip.rMin), this.clip.rMax);
      d = Math.min(Math.max(d, -this.clip.dMax), this.clip.dMax);
      this.lastR[k] = r;
      this.lastD[k] = d;
      // scale, offset = r * gamma, d * gamma + beta; tf.nn.batch_normalization(x, mean, variance, offset, scale, eps)
      for (let i = 0; i < m; i++) y[i * c + k] = ((x[i * c + k]! - mean) / stddev) * (r * gamma[k]!) + (d * gamma[k]! + beta[k]!);
      this.renormMean[k] = this.renormMean[k]! - (this.renormMean[k]! - mean) * (1 - this.renormMomentum);
      this.renormStddev[k] = this.renormStddev[k]! - (this.renormStddev[k]! - stddev) * (1 - this.renormMomentum);
      this.movingMean[k] = this.movingMean[k]! - (this.movingMean[k]! - mean) * (1 - this.momentum);
      const v = this.bessel ? (variance * m) / (m - 1) : variance;
      this.movingStddev[k] = this.movingStddev[k]! - (this.movingStddev[k]! - Math.sqrt(v + this.eps)) * (1 - this.momentum);
      this.movingVariance[k] = Math.max(this.movingStddev[k]! ** 2 - this.eps, 0);
    }
    return y;
  }
}

const STATS = { atol: 1e-6, rtol: 1e-6 };

describe('BatchNorm renorm', () => {
  for (const mode of ['biased', 'unbiased'] as const) {
    it(`matches Keras' renorm step by step over 4 training calls (movingVariance '${mode}')`, () => {
      const c = 3;
      const clip = { rMax: 1.5, dMax: 0.5 };
      const bn = new BatchNorm({ renorm: true, renormClipping: clip, renormMomentum: 0.9, momentum: 0.8, movingVariance: mode });
      const naive = new NaiveRenorm(c, 1e-3, 0.8, 0.9, { rMin: 1 / 1.5, ...clip }, mode === 'unbiased');
      let clipped = 0;
      for (let step = 0; step < 4; step++) {
        const x = randomNormal([10, c], { seed: 30 + step, mean: 2 - step, stddev: 0.5 + step });
        const y = bn.call(x, { isTraining: true });
        if (step === 0) {
          bn.gamma!.data.set([0.5, 1, 2]);
          bn.beta!.data.set([0.1, -0.2, 0.3]);
        }
        const expected = naive.call(x.data, c, step === 0 ? [1, 1, 1] : [0.5, 1, 2], step === 0 ? [0, 0, 0] : [0.1, -0.2, 0.3]);
        expectClose(y.data, expected, { atol: 1e-6, rtol: 1e-6 });
        clipped += naive.lastR.filter((r) => r === 1.5 || r === 1 / 1.5).length + naive.lastD.filter((d) => Math.abs(d) === 0.5).length;
        expectClose(bn.renormMean!.data, naive.renormMean, STATS);
        expectClose(bn.renormStddev!.data, naive.renormStddev, STATS);
        expectClose(bn.movingMean!.data, naive.movingMean, STATS);
        expectClose(bn.movingStddev!.data, naive.movingStddev, STATS);
        expectClose(bn.movingVariance!.data, naive.movingVariance, STATS);
      }
      expect(clipped).toBeGreaterThan(2); // the bounds were exercised
    });
  }

  it('with r = 1 and d = 0 forced by the clipping, equals plain batch norm to the bit', () => {
    const x = randomNormal([8, 4], { seed: 2, mean: 3 });
    const bn = new BatchNorm({ renorm: true, renormClipping: { rMax: 1, dMax: 0 } });
    const plain = new BatchNorm();
    expect(Array.from(bn.call(x, { isTraining: true }).data)).toEqual(Array.from(plain.call(x, { isTraining: true }).data));
  });

  it('gradcheck of batchRenormTraining with r and d fixed; the layer gradient treats them as constants', () => {
    const r = Float32Array.of(1.3, 0.8, 1);
    const d = Float32Array.of(0.2, -0.4, 0);
    const report = gradcheck((x, g, b) => batchRenormTraining(x, g, b, r, d, 1e-3).y, [uniform([5, 3], 1), uniform([3], 2, 0.5, 1.5), uniform([3], 3)]);
    expect(report.ok).toBe(true);
    // The layer after a few steps: its x gradient is the fixed-r,d op's.
    const bn = new BatchNorm({ renorm: true, renormClipping: { rMax: 2, dMax: 1 } });
    for (let s = 0; s < 3; s++) bn.call(randomNormal([6, 3], { seed: 40 + s, mean: 1 }), { isTraining: true });
    const x = randomNormal([6, 3], { seed: 50, mean: 2 }).requireGrad();
    const { r: rNow, d: dNow } = expectedCorrection(bn, x);
    const w = uniform([6, 3], 4);
    backward(bn.call(x, { isTraining: true }), { grad: w.data });
    const x2 = new Tensor(Float32Array.from(x.data), x.shape).requireGrad();
    backward(batchRenormTraining(x2, bn.gamma, bn.beta, rNow, dNow, 1e-3).y, { grad: w.data });
    expectClose(x.grad!.data, x2.grad!.data, { atol: 1e-6, rtol: 1e-5 });
  });

  it('frozen: a training call uses the moving statistics and changes no state', () => {
    const bn = new BatchNorm({ renorm: true });
    bn.call(randomNormal([8, 2], { seed: 5, mean: 1 }), { isTraining: true });
    const before = [...bn.buffers().values()].map((t) => Array.from(t.data));
    bn.trainable = false;
    const x = randomNormal([8, 2], { seed: 6 });
    expect(Array.from(bn.call(x, { isTraining: true }).data)).toEqual(Array.from(bn.call(x, { isTraining: false }).data));
    expect([...bn.buffers().values()].map((t) => Array.from(t.data))).toEqual(before);
  });

  it('checkpoints carry the renorm state; folding and the report use the moving statistics', () => {
    const make = (): Sequential => new Sequential([new Dense(3), new BatchNorm({ renorm: true, renormClipping: { rMax: 2 } })]);
    const model = make();
    for (let s = 0; s < 3; s++) model.call(randomNormal([8, 2], { seed: 60 + s, mean: 2 }), { isTraining: true });
    expect([...model.stateDict().keys()]).toEqual([
      'dense1/kernel', 'dense1/bias', 'bn1/gamma', 'bn1/beta', 'bn1/movingMean', 'bn1/movingVariance', 'bn1/movingStddev', 'bn1/renormMean', 'bn1/renormStddev',
    ]);
    const copy = make();
    copy.call(randomNormal([8, 2], { seed: 1 }), { isTraining: false });
    fromBytes(copy, toBytes(model));
    const x = randomNormal([8, 2], { seed: 70, mean: 1 });
    expect(Array.from(copy.call(x, { isTraining: true }).data)).toEqual(Array.from(model.call(x, { isTraining: true }).data));
    const folded = foldBatchNorm(model);
    expectClose(folded.call(x, { isTraining: false }).data, model.call(x, { isTraining: false }).data, { atol: 1e-5, rtol: 1e-5 });
    const [layer] = batchNormReport(model, x);
    const bn = model.layers[1] as BatchNorm;
    expect(Array.from(layer!.movingVariance)).toEqual(Array.from(bn.movingVariance!.data));
  });

  it('clipping is checked and can be ramped between steps', () => {
    const bn = new BatchNorm({ renorm: true, renormClipping: { rMax: 1, dMax: 0 } });
    expect(bn.renormClipping).toEqual({ rMin: 1, rMax: 1, dMax: 0 });
    bn.renormClipping = { rMax: 3, dMax: 5 };
    expect(bn.renormClipping).toEqual({ rMin: 1 / 3, rMax: 3, dMax: 5 });
    bn.renormClipping = { rMax: 3, rMin: 0 }; // Keras' default rmin: no lower bound
    expect(bn.renormClipping).toEqual({ rMin: 0, rMax: 3, dMax: Infinity });
    expect(() => (bn.renormClipping = { rMax: 0.5 })).toThrow('renormClipping.rMax must be a number in [1, Infinity]');
    expect(() => (bn.renormClipping = { rmax: 2 } as never)).toThrow("bn renormClipping: unknown option 'rmax' (did you mean 'rMax'?)");
    expect(() => new BatchNorm({ renormClipping: { rMax: 2 } })).toThrow('BatchNorm: renormClipping and renormMomentum need renorm: true');
    expect(() => new BatchNorm({ renorm: true, renormMomentum: 2 })).toThrow('BatchNorm: renormMomentum must be a number in [0, 1]');
  });

  it('NaN in a channel propagates to its outputs and statistics', () => {
    const bn = new BatchNorm({ renorm: true, renormClipping: { rMax: 2, dMax: 1 } });
    const x = randomNormal([6, 2], { seed: 8 });
    x.data[2] = NaN; // channel 0
    const y = bn.call(x, { isTraining: true });
    expect([0, 2, 4].every((i) => Number.isNaN(y.data[i]!))).toBe(true);
    expect([1, 3, 5].every((i) => Number.isFinite(y.data[i]!))).toBe(true);
    for (const t of [bn.movingMean!, bn.movingVariance!, bn.renormMean!, bn.renormStddev!, bn.movingStddev!]) {
      expect(Number.isNaN(t.data[0]!)).toBe(true);
      expect(Number.isFinite(t.data[1]!)).toBe(true);
    }
  });
});

/** r and d as the layer will compute them for x, from its current state (Keras' formula, float64). */
function expectedCorrection(bn: BatchNorm, x: Tensor): { r: Float32Array; d: Float32Array } {
  const { mean, variance } = batchNormTraining(new Tensor(Float32Array.from(x.data), x.shape), null, null, 1e-3);
  const clip = bn.renormClipping;
  const r = new Float32Array(mean.length);
  const d = new Float32Array(mean.length);
  for (let k = 0; k < mean.length; k++) {
    const s = Math.max(bn.renormStddev!.data[k]!, Math.sqrt(1e-3));
    r[k] = Math.min(Math.max(Math.sqrt(variance[k]! + 1e-3) / s, clip.rMin), clip.rMax);
    d[k] = Math.min(Math.max((mean[k]! - bn.renormMean!.data[k]!) / s, -clip.dMax), clip.dMax);
  }
  return { r, d };
}

describe('recomputeBatchNormStatistics with renorm', () => {
  it('sets movingStddev = sqrt(movingVariance + eps) with the recomputed variance', () => {
    const bn = new BatchNorm({ renorm: true });
    const model = new Sequential([bn]);
    model.call(randomNormal([8, 2], { seed: 1 }), { isTraining: true });
    recomputeBatchNormStatistics(model, [randomNormal([8, 2], { seed: 2, mean: 3, stddev: 2 })]);
    expect(bn.movingVariance!.data[0]!).toBeGreaterThan(1.5);
    expectClose(bn.movingStddev!.data, Array.from(bn.movingVariance!.data, (v) => Math.sqrt(v + 1e-3)), { rtol: 1e-6 });
  });
});
