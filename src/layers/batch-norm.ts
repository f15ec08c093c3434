/**
 * Batch normalization (Ioffe & Szegedy, 2015), per channel over every axis
 * but the last: N,H,W for NHWC images, N for [N, C] vectors.
 *
 *                     | isTraining: true               | isTraining: false
 *   ------------------+--------------------------------+---------------------------
 *   trainable: true   | batch statistics; moving       | moving statistics;
 *                     | statistics updated; gamma/beta | nothing changes
 *                     | in parameters()                |
 *   trainable: false  | moving statistics; nothing     | moving statistics;
 *   (frozen)          | updated (TF2 fine-tuning rule) | nothing changes
 *
 * The moving averages are updated inside the training call, once per call:
 *   moving = momentum * moving + (1 - momentum) * batchStatistic
 * with the variance m/(m-1) * var (Bessel, m = values per channel) for
 * movingVariance 'unbiased' (the paper, PyTorch, Keras 2.1+), or the biased
 * batch variance for 'biased' (tf.nn.moments in TensorFlow 1 tutorials).
 * `renorm` (src/layers/batch-renorm.ts) and `virtualBatchSize`
 * (src/autograd/ops/ghost-batch-norm.ts) change only training calls.
 */
import { batchNormInference, batchNormTraining, type BatchNormTrainingResult } from '../autograd/ops/batch-norm.js';
import { renormAffine } from '../autograd/ops/batch-renorm.js';
import { ghostBatchNormTraining, ghostMoments } from '../autograd/ops/ghost-batch-norm.js';
import { ones, zeros } from '../tensor/create.js';
import { channelMoments } from '../tensor/kernels/batch-norm.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkBoolean, checkInteger, checkNumber, checkOneOf, describe } from '../tensor/options.js';
import { applyActivation, checkActivation, type Activation } from './activations.js';
import { renormCorrection, resolveClipping, updateRenormStatistics, type RenormClipping, type RenormState, type ResolvedClipping } from './batch-renorm.js';
import { BATCH_NORM_OPTIONS, type BatchMoments, type BatchNormOptions } from './batch-norm-options.js';
import { affineWeights, type CallOptions, checkLayerOptions, checkRank, Layer } from './layer.js';

export type { BatchMoments, BatchNormOptions } from './batch-norm-options.js';

/**
 * Batch normalization per channel (the last axis), over N for [N, C] input
 * and over N, H, W for NHWC. A training call normalizes with the batch's
 * statistics and updates the moving averages; an inference call uses only
 * the moving averages and changes nothing. See docs/batch-norm.md and
 * docs/pitfalls.md.
 *
 * @example
 * const bn = new BatchNorm({ momentum: 0.99, epsilon: 1e-3 }); // { activation: 'relu' } fuses a ReLU
 * bn.call(x, { isTraining: true });   // batch statistics; movingMean/movingVariance updated
 * bn.call(x, { isTraining: false });  // moving statistics; nothing changes
 * bn.trainable = false;               // frozen: moving statistics even in a training call
 * [...bn.stateDict().keys()];         // ['gamma', 'beta', 'movingMean', 'movingVariance']
 * new BatchNorm({ renorm: true, renormClipping: { rMax: 3, dMax: 5 } }); // + movingStddev, renormMean, renormStddev
 * new BatchNorm({ virtualBatchSize: 8 }); // ghost batch norm: training normalizes virtual batches of 8
 */
export class BatchNorm extends Layer {
  readonly kind = 'bn';
  /** Weight of the old value in the moving averages: moving = momentum * moving + (1 - momentum) * batch. */
  readonly momentum: number;
  /** Added to the variance before the square root. */
  readonly epsilon: number;
  /** Whether the layer learns an offset beta. */
  readonly center: boolean;
  /** Whether the layer learns a scale gamma. */
  readonly scale: boolean;
  /** Which variance the moving average tracks: the unbiased (m / (m - 1)) or the biased batch variance. */
  readonly movingVarianceMode: 'unbiased' | 'biased';
  /** The activation applied to the output ('linear': none). */
  readonly activation: Activation;
  /** Trainable scale, initially 1 (null if `scale` is false). */
  gamma: Tensor | null = null;
  /** Trainable offset, initially 0 (null if `center` is false). */
  beta: Tensor | null = null;
  /** Non-trainable running mean, initially 0. */
  movingMean: Tensor | null = null;
  /** Non-trainable running variance, initially 1. */
  movingVariance: Tensor | null = null;
  /**
   * Called once per call with the statistics of the input (computed only
   * for this observer in inference mode). It must not modify the arrays.
   * Default null; recomputeBatchNormStatistics and batchNormReport use it.
   */
  statisticsObserver: ((moments: BatchMoments) => void) | null = null;
  /** Batch renormalization in training calls. */
  readonly renorm: boolean;
  /** Weight of the old value in renormMean and renormStddev. */
  readonly renormMomentum: number;
  /** Examples per virtual batch in training calls (null: the whole batch). */
  readonly virtualBatchSize: number | null;
  /** Renorm only: the running mean that d is measured from, initially 0. */
  renormMean: Tensor | null = null;
  /** Renorm only: the running sqrt(var + eps) that r and d divide by, initially 1. */
  renormStddev: Tensor | null = null;
  /** Renorm only: the inference average of sqrt(var + eps), initially 1; movingVariance is derived from it. */
  movingStddev: Tensor | null = null;
  private clipping: ResolvedClipping = { rMin: 0, rMax: Infinity, dMax: Infinity };

