/**
 * Fused batch normalization: one op for the whole training-mode formula, so
 * the backward pass uses the closed form instead of a dozen recorded steps.
 *
 * Training: per channel c over m values,
 *   mean = (1/m) sum x,  var = (1/m) sum (x - mean)^2   (biased)
 *   xHat = (x - mean) / sqrt(var + epsilon),   y = gamma * xHat + beta
 * Inference: the same with fixed (moving) statistics, an affine map.
 */
import { checkBoolean, checkOptions } from '../../tensor/options.js';
import { formatShape } from '../../tensor/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { checkTensor } from '../../tensor/check.js';
import * as bn from '../../tensor/kernels/batch-norm.js';
import { reluGrad } from '../../tensor/kernels/elementwise.js';
import { isGradEnabled, record } from '../graph.js';

function checkChannels(op: string, x: Tensor, named: Record<string, Tensor | null>): number {
  checkTensor(op, x);
  for (const name in named) if (named[name] !== null) checkTensor(op, named[name], `${name} (a Tensor or null)`);
  if (x.rank < 1) throw new Error(`${op}: input must have a channel axis, got ${formatShape(x.shape)}`);
  const channels = x.shape[x.rank - 1]!;
  for (const name in named) {
    const t = named[name];
    if (t && (t.rank !== 1 || t.shape[0] !== channels)) {
      throw new Error(`${op}: ${name} ${formatShape(t.shape)} must be [${channels}] for input ${formatShape(x.shape)}`);
    }
  }
  return channels;
}

/** What `batchNormTraining` returns: the output and the batch statistics it used. */
export interface BatchNormTrainingResult {
  /** The normalized output, recorded for autograd (differentiable in x, gamma, beta). */
  y: Tensor;
  /** The batch's per-channel mean (plain values, not recorded). */
  mean: Float32Array;
  /** The batch's per-channel biased variance (plain values, not recorded). */
  variance: Float32Array;
  /** Values per channel: the batch size times the spatial size. */
  count: number;
}

/** Options of the batch-norm ops. */
export interface BatchNormOpOptions {
  /**
   * Apply a ReLU to the output in the same op: y = max(bn(x), 0), the same
   * values and gradients as relu(bn(x)) with one pass over memory fewer each
   * way (what a BatchNorm layer with activation 'relu' runs).
   */
  relu?: boolean;
}

/** `opts` checked as `BatchNormOpOptions` for `op`; returns its relu flag. */
function checkRelu(op: string, opts: BatchNormOpOptions | undefined): boolean {
  checkOptions(op, opts, ['relu']);
  return checkBoolean(op, 'relu', opts?.relu ?? false);
}

/**
 * Training-mode BN over every axis but the last. Differentiable in x, gamma
 * and beta; gamma/beta may be null (scale/center off). The backward pass is
 * the closed form derived in docs/batch-norm.md.
 *
 * @example
 * const x = randomNormal([32, 4], { seed: 1, mean: 3 });
 * const { y, mean, variance, count } = batchNormTraining(x, ones([4]), zeros([4]), 1e-3);
 * count; // 32 values per channel; mean and variance are the batch's (biased) statistics
 */
export function batchNormTraining(
  x: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number, opts: BatchNormOpOptions = {},
): BatchNormTrainingResult {
  const relu = checkRelu('batchNormTraining', opts);
  const channels = checkChannels('batchNorm', x, { gamma, beta });
  const m = x.size / channels;
  if (!(m >= 2)) {
    throw new Error(`batchNorm: training needs at least 2 values per channel, input ${formatShape(x.shape)} has ${m} (use a larger batch, or isTraining: false)`);
  }
  const { mean, variance, invStd, y } = bn.trainingForward(x.data, channels, gamma?.data ?? null, beta?.data ?? null, epsilon, relu);
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  // gx = invStd/m * (m*gxHat - sum(gxHat) - xHat*sum(gxHat*xHat)), gxHat = gy*gamma (gy*[y > 0] first with relu);
  // xHat (and the relu mask) recomputed from x and the forward's mean, invStd, gamma, beta; gx written over gy.
  const g = gamma ? Float32Array.from(gamma.data) : null; // as used by this forward, even if changed before backward
  const b = beta ? Float32Array.from(beta.data) : null;
  const out = record(relu ? 'batchNormRelu' : 'batchNorm', y, x.shape, inputs, (gy) => {
    const { gx, gGamma, gBeta } = bn.trainingBackward(x.data, gy, mean, invStd, g, x.requiresGrad, { relu, beta: b, into: gy });
    return [gx, ...(gamma ? [gGamma] : []), ...(beta ? [gBeta] : [])];
  });
  return { y: out, mean, variance, count: m };
}

/**
 * Inference-mode BN with given statistics: y = x * scale + shift, where
 *   scale = gamma / sqrt(var + epsilon),  shift = beta - mean * scale
 * (then max(y, 0) with `relu`).
 * Gradients: gx = gy * scale, gGamma = sum(gy * xHat), gBeta = sum(gy)
 * (the statistics are constants here; gy * [y > 0] first with relu).
 */
export function batchNormInference(
  x: Tensor, mean: Tensor, variance: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number,
  opts: BatchNormOpOptions = {},
): Tensor {
  const relu = checkRelu('batchNormInference', opts);
  const channels = checkChannels('batchNorm', x, { mean, variance, gamma, beta });
  const { invStd, scale, shift } = inferenceAffine(mean, variance, gamma, beta, epsilon);
  const y = bn.affine(x.data, scale, shift, { relu });
  const inputs = [x, gamma, beta].filter((t): t is Tensor => t !== null);
  if (!isGradEnabled() || !inputs.some((t) => t.requiresGrad)) return new Tensor(y, x.shape); // nothing to record
  // The moving mean may be updated by a later training call before this
  // backward runs: keep the values this forward used.
  const mu = Float32Array.from(mean.data);
  return record(relu ? 'batchNormInferenceRelu' : 'batchNormInference', y, x.shape, inputs, (gy) => {
    if (relu) reluGrad(y, gy, gy);
    const needAffine = (gamma?.requiresGrad ?? false) || (beta?.requiresGrad ?? false);
    const grads = needAffine ? bn.affineGrads(gy, bn.normalize(x.data, mu, invStd, null, null).xHat, channels) : null;
    return [
      x.requiresGrad ? bn.affineInputGrad(gy, scale, gy) : null,
      ...(gamma ? [grads?.gGamma ?? null] : []),
      ...(beta ? [grads?.gBeta ?? null] : []),
    ];
  });
}

/**
 * The inference BN as an affine map y = x * scale + shift, in float32:
 *   invStd = 1 / sqrt(var + epsilon),  scale = gamma * invStd,  shift = beta - mean * scale.
 * Shared by batchNormInference and the fused conv2dBatchNormInference, so both use the same floats.
 */
export function inferenceAffine(
  mean: Tensor, variance: Tensor, gamma: Tensor | null, beta: Tensor | null, epsilon: number,
): { invStd: Float32Array; scale: Float32Array; shift: Float32Array } {
  const channels = mean.size;
  const invStd = bn.inverseStd(variance.data, epsilon);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = (gamma ? gamma.data[c]! : 1) * invStd[c]!;
    shift[c] = (beta ? beta.data[c]! : 0) - mean.data[c]! * scale[c]!;
  }
  return { invStd, scale, shift };
}
