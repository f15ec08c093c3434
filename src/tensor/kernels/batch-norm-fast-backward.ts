/**
 * Batch norm's fast training backward: the closed form of
 * batch-norm-reference.ts (affineGrads + trainingInputGrad, within a few
 * float32 ulps) in two blocked passes with xHat recomputed from x, and the
 * fused ReLU's mask recomputed in the forward's exact floats. Bit-identical
 * to the WebAssembly passes in wasm/batch-norm.ts (wasm/batch-norm-wasm.ts),
 * which share backwardCoefficients.
 */
import { blockOf, trainingScale } from './batch-norm-fast.js';

/** The training-mode gradients of x, gamma and beta (gx null when not needed). */
export interface BatchNormGrads {
  gx: Float32Array | null;
  gGamma: Float32Array;
  gBeta: Float32Array;
}

/** Options of `trainingBackward`. */
export interface TrainingBackwardOptions {
  /**
   * The forward was normalizeTraining with `relu` (and this `beta`): gy is
   * first zeroed, in place, where the output was cut to 0. The mask is
   * recomputed from x in the forward's exact floats, so y is not read.
   */
  relu?: boolean;
  beta?: Float32Array | null;
  /** Where gx is written (default a new array); may be gy itself. */
  into?: Float32Array;
}

/**
 * affineGrads and trainingInputGrad fused, with xHat = (x - mean) * invStd
 * recomputed instead of stored. With gxHat = gy * gamma:
 *   gx = invStd / m * (m * gxHat - sum(gxHat) - xHat * sum(gxHat * xHat))
 * and sum(gxHat) = gamma * gBeta, sum(gxHat * xHat) = gamma * gGamma, so
 *   gBeta = sum(gy),  gGamma = invStd * sum(gy * (x - mean))          (pass 1)
 *   gx = k1 * gy + k2 * (x - mean) + k0,  per channel                  (pass 2)
 *   k1 = gamma * invStd,  k2 = -gamma * invStd^2 * gGamma / m,  k0 = -gamma * invStd * gBeta / m.
 * Behind a fused ReLU, pass 1 first sets gy = gy * [y > 0] in place, block
 * by block (the relu's backward, without an array of its own), with
 * y = (x - mean) * k1 + beta recomputed as the forward computed it.
 * Both passes run per channel over L1-sized blocks of rows, the sums in
 * registers: about 2x faster than sum[c] += ... per element.
 */
export function trainingBackward(
  x: Float32Array, gy: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, needInput: boolean,
  { relu = false, beta = null, into }: TrainingBackwardOptions = {},
): BatchNormGrads {
  const channels = mean.length;
  const m = x.length / channels;
  const k1 = trainingScale(gamma, invStd);
  const sumGy = new Float64Array(channels);
  const sumGyXc = new Float64Array(channels);
  const block = blockOf(channels);
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    if (relu) zeroWhereCut(x, gy, mean, k1, beta, channels, i0, i1);
    gradientSums(x, gy, mean, channels, i0, i1, sumGy, sumGyXc);
  }
  const { gGamma, gBeta, k0, k2 } = backwardCoefficients(sumGy, sumGyXc, invStd, gamma, m);
  if (!needInput) return { gx: null, gGamma, gBeta };
  const gx = into ?? new Float32Array(x.length);
  const quads = channels - (channels % 4); // four channels per loop, as in pass 1
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    for (let c = 0; c < quads; c += 4) {
      const p0 = k1[c]!, p1 = k1[c + 1]!, p2 = k1[c + 2]!, p3 = k1[c + 3]!;
      const q0 = k2[c]!, q1 = k2[c + 1]!, q2 = k2[c + 2]!, q3 = k2[c + 3]!;
      const r0 = k0[c]!, r1 = k0[c + 1]!, r2 = k0[c + 2]!, r3 = k0[c + 3]!;
      const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
      for (let i = i0 + c; i < i1; i += channels) {
        gx[i] = p0 * gy[i]! + q0 * (x[i]! - m0) + r0;
        gx[i + 1] = p1 * gy[i + 1]! + q1 * (x[i + 1]! - m1) + r1;
        gx[i + 2] = p2 * gy[i + 2]! + q2 * (x[i + 2]! - m2) + r2;
        gx[i + 3] = p3 * gy[i + 3]! + q3 * (x[i + 3]! - m3) + r3;
      }
    }
    for (let c = quads; c < channels; c++) {
      const a1 = k1[c]!, a2 = k2[c]!, a0 = k0[c]!, mu = mean[c]!;
      for (let i = i0 + c; i < i1; i += channels) gx[i] = a1 * gy[i]! + a2 * (x[i]! - mu) + a0;
    }
  }
  return { gx, gGamma, gBeta };
}

