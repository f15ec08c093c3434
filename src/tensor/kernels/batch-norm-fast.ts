/**
 * Batch-normalization kernels. x is viewed as [m, C]: every axis but the
 * last is folded into m (N for [N,C], N*H*W for NHWC), so channel c's values
 * are x[c], x[C + c], x[2C + c], ...
 */

/**
 * Per-channel mean and biased variance, in two passes (mean first):
 *   mean_c = (1/m) sum_i x_ic,   var_c = (1/m) sum_i (x_ic - mean_c)^2.
 * Never E[x^2] - E[x]^2, which cancels catastrophically when |mean| >> std.
 * Both sums run in float64 (channelSums, at the bottom of this file): per
 * channel with the running sum in a register, over L1-sized blocks of rows,
 * which is about 2x faster in V8 than updating sum[c] for every element (and
 * than a nested loop over c, which V8 runs poorly for 4 or 8 channels).
 *
 * @example
 * // x [2, 2]: channel 0 holds 1, 3 and channel 1 holds 10, 20.
 * channelMoments(Float32Array.of(1, 10, 3, 20), 2);
 * // mean [2, 15], variance [1, 25]
 */
export function channelMoments(x: Float32Array, channels: number): { mean: Float32Array; variance: Float32Array } {
  const m = x.length / channels;
  const mean = dividedBy(channelSums(x, channels, null), m);
  const variance = dividedBy(channelSums(x, channels, mean), m);
  return { mean, variance };
}

/** sums_c / m rounded to float32: a mean from its float64 sum. */
export function dividedBy(sums: Float64Array, m: number): Float32Array {
  const out = new Float32Array(sums.length);
  for (let c = 0; c < sums.length; c++) out[c] = sums[c]! / m;
  return out;
}

/** What the training forward computes: the batch statistics and the output. */
export interface TrainingForward {
  mean: Float32Array;
  variance: Float32Array;
  invStd: Float32Array;
  y: Float32Array;
}

/**
 * The whole training forward: channelMoments, inverseStd, normalizeTraining.
 * (src/tensor/kernels/wasm/batch-norm-wasm.ts runs the same passes in
 * WebAssembly, with the same floats.)
 */
export function trainingForward(
  x: Float32Array, channels: number, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number, relu = false,
): TrainingForward {
  const { mean, variance } = channelMoments(x, channels);
  const invStd = inverseStd(variance, epsilon);
  return { mean, variance, invStd, y: normalizeTraining(x, mean, invStd, gamma, beta, relu) };
}

/** invStd_c = 1 / sqrt(var_c + epsilon). */
export function inverseStd(variance: Float32Array, epsilon: number): Float32Array {
  const invStd = new Float32Array(variance.length);
  for (let c = 0; c < variance.length; c++) invStd[c] = 1 / Math.sqrt(variance[c]! + epsilon);
  return invStd;
}

/**
 * xHat = (x - mean) * invStd;  y = gamma * xHat + beta.
 * gamma/beta null mean 1/0 (scale = false / center = false).
 * Returns y and xHat (kept for the backward pass).
 */
export function normalize(
  x: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, beta: Float32Array | null,
): { y: Float32Array; xHat: Float32Array } {
  const channels = mean.length;
  const y = new Float32Array(x.length);
  const xHat = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const h = (x[i + c]! - mean[c]!) * invStd[c]!;
      xHat[i + c] = h;
      y[i + c] = (gamma ? gamma[c]! : 1) * h + (beta ? beta[c]! : 0);
    }
  }
  return { y, xHat };
}

/** sum_i gy_ic and sum_i gy_ic * xHat_ic: the gradients of beta and gamma. */
export function affineGrads(gy: Float32Array, xHat: Float32Array, channels: number): { gGamma: Float32Array; gBeta: Float32Array } {
  const gGamma = new Float64Array(channels);
  const gBeta = new Float64Array(channels);
  for (let i = 0; i < gy.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      gBeta[c]! += gy[i + c]!;
      gGamma[c]! += gy[i + c]! * xHat[i + c]!;
    }
  }
  return { gGamma: Float32Array.from(gGamma), gBeta: Float32Array.from(gBeta) };
}

