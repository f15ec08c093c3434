/**
 * Batch normalization, step by step: the reference kernels, in reading order.
 * x is viewed as [m, C]: every axis but the last is folded into m (N for
 * [N,C], N*H*W for NHWC), so channel c's values are x[c], x[C + c], ...
 *
 * Per channel, over its m values (docs/batch-norm.md derives each line):
 *
 *   mean   = (1/m) sum x                 var = (1/m) sum (x - mean)^2   (biased)
 *   invStd = 1 / sqrt(var + epsilon)     xHat = (x - mean) * invStd
 *   y      = gamma * xHat + beta         (then max(y, 0) with a fused ReLU)
 *
 *   gBeta  = sum gy                      gGamma = sum gy * xHat
 *   gx     = invStd/m * (m*gxHat - sum(gxHat) - xHat*sum(gxHat*xHat)),  gxHat = gy * gamma
 *
 * These loops are the oracle in the tests. What runs in training is
 * batch-norm-fast.ts (blocked, four channels at a time, xHat recomputed
 * instead of stored, ReLU fused) and its WebAssembly twin: the same math, to
 * a few float32 ulps of these loops.
 */

/**
 * Per-channel mean and biased variance, in two passes (mean first), each sum
 * in float64. Never E[x^2] - E[x]^2, which cancels catastrophically when
 * |mean| >> std.
 *
 * @example
 * // x [2, 2]: channel 0 holds 1, 3 and channel 1 holds 10, 20.
 * channelMoments(Float32Array.of(1, 10, 3, 20), 2);
 * // mean [2, 15], variance [1, 25]
 */
export function channelMoments(x: Float32Array, channels: number): { mean: Float32Array; variance: Float32Array } {
  const m = x.length / channels;
  const sum = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) for (let c = 0; c < channels; c++) sum[c]! += x[i + c]!;
  const mean = new Float32Array(channels);
  for (let c = 0; c < channels; c++) mean[c] = sum[c]! / m;
  const squares = new Float64Array(channels);
  for (let i = 0; i < x.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const d = x[i + c]! - mean[c]!;
      squares[c]! += d * d;
    }
  }
  const variance = new Float32Array(channels);
  for (let c = 0; c < channels; c++) variance[c] = squares[c]! / m;
  return { mean, variance };
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

/** The training forward, all steps: mean, variance, invStd and y (max(y, 0) with `relu`; NaN stays NaN). */
export function trainingForward(
  x: Float32Array, channels: number, gamma: Float32Array | null, beta: Float32Array | null, epsilon: number, relu = false,
): { mean: Float32Array; variance: Float32Array; invStd: Float32Array; y: Float32Array } {
  const { mean, variance } = channelMoments(x, channels);
  const invStd = inverseStd(variance, epsilon);
  const { y } = normalize(x, mean, invStd, gamma, beta);
  if (relu) for (let i = 0; i < y.length; i++) if (y[i]! <= 0) y[i] = 0;
  return { mean, variance, invStd, y };
}

/**
 * The training backward, all steps: xHat again, then (behind a fused ReLU)
 * gy * [y > 0] with NaN where y is NaN, affineGrads and trainingInputGrad.
 */
export function trainingBackward(
  x: Float32Array, gy: Float32Array, mean: Float32Array, invStd: Float32Array,
  gamma: Float32Array | null, beta: Float32Array | null, relu = false,
): { gx: Float32Array; gGamma: Float32Array; gBeta: Float32Array } {
  const channels = mean.length;
  const { y, xHat } = normalize(x, mean, invStd, gamma, beta);
  const g = relu ? gy.map((v, i) => (y[i]! > 0 ? v : Number.isNaN(y[i]!) ? NaN : 0)) : gy;
  const { gGamma, gBeta } = affineGrads(g, xHat, channels);
  return { gx: trainingInputGrad(g, xHat, invStd, gamma, gGamma, gBeta), gGamma, gBeta };
}
