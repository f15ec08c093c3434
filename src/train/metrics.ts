/** Metrics: plain numbers computed from labels and model outputs, never recorded. */
import { formatShape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';
import { checkTensor } from '../tensor/check.js';

/** (labels, outputs) -> a number, averaged over the batch. */
export type Metric = (labels: Tensor, outputs: Tensor) => number;

function argmaxRow(data: Float32Array, offset: number, k: number): number {
  let best = offset;
  for (let j = offset + 1; j < offset + k; j++) if (data[j]! > data[best]!) best = j;
  return best - offset;
}

/**
 * Fraction of rows predicted right.
 *
 * With K > 1 output columns: the largest output must be the labelled class;
 * labels may be one-hot `[B, K]` or integer classes `[B]` / `[B, 1]`.
 *
 * With a single output column `[B, 1]` (a binary model): the output is a
 * logit, as normgrad's losses take (`sigmoidCrossEntropyWithLogits`), and is
 * thresholded at 0, i.e. at probability sigmoid(0) = 0.5 (Keras'
 * binary_accuracy thresholds probabilities at 0.5, the same decision):
 * predicted = logit > 0 ? 1 : 0, and a row is right when its label `[B]` or
 * `[B, 1]` equals the prediction (labels 0 or 1). A NaN output is never right.
 *
 * @example
 * accuracy(tensor([[1], [1], [0]]), tensor([[10], [10], [-10]])); // 1 (logits 10, 10, -10 -> 1, 1, 0)
 * accuracy(tensor([2, 0]), tensor([[0.1, 0.2, 0.9], [1, 0, 0]]));  // 1 (argmax)
 */
export function accuracy(labels: Tensor, outputs: Tensor): number {
  checkTensor('accuracy', labels, 'labels');
  checkTensor('accuracy', outputs, 'outputs');
  if (outputs.rank !== 2) throw new Error(`accuracy: outputs must be [batch, classes], got ${formatShape(outputs.shape)}`);
  const [rows, k] = outputs.shape as [number, number];
  const oneHot = labels.rank === 2 && labels.shape[1] === k && k > 1;
  if (labels.shape[0] !== rows || !(oneHot || labels.size === rows)) {
    throw new Error(`accuracy: labels ${formatShape(labels.shape)} do not match outputs ${formatShape(outputs.shape)} (one-hot [${rows},${k}] or classes [${rows}])`);
  }
  let correct = 0;
  if (k === 1) {
    // y = [logit > 0]; sigmoid(logit) > 0.5 exactly when logit > 0. NaN compares false both ways.
    for (let r = 0; r < rows; r++) {
      const v = outputs.data[r]!;
      const predicted = v > 0 ? 1 : v <= 0 ? 0 : NaN;
      if (predicted === labels.data[r]) correct++;
    }
    return rows === 0 ? 0 : correct / rows;
  }
  for (let r = 0; r < rows; r++) {
    const predicted = argmaxRow(outputs.data, r * k, k);
    const truth = oneHot ? argmaxRow(labels.data, r * k, k) : labels.data[r]!;
    if (predicted === truth) correct++;
  }
  return rows === 0 ? 0 : correct / rows;
}

/** Metrics by name, for `fit(..., { metrics: ['accuracy'] })`. */
export const builtinMetrics: Readonly<Record<string, Metric>> = { accuracy };

/** A metric by built-in name (`'accuracy'`) or as a named function. */
export type MetricSpec = string | { name: string; fn: Metric };

export function resolveMetrics(op: string, specs: readonly MetricSpec[]): { name: string; fn: Metric }[] {
  return specs.map((s) => {
    if (typeof s !== 'string') return s;
    const fn = builtinMetrics[s];
    if (!fn) throw new Error(`${op}: unknown metric '${s}' (known: ${Object.keys(builtinMetrics).join(', ')})`);
    return { name: s, fn };
  });
}