/** The parameter gradients and pass 2's per-channel k0, k2 from pass 1's sums (see trainingBackward). */
export function backwardCoefficients(
  sumGy: Float64Array, sumGyXc: Float64Array, invStd: Float32Array, gamma: Float32Array | null, m: number,
): { gGamma: Float32Array; gBeta: Float32Array; k0: Float64Array; k2: Float64Array } {
  const channels = invStd.length;
  const gGamma = new Float32Array(channels);
  const gBeta = new Float32Array(channels);
  const k0 = new Float64Array(channels);
  const k2 = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = invStd[c]!;
    const g = gamma ? gamma[c]! : 1;
    gBeta[c] = sumGy[c]!;
    gGamma[c] = s * sumGyXc[c]!;
    k2[c] = (-g * s * s * s * sumGyXc[c]!) / m;
    k0[c] = (-g * s * sumGy[c]!) / m;
  }
  return { gGamma, gBeta, k0, k2 };
}

/**
 * gy = 0 where the fused ReLU cut the forward output, NaN where it was NaN,
 * y = (x - mean) * scale + beta
 * rounded to float32 (exactly as normalizeTraining computed it), for rows [i0, i1).
 */
function zeroWhereCut(
  x: Float32Array, gy: Float32Array, mean: Float32Array, scale: Float64Array, beta: Float32Array | null,
  channels: number, i0: number, i1: number,
): void {
  for (let c = 0; c < channels; c++) {
    const mu = mean[c]!, a = scale[c]!, b = beta ? beta[c]! : 0;
    for (let i = i0 + c; i < i1; i += channels) {
      const y = Math.fround((x[i]! - mu) * a + b);
      if (y <= 0) gy[i] = 0;
      else if (y !== y) gy[i] = NaN;
    }
  }
}

/** For rows [i0, i1): sumGy_c += sum gy, sumGyXc_c += sum gy * (x - mean_c) (pass 1 of trainingBackward). */
function gradientSums(
  x: Float32Array, gy: Float32Array, mean: Float32Array, channels: number, i0: number, i1: number,
  sumGy: Float64Array, sumGyXc: Float64Array,
): void {
  const quads = channels - (channels % 4);
  for (let c = 0; c < quads; c += 4) {
    const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
    let g0 = 0, g1 = 0, g2 = 0, g3 = 0, h0 = 0, h1 = 0, h2 = 0, h3 = 0;
    for (let i = i0 + c; i < i1; i += channels) {
      const y0 = gy[i]!, y1 = gy[i + 1]!, y2 = gy[i + 2]!, y3 = gy[i + 3]!;
      g0 += y0;
      g1 += y1;
      g2 += y2;
      g3 += y3;
      h0 += y0 * (x[i]! - m0);
      h1 += y1 * (x[i + 1]! - m1);
      h2 += y2 * (x[i + 2]! - m2);
      h3 += y3 * (x[i + 3]! - m3);
    }
    sumGy[c]! += g0;
    sumGy[c + 1]! += g1;
    sumGy[c + 2]! += g2;
    sumGy[c + 3]! += g3;
    sumGyXc[c]! += h0;
    sumGyXc[c + 1]! += h1;
    sumGyXc[c + 2]! += h2;
    sumGyXc[c + 3]! += h3;
  }
  for (let c = quads; c < channels; c++) {
    const mu = mean[c]!;
    let g = 0, h = 0;
    for (let i = i0 + c; i < i1; i += channels) {
      g += gy[i]!;
      h += gy[i]! * (x[i]! - mu);
    }
    sumGy[c]! += g;
    sumGyXc[c]! += h;
  }
}