  constructor(opts: BatchNormOptions = {}) {
    super(checkLayerOptions('BatchNorm', opts, BATCH_NORM_OPTIONS) ?? 'bn');
    const { momentum = 0.99, epsilon = 1e-3, center = true, scale = true, movingVariance = 'unbiased' } = opts;
    checkNumber('BatchNorm', 'momentum', momentum, 0, 1);
    if (typeof epsilon !== 'number' || !(epsilon > 0) || epsilon === Infinity) {
      throw new Error(`BatchNorm: epsilon must be a positive finite number, got ${describe(epsilon)}`);
    }
    checkBoolean('BatchNorm', 'center', center);
    checkBoolean('BatchNorm', 'scale', scale);
    checkOneOf('BatchNorm', 'movingVariance', movingVariance, ['unbiased', 'biased']);
    this.activation = checkActivation('BatchNorm', opts.activation);
    this.momentum = momentum;
    this.epsilon = epsilon;
    this.center = center;
    this.scale = scale;
    this.movingVarianceMode = movingVariance;
    const { renorm = false, renormMomentum = 0.99, virtualBatchSize } = opts;
    this.renorm = checkBoolean('BatchNorm', 'renorm', renorm);
    if (!renorm && (opts.renormClipping !== undefined || opts.renormMomentum !== undefined)) {
      throw new Error('BatchNorm: renormClipping and renormMomentum need renorm: true');
    }
    this.renormMomentum = checkNumber('BatchNorm', 'renormMomentum', renormMomentum, 0, 1);
    if (opts.renormClipping !== undefined) this.renormClipping = opts.renormClipping;
    this.virtualBatchSize = virtualBatchSize === undefined ? null : checkInteger('BatchNorm', 'virtualBatchSize', virtualBatchSize, 1);
  }

  /**
   * Renorm's clipping bounds, as used (a missing bound reads as 0 or Infinity).
   * Assign between steps to ramp them, as the paper does:
   * `bn.renormClipping = { rMax: 1 + 2 * t, dMax: 5 * t }`, t going 0 -> 1.
   */
  get renormClipping(): ResolvedClipping {
    return { ...this.clipping };
  }
  set renormClipping(clipping: RenormClipping) {
    this.clipping = resolveClipping(this.name, clipping);
  }

  /** Number of channels (the last axis), once built. */
  get channels(): number | null {
    return this.movingMean?.shape[0] ?? null;
  }

  protected override build(inputShape: Shape): void {
    if (inputShape.length !== 2 && inputShape.length !== 4) {
      throw new Error(`${this.name}: expected input [N, C] or NHWC [N, H, W, C], got ${formatShape(inputShape)}`);
    }
    const c = inputShape[inputShape.length - 1]!;
    if (this.scale) this.gamma = ones([c]).requireGrad();
    if (this.center) this.beta = zeros([c]).requireGrad();
    this.movingMean = zeros([c]);
    this.movingVariance = ones([c]);
    if (this.renorm) {
      this.movingStddev = ones([c]);
      this.renormMean = zeros([c]);
      this.renormStddev = ones([c]);
    }
  }

  /**
   * Calls the layer with `activation` in place of its own: how `Sequential`
   * runs this layer and the ReLU layer after it as one fused op.
   */
  callWithActivation(x: Tensor, opts: CallOptions, activation: Activation): Tensor {
    this.prepareCall(x, opts);
    return this.normalize(x, opts.isTraining, activation);
  }

