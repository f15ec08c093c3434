/**
 * The options of the BatchNorm layer (src/layers/batch-norm.ts) and what its
 * `statisticsObserver` is given.
 */
import type { Activation } from './activations.js';
import type { RenormClipping } from './batch-renorm.js';

/** Options of `BatchNorm`; the defaults are Keras's (see docs/conventions.md for other frameworks). */
export interface BatchNormOptions {
  /** The layer's name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
  /** Weight of the old value in the moving averages (default 0.99, Keras' meaning). */
  momentum?: number;
  /** Added to the variance before the square root (default 1e-3, as Keras). */
  epsilon?: number;
  /** Learn an offset beta (default true). */
  center?: boolean;
  /** Learn a scale gamma (default true). */
  scale?: boolean;
  /** Which variance the moving average tracks (default 'unbiased'). */
  movingVariance?: 'unbiased' | 'biased';
  /** Applied to the output (default 'linear': none); 'relu' runs fused into the normalization. */
  activation?: Activation;
  /** Batch renormalization (Ioffe, 2017) in training calls, as Keras' renorm=True (default false). */
  renorm?: boolean;
  /** Bounds of renorm's r and d (default none: no clipping); assignable later as `bn.renormClipping` to ramp them. */
  renormClipping?: RenormClipping;
  /** Weight of the old value in renormMean/renormStddev (default 0.99, Keras). */
  renormMomentum?: number;
  /** Ghost batch norm: training calls normalize virtual batches of this many examples (Keras' virtual_batch_size; default none). */
  virtualBatchSize?: number;
}

/** The option names BatchNorm accepts besides `name`. */
export const BATCH_NORM_OPTIONS = [
  'momentum', 'epsilon', 'center', 'scale', 'movingVariance', 'activation', 'renorm', 'renormClipping', 'renormMomentum', 'virtualBatchSize',
];

/**
 * One call's per-channel input statistics, as seen by a `statisticsObserver`.
 *
 * @example
 * bn.statisticsObserver = ({ mean, usedBatchStatistics }) => console.log(usedBatchStatistics, mean);
 */
export interface BatchMoments {
  /** Per-channel batch mean. */
  mean: Float32Array;
  /** Biased (divide by m) batch variance. */
  variance: Float32Array;
  /** Values per channel, m: the batch size times the spatial size (per virtual batch with virtualBatchSize, whose mean and variance are averaged over the virtual batches). */
  count: number;
  /** true when the layer normalized with these batch statistics (a training call, not frozen). */
  usedBatchStatistics: boolean;
}