/**
 * The training-mode input gradient, through the batch mean and variance.
 * With gxHat = gy * gamma, the chain rule through xHat, var and mean
 * collapses to (see docs/batch-norm.md for the derivation):
 *   gx = invStd / m * (m * gxHat - sum(gxHat) - xHat * sum(gxHat * xHat))
 * and sum(gxHat) = gamma * gBeta, sum(gxHat * xHat) = gamma * gGamma.
 */
export function trainingInputGrad(
  gy: Float32Array, xHat: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, gGamma: Float32Array, gBeta: Float32Array,
): Float32Array {
  const channels = invStd.length;
  const m = gy.length / channels;
  const scale = new Float32Array(channels); // gamma * invStd
  const sumG = new Float32Array(channels); // sum(gxHat) / m
  const sumGH = new Float32Array(channels); // sum(gxHat * xHat) / m
  for (let c = 0; c < channels; c++) {
    const g = gamma ? gamma[c]! : 1;
    scale[c] = g * invStd[c]!;
    sumG[c] = (g * gBeta[c]!) / m;
    sumGH[c] = (g * gGamma[c]!) / m;
  }
  // gx = invStd * (gxHat - mean(gxHat) - xHat * mean(gxHat * xHat)), with gxHat = gamma * gy.
  const gx = new Float32Array(gy.length);
  for (let i = 0; i < gy.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      gx[i + c] = scale[c]! * gy[i + c]! - invStd[c]! * (sumG[c]! + xHat[i + c]! * sumGH[c]!);
    }
  }
  return gx;
}

/**
 * y = x * scale_c + shift_c: inference BN with the statistics folded into one
 * affine map; with `relu`, y = max(x * scale_c + shift_c, 0) in the same pass.
 * `into` may be x itself. The loop is normalizeTraining's, with a mean of 0
 * (x - 0 is x exactly, so the floats are those of x * scale + shift).
 */
export function affine(
  x: Float32Array, scale: Float32Array, shift: Float32Array,
  { relu = false, into = new Float32Array(x.length) }: { relu?: boolean; into?: Float32Array } = {},
): Float32Array {
  const channels = scale.length;
  return centerScaleShift(x, new Float32Array(channels), Float64Array.from(scale), shift, relu, into);
}

/** gx = gy * scale_c: the input gradient of `affine`. `into` may be gy itself. */
export function affineInputGrad(gy: Float32Array, scale: Float32Array, into: Float32Array = new Float32Array(gy.length)): Float32Array {
  return affine(gy, scale, new Float32Array(scale.length), { into });
}

/** Floats per block of the per-channel loops (16 KB: stays in L1 while each channel is walked). */
const SUM_BLOCK = 4096;

/** A block of whole rows (a multiple of `channels`) of about SUM_BLOCK floats. */
function blockOf(channels: number): number {
  return channels * Math.max(1, Math.floor(SUM_BLOCK / channels));
}

/** scale_c = gamma_c * invStd_c in float64 (gamma null means 1): the forward and the backward's ReLU mask must agree on it to the bit. */
export function trainingScale(gamma: Float32Array | null, invStd: Float32Array): Float64Array {
  const scale = new Float64Array(invStd.length);
  for (let c = 0; c < invStd.length; c++) scale[c] = (gamma ? gamma[c]! : 1) * invStd[c]!;
  return scale;
}

/**
 * Training-mode forward without the xHat array (the backward recomputes it):
 *   y = (x - mean) * scale + beta,   scale = gamma * invStd,
 * or, with `relu`, y = max((x - mean) * scale + beta, 0) in the same pass
 * (the same floats as two passes: a value that rounds to 0 gives 0 either way).
 * gamma/beta null mean 1/0.
 */
export function normalizeTraining(
  x: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, beta: Float32Array | null, relu = false,
): Float32Array {
  const shift = beta ?? new Float32Array(mean.length);
  return centerScaleShift(x, mean, trainingScale(gamma, invStd), shift, relu, new Float32Array(x.length));
}

/**
 * y = (x - mean_c) * scale_c + shift_c in float64, rounded to float32 once;
 * with `relu`, 0 unless that is > 0 (NaN included). The loop of both
 * normalizeTraining and affine. Per channel over L1-sized blocks, four
 * channels per loop, then the rest one by one. y may be x itself.
 */
