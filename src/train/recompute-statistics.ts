/**
 * Precise batch-norm statistics: the population estimate of the original
 * paper's inference procedure (Ioffe & Szegedy 2015, Algorithm 2), instead
 * of the exponential moving averages left behind by training.
 *
 * Over B batches, with mu_b and sigma2_b the batch mean and biased batch
 * variance a layer computes in a training-mode call on batch b,
 *   E[x]   = (1/B) sum_b mu_b
 *   Var[x] = m/(m-1) * (1/B) sum_b sigma2_b      ('unbiased', the paper)
 *   Var[x] =           (1/B) sum_b sigma2_b      ('biased')
 * m = values per channel in one batch. A batch of another size (a smaller
 * last batch) gets its own m_b/(m_b-1); every batch weighs the same, as in
 * the paper, which assumes batches of one size.
 *
 * Layer k's batch statistics depend on layers 1..k-1 normalizing with their
 * own batch statistics, as during training; so the whole model runs in
 * training mode and each BatchNorm reports its moments through its
 * `statisticsObserver`. Nothing trainable can change: the run is under
 * noGrad, no optimizer is involved, and every weight is compared bit for bit
 * afterwards. The moving averages the training calls update on the way are
 * then overwritten (or restored, if anything throws).
 */
import { describeValue } from '../tensor/check.js';
import { checkLayer } from './check-layer.js';
import { noGrad } from '../autograd/graph.js';
import type { BatchMoments, BatchNorm } from '../layers/batch-norm.js';
import type { Layer } from '../layers/layer.js';
import { batchNormLayers, leafLayers } from '../layers/walk.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * What recomputeBatchNormStatistics did.
 *
 * @example
 * { batches: 50, layers: { bn1: 50, 'block2/bn1': 50 }, frozen: ['bn3'] }
 */
export interface RecomputeSummary {
  /** Batches run through the model. */
  batches: number;
  /** Batches each updated BatchNorm saw, by path. */
  layers: Record<string, number>;
  /** Frozen BatchNorm layers (trainable false), left alone. */
  frozen: string[];
}

/** Running sums for one layer: sum_b mu_b and sum_b (corrected) sigma2_b, in float64. */
interface Accumulator {
  sumMean: Float64Array;
  sumVariance: Float64Array;
  batches: number;
}

function copyAll(tensors: Iterable<Tensor>): Float32Array[] {
  return [...tensors].map((t) => Float32Array.from(t.data));
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((v, i) => v === ub[i]);
}

/**
 * Sets every trainable BatchNorm's moving mean and variance to the
 * population estimate over `batches` (see the top of this file). The model
 * must be built. Frozen BatchNorm layers are left alone; weights are never
 * changed. On any error the model is left exactly as it was.
 *
 * @example
 * // after training, with the training inputs in batches of 64:
 * const summary = recomputeBatchNormStatistics(model, trainBatches(64));
 * summary.layers; // { bn1: 50, bn2: 50 }
 */
export function recomputeBatchNormStatistics(model: Layer, batches: Iterable<Tensor>): RecomputeSummary {
  const op = 'recomputeBatchNormStatistics';
  checkLayer(op, model);
  if (batches === null || typeof batches !== 'object' || typeof (batches as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
    throw new Error(`${op}: batches must be an iterable of Tensors (an array or a generator), got ${describeValue(batches)}`);
  }
  const leaves = leafLayers(model);
  const unbuilt = leaves.find((l) => !l.layer.isBuilt);
  if (unbuilt) throw new Error(`${op}: layer '${unbuilt.name}' is not built; call the model once before recomputing its statistics`);
  const bns = batchNormLayers(model);
  const active = bns.filter((l) => l.layer.trainable);
  const frozen = bns.filter((l) => !l.layer.trainable).map((l) => l.name);

  const weights = [...model.namedWeights().values()];
  const buffers = [...model.namedBuffers().values()];
  const savedWeights = copyAll(weights);
  const savedBuffers = copyAll(buffers);
  const restore = (): void => {
    weights.forEach((w, i) => w.data.set(savedWeights[i]!));
    buffers.forEach((b, i) => b.data.set(savedBuffers[i]!));
  };

  const sums = new Map<BatchNorm, Accumulator>();
  const previous = active.map((l) => l.layer.statisticsObserver);
  active.forEach(({ layer }, i) => {
    const acc: Accumulator = { sumMean: new Float64Array(layer.channels!), sumVariance: new Float64Array(layer.channels!), batches: 0 };
    sums.set(layer, acc);
    const bessel = (m: number): number => (layer.movingVarianceMode === 'unbiased' ? m / (m - 1) : 1);
    layer.statisticsObserver = (s: BatchMoments) => {
      previous[i]?.(s);
      if (!s.usedBatchStatistics) return;
      for (let c = 0; c < s.mean.length; c++) {
        acc.sumMean[c]! += s.mean[c]!;
        acc.sumVariance[c]! += bessel(s.count) * s.variance[c]!; // m_b/(m_b-1) * sigma2_b, or sigma2_b
      }
      acc.batches++;
    };
  });

  let count = 0;
  try {
    noGrad(() => {
      for (const x of batches) {
        model.call(x, { isTraining: true });
        count++;
      }
    });
    if (count === 0) throw new Error(`${op}: no batches were given`);
    const changed = weights.findIndex((w, i) => !sameBits(w.data, savedWeights[i]!));
    if (changed >= 0) throw new Error(`${op}: a weight changed during the training-mode pass (a layer modifies its weights in forward); the model was restored`);
  } catch (err) {
    restore();
    throw err;
  } finally {
    active.forEach(({ layer }, i) => (layer.statisticsObserver = previous[i] ?? null));
  }

  // Keep the other buffers as they were; write the estimates into the BN ones.
  buffers.forEach((b, i) => b.data.set(savedBuffers[i]!));
  const layers: Record<string, number> = {};
  for (const { name, layer } of active) {
    const acc = sums.get(layer)!;
    layers[name] = acc.batches;
    if (acc.batches === 0) continue; // never reached in training mode: keep the old values
    for (let c = 0; c < acc.sumMean.length; c++) {
      layer.movingMean!.data[c] = acc.sumMean[c]! / acc.batches; // (1/B) sum_b mu_b
      layer.movingVariance!.data[c] = acc.sumVariance[c]! / acc.batches; // (1/B) sum_b m/(m-1) sigma2_b
      // A renorm layer derives movingVariance from movingStddev = sqrt(var + eps) at its next update: keep them in step.
      if (layer.movingStddev) layer.movingStddev.data[c] = Math.sqrt(layer.movingVariance!.data[c]! + layer.epsilon);
    }
  }
  return { batches: count, layers, frozen };
}