  protected forward(x: Tensor, isTraining: boolean): Tensor {
    return this.normalize(x, isTraining, this.activation);
  }

  /** The forward pass, then the activation ('relu' inside the batch-norm op, the same floats as after it). */
  private normalize(x: Tensor, isTraining: boolean, activation: Activation): Tensor {
    checkRank(this.name, x, [2, 4]);
    const c = x.shape[x.rank - 1];
    if (c !== this.channels) {
      throw new Error(`${this.name}: input ${formatShape(x.shape)} has ${c} channels but the layer was built for ${this.channels}`);
    }
    const relu = activation === 'relu';
    const after = relu ? 'linear' : activation;
    // A frozen layer behaves as in inference even in a training call.
    if (!isTraining || !this.trainable) {
      if (this.statisticsObserver) {
        this.statisticsObserver({ ...channelMoments(x.data, c), count: x.size / c, usedBatchStatistics: false });
      }
      return applyActivation(batchNormInference(x, this.movingMean!, this.movingVariance!, this.gamma, this.beta, this.epsilon, { relu }), after);
    }
    const plain = !this.renorm && this.virtualBatchSize === null;
    const { y, mean, variance, count } = plain
      ? batchNormTraining(x, this.gamma, this.beta, this.epsilon, { relu })
      : this.renormOrGhostTraining(x, relu);
    this.statisticsObserver?.({ mean, variance, count, usedBatchStatistics: true });
    if (this.renorm) {
      const bessel = this.movingVarianceMode === 'unbiased' ? count / (count - 1) : 1;
      updateRenormStatistics(this.renormState(), mean, variance, this.epsilon, this.momentum, this.renormMomentum, bessel);
    } else {
      this.updateMovingStatistics(mean, variance, count);
    }
    return applyActivation(y, after);
  }

  /** Renorm and/or virtual batches: statistics first (averaged over virtual batches), r and d, then the op. */
  private renormOrGhostTraining(x: Tensor, relu: boolean): BatchNormTrainingResult {
    const v = this.virtualBatchSize;
    if (v !== null && x.shape[0]! % v !== 0) {
      throw new Error(`${this.name}: batch ${x.shape[0]} of input ${formatShape(x.shape)} is not divisible by virtualBatchSize ${v}`);
    }
    let gamma = this.gamma;
    let beta = this.beta;
    if (this.renorm) {
      const m = v === null ? channelMoments(x.data, this.channels!) : ghostMoments(x, v);
      const { r, d } = renormCorrection(m.mean, m.variance, this.renormState(), this.epsilon, this.clipping);
      ({ gamma, beta } = renormAffine(this.gamma, this.beta, r, d));
    }
    return v === null
      ? batchNormTraining(x, gamma, beta, this.epsilon, { relu })
      : ghostBatchNormTraining(x, gamma, beta, this.epsilon, { virtualBatchSize: v, relu });
  }

  /**
   * moving = momentum * moving + (1 - momentum) * batch, written in place into
   * the buffers' arrays: plain writes, so nothing is recorded for autograd.
   */
  private updateMovingStatistics(mean: Float32Array, variance: Float32Array, count: number): void {
    const bessel = this.movingVarianceMode === 'unbiased' ? count / (count - 1) : 1;
    const a = this.momentum;
    const mm = this.movingMean!.data;
    const mv = this.movingVariance!.data;
    for (let c = 0; c < mm.length; c++) {
      mm[c] = a * mm[c]! + (1 - a) * mean[c]!;
      mv[c] = a * mv[c]! + (1 - a) * bessel * variance[c]!;
    }
  }

  private renormState(): RenormState {
    return {
      renormMean: this.renormMean!.data, renormStddev: this.renormStddev!.data,
      movingMean: this.movingMean!.data, movingStddev: this.movingStddev!.data, movingVariance: this.movingVariance!.data,
    };
  }

  override weights(): Map<string, Tensor> {
    return affineWeights(this.gamma, this.beta);
  }

  override buffers(): Map<string, Tensor> {
    const b = new Map<string, Tensor>();
    if (this.movingMean) b.set('movingMean', this.movingMean);
    if (this.movingVariance) b.set('movingVariance', this.movingVariance);
    if (this.movingStddev) b.set('movingStddev', this.movingStddev);
    if (this.renormMean) b.set('renormMean', this.renormMean);
    if (this.renormStddev) b.set('renormStddev', this.renormStddev);
    return b;
  }
}
