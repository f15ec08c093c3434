/**
 * The fused training kernels (normalizeTraining, trainingBackward: xHat
 * recomputed, never stored) against the step-by-step ones (normalize,
 * affineGrads, trainingInputGrad) and a float64 loop, on awkward shapes.
 */
import { describe, expect, it } from 'vitest';
import * as fastBackward from '../../../src/tensor/kernels/batch-norm-fast-backward.js';
import * as fast from '../../../src/tensor/kernels/batch-norm-fast.js';
import * as ref from '../../../src/tensor/kernels/batch-norm-reference.js';
import { reluGrad } from '../../../src/tensor/kernels/elementwise.js';
import { expectClose, expectSameBits } from '../../helpers.js';
import { rand } from './reference.js';

/** The fast kernels, with the reference's step-by-step ones (normalize, affineGrads, trainingInputGrad) beside them. */
const bn = { ...ref, ...fast, ...fastBackward };

const CASES: [m: number, channels: number][] = [[2, 1], [7, 3], [13, 4], [31, 8], [5, 17], [97, 76]];

describe('fused batch-norm training kernels', () => {
  CASES.forEach(([m, channels], k) => {
    for (const affine of [true, false]) {
      it(`[${m}, ${channels}] ${affine ? 'with' : 'without'} gamma/beta: same as the step-by-step kernels`, () => {
        const x = rand(m * channels, 10 + k).map((v) => 3 + 2 * v); // mean far from 0
        const gy = rand(m * channels, 20 + k);
        const gamma = affine ? rand(channels, 30 + k).map((v) => 1 + v / 2) : null;
        const beta = affine ? rand(channels, 40 + k) : null;
        const { mean, variance } = bn.channelMoments(x, channels);
        const invStd = bn.inverseStd(variance, 1e-3);

        const { y, xHat } = bn.normalize(x, mean, invStd, gamma, beta);
        expectClose(bn.normalizeTraining(x, mean, invStd, gamma, beta), Float64Array.from(y), { atol: 1e-6, rtol: 1e-5 });

        const { gGamma, gBeta } = bn.affineGrads(gy, xHat, channels);
        const gx = bn.trainingInputGrad(gy, xHat, invStd, gamma, gGamma, gBeta);
        const fused = bn.trainingBackward(x, gy, mean, invStd, gamma, true);
        expectClose(fused.gBeta, Float64Array.from(gBeta), { atol: 1e-5, rtol: 1e-5 });
        expectClose(fused.gGamma, Float64Array.from(gGamma), { atol: 1e-5, rtol: 1e-4 });
        expectClose(fused.gx!, Float64Array.from(gx), { atol: 1e-5, rtol: 1e-4 });
        expect(bn.trainingBackward(x, gy, mean, invStd, gamma, false).gx).toBeNull();
      });
    }
  });

  it('matches a float64 loop of the closed form', () => {
    const [m, channels] = [11, 3];
    const x = rand(m * channels, 1);
    const gy = rand(m * channels, 2);
    const gamma = Float32Array.of(0.5, 1.5, -2);
    const { mean, variance } = bn.channelMoments(x, channels);
    const invStd = bn.inverseStd(variance, 1e-3);
    const { gx } = bn.trainingBackward(x, gy, mean, invStd, gamma, true);
    const want = new Float64Array(m * channels);
    for (let c = 0; c < channels; c++) {
      let sg = 0, sgh = 0;
      for (let i = 0; i < m; i++) {
        const h = (x[i * channels + c]! - mean[c]!) * invStd[c]!;
        sg += gamma[c]! * gy[i * channels + c]!;
        sgh += gamma[c]! * gy[i * channels + c]! * h;
      }
      for (let i = 0; i < m; i++) {
        const h = (x[i * channels + c]! - mean[c]!) * invStd[c]!;
        want[i * channels + c] = (invStd[c]! / m) * (m * gamma[c]! * gy[i * channels + c]! - sg - h * sgh);
      }
    }
    expectClose(gx!, want, { atol: 1e-5, rtol: 1e-4 });
  });

  it('with a fused ReLU (mask recomputed from x) and gx written over gy: the floats of reluGrad, then the plain backward', () => {
    const [m, channels] = [4099, 5]; // more than one block of rows
    const x = rand(m * channels, 3);
    const gamma = rand(channels, 4).map((v) => 1 + v);
    const beta = rand(channels, 5);
    const { mean, variance } = bn.channelMoments(x, channels);
    const invStd = bn.inverseStd(variance, 1e-3);
    const y = bn.normalizeTraining(x, mean, invStd, gamma, beta, true);
    const bnOut = bn.normalizeTraining(x, mean, invStd, gamma, beta);
    expectSameBits(y, reluGrad(bnOut, bnOut)); // relu(bnOut): bnOut where it is > 0, else 0
    expect(y.some((v) => v === 0) && y.some((v) => v > 0)).toBe(true);
    const gy = rand(m * channels, 6);
    const want = bn.trainingBackward(x, reluGrad(y, gy), mean, invStd, gamma, true);
    const gyCopy = Float32Array.from(gy);
    const got = bn.trainingBackward(x, gyCopy, mean, invStd, gamma, true, { relu: true, beta, into: gyCopy });
    expect(got.gx).toBe(gyCopy);
    expectSameBits(got.gx!, want.gx!);
    expect(got.gGamma).toEqual(want.gGamma);
    expect(got.gBeta).toEqual(want.gBeta);
  });
});

