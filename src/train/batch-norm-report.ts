/**
 * A batch-norm health report: each BatchNorm layer's moving statistics next
 * to the statistics of a given batch at that layer's input, with flags for
 * the classic failures.
 *
 * The batch statistics come from one INFERENCE-mode pass (under noGrad), so
 * layer k's input is produced by layers 1..k-1 normalizing with their moving
 * statistics: exactly the distribution the deployed model feeds layer k.
 * A gap at an early layer therefore shows up (and compounds) downstream, as
 * it will in production. An inference call also changes nothing, so the
 * report is safe on a model mid-training. (To see what training-mode calls
 * would have averaged instead, see recomputeBatchNormStatistics.)
 *
 * Per channel c, with eps the layer's epsilon:
 *   meanGap_c       = |batchMean_c - movingMean_c| / sqrt(movingVar_c + eps)
 *   varianceRatio_c = (batchVar_c + eps) / (movingVar_c + eps)
 * i.e. how far the normalized batch is from mean 0 (in units of the layer's
 * own scale) and from the variance the layer expects; eps keeps both finite.
 * batchVar is m/(m-1) * the biased batch variance for a layer with
 * movingVariance 'unbiased' (the same kind of estimate it averages), the
 * biased batch variance for 'biased'.
 */
import { checkTensor, describeValue } from '../tensor/check.js';
import { checkOptions } from '../tensor/options.js';
import { checkLayer } from './check-layer.js';
import { noGrad } from '../autograd/graph.js';
import type { BatchMoments } from '../layers/batch-norm.js';
import type { Layer } from '../layers/layer.js';
import { batchNormLayers, leafLayers } from '../layers/walk.js';
import type { Tensor } from '../tensor/tensor.js';

/**
 * Flag thresholds of batchNormReport.
 *
 * @example
 * batchNormReport(model, batch, { maxMeanGap: 1, varianceRatioRange: [0.25, 4] });
 */
export interface BatchNormReportOptions {
  /** largeGap when some channel's meanGap exceeds this (default 0.5). */
  maxMeanGap?: number;
  /** largeGap when some channel's varianceRatio falls outside [min, max] (default [0.5, 2]). */
  varianceRatioRange?: [number, number];
  /** A channel is dead when its batch variance is below this (default 1e-6). */
  deadVariance?: number;
}

/**
 * One BatchNorm layer in a batchNormReport. Per-channel arrays are copies.
 *
 * @example
 * const bad = report.filter((l) => l.untouched || l.largeGap || l.deadChannels.length > 0);
 */
export interface BatchNormLayerReport {
  /** Path of the layer, as in stateDict keys (`bn2`, `block1/bn1`). */
  name: string;
  /** True when the layer is not trainable (it normalizes with its moving statistics). */
  frozen: boolean;
  /** Values per channel in the batch (m). */
  count: number;
  /** The layer's moving mean. */
  movingMean: Float32Array;
  /** The layer's moving variance. */
  movingVariance: Float32Array;
  /** The mean of the batch reaching the layer. */
  batchMean: Float32Array;
  /** Corrected as the layer's movingVariance mode says (see the top of the file). */
  batchVariance: Float32Array;
  /** |batchMean - movingMean| / sqrt(movingVariance + epsilon), per channel. */
  meanGap: Float32Array;
  /** (batchVariance + epsilon) / (movingVariance + epsilon), per channel. */
  varianceRatio: Float32Array;
  /** Moving mean all 0 and variance all 1: the statistics were never updated. */
  untouched: boolean;
  /** Some channel's meanGap or varianceRatio is beyond the thresholds. */
  largeGap: boolean;
  /** Channels flagged for largeGap. */
  gapChannels: number[];
  /** Channels whose batch variance is (almost) zero. */
  deadChannels: number[];
}

/**
 * Compares every BatchNorm layer's moving statistics with the statistics of
 * `batch` at its input (one inference-mode pass; nothing in the model
 * changes). Layers come in call order.
 *
 * @example
 * const report = batchNormReport(model, validationBatch);
 * if (report.some((l) => l.untouched)) console.warn('moving statistics were never updated');
 * console.log(formatBatchNormReport(report));
 */
