/**
 * Batch norm's fast training forward and inference kernels: the same math as
 * batch-norm-reference.ts (within a few float32 ulps: the sums are blocked),
 * bit-identical to the WebAssembly passes in wasm/batch-norm.ts
 * (wasm/batch-norm-wasm.ts), which share the per-channel steps here. x is
 * viewed as [m, C] as in the reference. What makes them fast:
 *   - per channel over L1-sized blocks of rows, four channels per loop with
 *     float64 sums in registers (~2x a sum[c] += ... per element);
 *   - xHat is never stored: y = (x - mean) * scale + beta in one pass, the
 *     ReLU (when fused) in the same pass;
 *   - scale = gamma * invStd in float64 (trainingScale), shared with the
 *     backward (batch-norm-fast-backward.ts), which recomputes the ReLU mask.
 */
import { inverseStd } from './batch-norm-reference.js';

export { inverseStd };

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
export function blockOf(channels: number): number {
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
 * with `relu`, 0 where that is <= 0 (NaN stays NaN). The loop of both
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
          y[i] = v0 <= 0 ? 0 : v0;
          y[i + 1] = v1 <= 0 ? 0 : v1;
          y[i + 2] = v2 <= 0 ? 0 : v2;
          y[i + 3] = v3 <= 0 ? 0 : v3;
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
        y[i] = relu && v <= 0 ? 0 : v;
      }
    }
  }
  return y;
}

// The reductions below run four channels per loop: four independent float64
// running sums instead of one chain of dependent adds, ~1.7x faster (the
// channel counts of the lesson network are multiples of 4). Each channel still
// adds its values in row order, one partial sum per block, so the results are
// the same floats as a loop over one channel at a time.

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