/**
 * One channel at a time, in the kernels' blocks of rows (floor(4096 / C) rows,
 * one float64 partial sum per block): the order the four-channel loops must reproduce.
 */
function blockedSums(values: (i: number, c: number) => number, n: number, channels: number): Float64Array {
  const block = channels * Math.max(1, Math.floor(4096 / channels));
  const sums = new Float64Array(channels);
  for (let i0 = 0; i0 < n; i0 += block) {
    for (let c = 0; c < channels; c++) {
      let s = 0;
      for (let i = i0 + c; i < Math.min(n, i0 + block); i += channels) s += values(i, c);
      sums[c]! += s;
    }
  }
  return sums;
}

/** Bit-for-bit equality, reporting the first differing index (a diff of 10^5 floats would swamp the output). */
function expectSameFloats(actual: Float32Array, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  const at = actual.findIndex((v, i) => !Object.is(v, Math.fround(expected[i]!)));
  expect(at, at < 0 ? '' : `index ${at}: ${actual[at]} vs ${Math.fround(expected[at]!)}`).toBe(-1);
}

describe('four channels per loop: the same floats as one channel at a time', () => {
  for (const channels of [1, 4, 7, 8, 13, 76]) {
    it(`${channels} channels over several blocks of rows`, () => {
      const n = channels * 3001;
      const x = rand(n, 50 + channels).map((v, i) => v + (i % 3));
      const gy = rand(n, 60 + channels);
      // +-2^40 in the first row of the first two blocks: a different grouping of the float64 adds shows in the result.
      const blockRows = Math.floor(4096 / channels);
      for (let c = 0; c < channels; c++) {
        x[c] = 2 ** 40;
        x[blockRows * channels + c] = -(2 ** 40);
        gy[c] = 2 ** 40;
        gy[blockRows * channels + c] = -(2 ** 40);
      }
      const { mean, variance } = bn.channelMoments(x, channels);
      const wantMean = blockedSums((i) => x[i]!, n, channels).map((s) => Math.fround(s / (n / channels)));
      expect(mean).toEqual(Float32Array.from(wantMean));
      const wantVar = blockedSums((i, c) => (x[i]! - mean[c]!) ** 2, n, channels);
      expect(variance).toEqual(Float32Array.from(wantVar, (s) => s / (n / channels)));
      const invStd = bn.inverseStd(variance, 1e-3);
      const { gBeta, gGamma } = bn.trainingBackward(x, gy, mean, invStd, null, false);
      expect(gBeta).toEqual(Float32Array.from(blockedSums((i) => gy[i]!, n, channels)));
      const sumGyXc = blockedSums((i, c) => gy[i]! * (x[i]! - mean[c]!), n, channels);
      expect(gGamma).toEqual(Float32Array.from(sumGyXc, (s, c) => invStd[c]! * s));

      // The elementwise loops, against the formulas written per element.
      const gamma = rand(channels, 70).map((v) => 1 + v);
      const beta = rand(channels, 80);
      const scale = (c: number): number => gamma[c]! * invStd[c]!;
      const pre = x.map((v, i) => (v - mean[i % channels]!) * scale(i % channels) + beta[i % channels]!);
      expectSameFloats(bn.normalizeTraining(x, mean, invStd, gamma, beta), pre);
      expectSameFloats(bn.normalizeTraining(x, mean, invStd, gamma, beta, true), pre.map((v) => (v > 0 ? v : 0)));
      const sumGy = blockedSums((i) => gy[i]!, n, channels);
      const m = n / channels;
      const gx = bn.trainingBackward(x, gy, mean, invStd, gamma, true).gx!;
      expectSameFloats(gx, Array.from(gy, (g, i) => {
        const c = i % channels, s = invStd[c]!;
        const k2 = (-gamma[c]! * s * s * s * sumGyXc[c]!) / m, k0 = (-gamma[c]! * s * sumGy[c]!) / m;
        return scale(c) * g + k2 * (x[i]! - mean[c]!) + k0;
      }));
    });
  }
});