function centerScaleShift(
  x: Float32Array, mean: Float32Array, scale: Float64Array, shift: Float32Array, relu: boolean, y: Float32Array,
): Float32Array {
  const channels = mean.length;
  const block = blockOf(channels);
  const quads = channels - (channels % 4);
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    for (let c = 0; c < quads; c += 4) {
      const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
      const a0 = scale[c]!, a1 = scale[c + 1]!, a2 = scale[c + 2]!, a3 = scale[c + 3]!;
      const b0 = shift[c]!, b1 = shift[c + 1]!, b2 = shift[c + 2]!, b3 = shift[c + 3]!;
      for (let i = i0 + c; i < i1; i += channels) {
        const v0 = (x[i]! - m0) * a0 + b0, v1 = (x[i + 1]! - m1) * a1 + b1;
        const v2 = (x[i + 2]! - m2) * a2 + b2, v3 = (x[i + 3]! - m3) * a3 + b3;
        if (relu) {
          y[i] = v0 > 0 ? v0 : 0;
          y[i + 1] = v1 > 0 ? v1 : 0;
          y[i + 2] = v2 > 0 ? v2 : 0;
          y[i + 3] = v3 > 0 ? v3 : 0;
        } else {
          y[i] = v0;
          y[i + 1] = v1;
          y[i + 2] = v2;
          y[i + 3] = v3;
        }
      }
    }
    for (let c = quads; c < channels; c++) {
      const mu = mean[c]!, a = scale[c]!, b = shift[c]!;
      for (let i = i0 + c; i < i1; i += channels) {
        const v = (x[i]! - mu) * a + b;
        y[i] = relu && !(v > 0) ? 0 : v;
      }
    }
  }
  return y;
}

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
 * gy = 0 where the fused ReLU cut the forward output, y = (x - mean) * scale + beta
 * rounded to float32 (exactly as normalizeTraining computed it), for rows [i0, i1).
 */
function zeroWhereCut(
  x: Float32Array, gy: Float32Array, mean: Float32Array, scale: Float64Array, beta: Float32Array | null,
  channels: number, i0: number, i1: number,
): void {
  for (let c = 0; c < channels; c++) {
    const mu = mean[c]!, a = scale[c]!, b = beta ? beta[c]! : 0;
    for (let i = i0 + c; i < i1; i += channels) if (!(Math.fround((x[i]! - mu) * a + b) > 0)) gy[i] = 0;
  }
}

// The reductions below run four channels per loop: four independent float64
// running sums instead of one chain of dependent adds, ~1.7x faster (the
// channel counts of the lesson network are multiples of 4). Each channel still
// adds its values in row order, one partial sum per block, so the results are
// the same floats as a loop over one channel at a time.

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

/** sum_i x_ic per channel, or sum_i (x_ic - mean_c)^2 when `mean` is given; in float64, blocked as trainingBackward. */
function channelSums(x: Float32Array, channels: number, mean: Float32Array | null): Float64Array {
  const sums = new Float64Array(channels);
  const block = blockOf(channels);
  const quads = channels - (channels % 4);
  for (let i0 = 0; i0 < x.length; i0 += block) {
    const i1 = Math.min(x.length, i0 + block);
    for (let c = 0; c < quads; c += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      if (mean === null) {
        for (let i = i0 + c; i < i1; i += channels) {
          s0 += x[i]!;
          s1 += x[i + 1]!;
          s2 += x[i + 2]!;
          s3 += x[i + 3]!;
        }
      } else {
        const m0 = mean[c]!, m1 = mean[c + 1]!, m2 = mean[c + 2]!, m3 = mean[c + 3]!;
        for (let i = i0 + c; i < i1; i += channels) {
          const d0 = x[i]! - m0, d1 = x[i + 1]! - m1, d2 = x[i + 2]! - m2, d3 = x[i + 3]! - m3;
          s0 += d0 * d0;
          s1 += d1 * d1;
          s2 += d2 * d2;
          s3 += d3 * d3;
        }
      }
      sums[c]! += s0;
      sums[c + 1]! += s1;
      sums[c + 2]! += s2;
      sums[c + 3]! += s3;
    }
    for (let c = quads; c < channels; c++) {
      let s = 0;
      if (mean === null) {
        for (let i = i0 + c; i < i1; i += channels) s += x[i]!;
      } else {
        const mu = mean[c]!;
        for (let i = i0 + c; i < i1; i += channels) {
          const d = x[i]! - mu;
          s += d * d;
        }
      }
      sums[c]! += s;
    }
  }
  return sums;
}