export function batchNormReport(model: Layer, batch: Tensor, opts: BatchNormReportOptions = {}): BatchNormLayerReport[] {
  checkLayer('batchNormReport', model);
  checkTensor('batchNormReport', batch, 'batch');
  checkOptions('batchNormReport', opts, ['maxMeanGap', 'varianceRatioRange', 'deadVariance']);
  const { maxMeanGap = 0.5, varianceRatioRange = [0.5, 2], deadVariance = 1e-6 } = opts;
  const [minRatio, maxRatio] = varianceRatioRange;
  if (!(maxMeanGap >= 0) || !(minRatio! > 0 && minRatio! <= 1 && maxRatio! >= 1) || !(deadVariance >= 0)) {
    throw new Error(`batchNormReport: bad thresholds (maxMeanGap ${maxMeanGap} >= 0, varianceRatioRange [${varianceRatioRange.join(', ')}] around 1, deadVariance ${deadVariance} >= 0)`);
  }
  const unbuilt = leafLayers(model).find((l) => !l.layer.isBuilt);
  if (unbuilt) throw new Error(`batchNormReport: layer '${unbuilt.name}' is not built; a report on a model that was never called has nothing to compare`);
  const bns = batchNormLayers(model);
  const seen = new Map<number, BatchMoments>();
  const previous = bns.map((l) => l.layer.statisticsObserver);
  bns.forEach(({ layer }, i) => {
    layer.statisticsObserver = (s) => {
      previous[i]?.(s);
      if (!seen.has(i)) seen.set(i, s);
    };
  });
  try {
    noGrad(() => model.call(batch, { isTraining: false }));
  } finally {
    bns.forEach(({ layer }, i) => (layer.statisticsObserver = previous[i] ?? null));
  }

  return bns.map(({ name, layer }, i) => {
    const s = seen.get(i);
    if (!s) throw new Error(`batchNormReport: '${name}' was not called by the model`);
    const mm = layer.movingMean!.data;
    const mv = layer.movingVariance!.data;
    const eps = layer.epsilon;
    const bessel = layer.movingVarianceMode === 'unbiased' && s.count > 1 ? s.count / (s.count - 1) : 1;
    const batchVariance = s.variance.map((v) => v * bessel);
    const meanGap = s.mean.map((m, c) => Math.abs(m - mm[c]!) / Math.sqrt(mv[c]! + eps));
    const varianceRatio = batchVariance.map((v, c) => (v + eps) / (mv[c]! + eps));
    const channels = [...mm.keys()];
    const gapChannels = channels.filter((c) => meanGap[c]! > maxMeanGap || varianceRatio[c]! < minRatio! || varianceRatio[c]! > maxRatio!);
    return {
      name,
      frozen: !layer.trainable,
      count: s.count,
      movingMean: Float32Array.from(mm),
      movingVariance: Float32Array.from(mv),
      batchMean: Float32Array.from(s.mean),
      batchVariance,
      meanGap,
      varianceRatio,
      untouched: mm.every((v) => v === 0) && mv.every((v) => v === 1),
      largeGap: gapChannels.length > 0,
      gapChannels,
      deadChannels: channels.filter((c) => s.variance[c]! < deadVariance),
    };
  });
}

function maxOf(a: Float32Array): number {
  return a.reduce((m, v) => Math.max(m, v), -Infinity);
}

function minOf(a: Float32Array): number {
  return a.reduce((m, v) => Math.min(m, v), Infinity);
}

function num(v: number, width: number, digits = 3): string {
  const text = Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(1) : v.toFixed(digits);
  return text.padStart(width);
}

function flagsOf(l: BatchNormLayerReport): string {
  const flags: string[] = [];
  if (l.untouched) flags.push('UNTOUCHED');
  if (l.largeGap) flags.push(`GAP(${l.gapChannels.length})`);
  if (l.deadChannels.length > 0) flags.push(`DEAD(${l.deadChannels.length})`);
  if (l.frozen) flags.push('frozen');
  return flags.length === 0 ? 'ok' : flags.join(' ');
}

/**
 * A fixed-width table of a report for a terminal: one row per layer with
 * its worst channel, and with `perChannel` one row per channel under each
 * flagged layer.
 *
 * @example
 * console.log(formatBatchNormReport(batchNormReport(model, batch)));
 * // layer       ch  values  max gap  var ratio min..max  dead  flags
 * // bn1          4      32    0.041     0.912..1.087      0  ok
 * // bn2          3      32    9.870     0.003..0.004      0  UNTOUCHED GAP(3)
 */
export function formatBatchNormReport(report: readonly BatchNormLayerReport[], opts: { perChannel?: boolean } = {}): string {
  if (!Array.isArray(report)) throw new Error(`formatBatchNormReport: report must be the array batchNormReport returns, got ${describeValue(report)}`);
  checkOptions('formatBatchNormReport', opts, ['perChannel']);
  const nameWidth = Math.max(5, ...report.map((l) => l.name.length)) + 2;
  const lines = [
    `${'layer'.padEnd(nameWidth)}${'ch'.padStart(4)}${'values'.padStart(8)}${'max gap'.padStart(9)}  ${'var ratio min..max'.padStart(18)}${'dead'.padStart(6)}  flags`,
  ];
  for (const l of report) {
    const ratio = `${num(minOf(l.varianceRatio), 0)}..${num(maxOf(l.varianceRatio), 0)}`;
    lines.push(
      `${l.name.padEnd(nameWidth)}${String(l.movingMean.length).padStart(4)}${String(l.count).padStart(8)}${num(maxOf(l.meanGap), 9)}  ${ratio.padStart(18)}${String(l.deadChannels.length).padStart(6)}  ${flagsOf(l)}`,
    );
    if (!opts.perChannel || flagsOf(l) === 'ok') continue;
    lines.push(`${''.padEnd(nameWidth)}  ch${'moving mean'.padStart(13)}${'batch mean'.padStart(13)}${'moving var'.padStart(13)}${'batch var'.padStart(13)}`);
    for (let c = 0; c < l.movingMean.length; c++) {
      const mark = l.gapChannels.includes(c) ? ' gap' : l.deadChannels.includes(c) ? ' dead' : '';
      lines.push(
        `${''.padEnd(nameWidth)}${String(c).padStart(4)}${num(l.movingMean[c]!, 13)}${num(l.batchMean[c]!, 13)}${num(l.movingVariance[c]!, 13)}${num(l.batchVariance[c]!, 13)}${mark}`,
      );
    }
  }
  return lines.join('\n');
}
