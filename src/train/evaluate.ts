/** Inference over a dataset: every call uses isTraining: false under noGrad. */
import { noGrad } from '../autograd/graph.js';
import { concat, sliceRows } from '../autograd/ops/shape.js';
import type { CallOptions } from '../layers/layer.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkFunction, checkTensor, describeValue } from '../tensor/check.js';
import { checkOptions } from '../tensor/options.js';
import { formatShape } from '../tensor/shape.js';
import { checkDataset, type Dataset } from './batches.js';
import type { Loss } from './losses.js';
import { resolveMetrics, type MetricSpec } from './metrics.js';

/** Anything callable like a layer. */
export interface Model {
  /** Runs the model; evaluate and predict always pass `isTraining: false`. */
  call(x: Tensor, opts: CallOptions): Tensor;
}

function checkModel(op: string, model: Model): void {
  if (model === null || typeof model !== 'object' || typeof model.call !== 'function') {
    throw new Error(`${op}: model must have a call(x, { isTraining }) method (a Layer or Sequential), got ${describeValue(model)}`);
  }
}

function checkBatchSize(op: string, batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`${op}: batchSize must be a positive integer, got ${String(batchSize)}`);
}

/**
 * The model's outputs for every row of x (axis 0), computed in batches. With
 * 0 rows the model is called once on the empty batch, so the result is an
 * empty tensor of the output's shape (`[0, 10]`), or the model's own error.
 */
export function predict(model: Model, x: Tensor, opts: { batchSize?: number } = {}): Tensor {
  checkModel('predict', model);
  checkTensor('predict', x, 'x');
  checkOptions('predict', opts, ['batchSize']);
  const { batchSize = 256 } = opts;
  checkBatchSize('predict', batchSize);
  if (x.rank === 0) throw new Error(`predict: x must have a batch axis (axis 0), got a scalar ${formatShape(x.shape)}`);
  const n = x.shape[0]!;
  return noGrad(() => {
    const parts: Tensor[] = [];
    for (let s = 0; s < n; s += batchSize) parts.push(model.call(sliceRows(x, s, Math.min(s + batchSize, n)), { isTraining: false }));
    if (n === 0) parts.push(model.call(x, { isTraining: false }));
    return parts.length === 1 ? parts[0]! : concat(parts, 0);
  });
}

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /** Examples per inference call (default 256). */
  batchSize?: number;
  /** Also report the mean loss under the key `loss`. */
  loss?: Loss;
  /** Metrics to average (default `['accuracy']`). */
  metrics?: readonly MetricSpec[];
}

/**
 * Mean loss and metrics over a dataset, weighted by batch size, in inference
 * mode. Returns `{ loss?, [metric]: value }`. A dataset of 0 examples is an
 * error: a mean over nothing has no value.
 */
export function evaluate(model: Model, data: Dataset, opts: EvaluateOptions = {}): Record<string, number> {
  checkModel('evaluate', model);
  checkOptions('evaluate', opts, ['batchSize', 'loss', 'metrics']);
  const { batchSize = 256, loss, metrics = ['accuracy'] } = opts;
  checkBatchSize('evaluate', batchSize);
  if (loss !== undefined) checkFunction('evaluate', loss, 'options.loss');
  if (!Array.isArray(metrics)) throw new Error(`evaluate: options.metrics must be an array, got ${describeValue(metrics)}`);
  const n = checkDataset('evaluate', data);
  if (n === 0) throw new Error(`evaluate: the data has 0 examples (x ${formatShape(data.x.shape)}); there is nothing to average`);
  const resolved = resolveMetrics('evaluate', metrics);
  const totals: Record<string, number> = {};
  noGrad(() => {
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(s + batchSize, n);
      const x = sliceRows(data.x, s, e);
      const y = sliceRows(data.y, s, e);
      const out = model.call(x, { isTraining: false });
      if (loss) totals.loss = (totals.loss ?? 0) + loss(y, out).item() * (e - s);
      for (const m of resolved) totals[m.name] = (totals[m.name] ?? 0) + m.fn(y, out) * (e - s);
    }
  });
  for (const k of Object.keys(totals)) totals[k]! /= n;
  return totals;
}