describe('the recomputed ReLU mask', () => {
  it('follows the stored float32 output: a value > 0 that rounds to 0 is masked', () => {
    // scale = gamma * invStd = 2^-160 in float64: (1 - 0) * scale > 0, but it rounds to 0 in float32.
    const x = Float32Array.of(1, -1);
    const mean = Float32Array.of(0);
    const invStd = Float32Array.of(2 ** -60);
    const gamma = Float32Array.of(2 ** -100);
    const beta = Float32Array.of(0);
    expect(bn.normalizeTraining(x, mean, invStd, gamma, beta, true)).toEqual(Float32Array.of(0, 0));
    const gy = Float32Array.of(1, 1);
    const { gBeta } = bn.trainingBackward(x, gy, mean, invStd, gamma, true, { relu: true, beta, into: gy });
    expect(gBeta[0]).toBe(0);
    expect(gy).toEqual(Float32Array.of(0, 0));
  });
});

describe('affine (inference batch norm)', () => {
  it('matches a plain loop, with and without relu, into a new array or in place', () => {
    const channels = 7;
    const x = rand(channels * 1001, 7);
    const scale = rand(channels, 8);
    const shift = rand(channels, 9);
    const want = x.map((v, i) => v * scale[i % channels]! + shift[i % channels]!);
    expect(bn.affine(x, scale, shift)).toEqual(want);
    expect(bn.affine(x, scale, shift, { relu: true })).toEqual(want.map((v) => (v > 0 ? v : 0)));
    const inPlace = Float32Array.from(x);
    expect(bn.affine(inPlace, scale, shift, { into: inPlace })).toBe(inPlace);
    expect(inPlace).toEqual(want);
    expect(bn.affineInputGrad(x, scale)).toEqual(x.map((v, i) => v * scale[i % channels]!));
  });

  it('inverseStd is 1 / sqrt(var + eps), rounded to float32', () => {
    const v = Float32Array.of(0, 1, 3.5);
    expect(bn.inverseStd(v, 1e-3)).toEqual(Float32Array.from(v, (x) => 1 / Math.sqrt(x + 1e-3)));
  });
});
