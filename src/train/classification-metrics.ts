/**
 * Classification metrics beyond `accuracy`: binary accuracy on a threshold,
 * top-k accuracy, and the confusion matrix. Plain numbers (or a count
 * tensor) computed from labels and model outputs, never recorded. A NaN
 * output makes the accuracies NaN rather than counting as a wrong answer.
 */
import { sigmoid } from '../tensor/kernels/elementwise.js';
import { checkBoolean, checkInteger, checkNumber, checkOptions } from '../tensor/options.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';
import type { Metric } from './metrics.js';

/** Options of `binaryAccuracy`. */
export interface BinaryAccuracyOptions {
  /** A probability in [0, 1]: an output counts as class 1 when its probability is > threshold (default 0.5, as Keras). */
  threshold?: number;
  /**
   * true (default): outputs are logits, turned into probabilities by the
   * sigmoid (what a model trained with `sigmoidCrossEntropyWithLogits`
   * outputs; threshold 0.5 means logit > 0). false: outputs are already
   * probabilities in [0, 1], and anything outside that range is an error.
   */
  fromLogits?: boolean;
}

/**
 * A metric: the fraction of outputs whose thresholded class (0 or 1) equals
 * the label, over every element, for one-unit (or multi-label) sigmoid
 * outputs. Labels are 0 or 1, of the outputs' shape ([B] for [B, 1] outputs
 * is accepted too).
 *
 * @example
 * const metric = binaryAccuracy();                        // logits, threshold 0.5
 * metric(tensor([[1], [0], [1]]), tensor([[2.3], [-0.4], [-1]])); // 2/3
 * fit(model, data, { ..., metrics: [{ name: 'binaryAccuracy', fn: binaryAccuracy() }] });
 */
export function binaryAccuracy(opts: BinaryAccuracyOptions = {}): Metric {
  const op = 'binaryAccuracy';
  checkOptions(op, opts, ['threshold', 'fromLogits']);
  const threshold = checkNumber(op, 'threshold', opts.threshold ?? 0.5, 0, 1);
  const fromLogits = checkBoolean(op, 'fromLogits', opts.fromLogits ?? true);
  return (labels, outputs) => {
    checkTensors(op, labels, outputs);
    const columnOf = (a: Tensor, b: Tensor): boolean => a.rank === 1 && sameShape([...a.shape, 1], b.shape);
    if (!sameShape(labels.shape, outputs.shape) && !columnOf(labels, outputs) && !columnOf(outputs, labels)) {
      throw new Error(`${op}: labels ${formatShape(labels.shape)} do not match outputs ${formatShape(outputs.shape)}`);
    }
    const n = outputs.size;
    let correct = 0;
    for (let i = 0; i < n; i++) {
      const z = labels.data[i]!;
      if (z !== 0 && z !== 1) throw new Error(`${op}: label ${z} at index ${i} is not 0 or 1 (labels ${formatShape(labels.shape)})`);
      const v = outputs.data[i]!;
      if (Number.isNaN(v)) return NaN;
      if (!fromLogits && !(v >= 0 && v <= 1)) {
        throw new Error(`${op}: output ${v} at index ${i} is not a probability in [0, 1] (outputs ${formatShape(outputs.shape)}; logits need fromLogits: true)`);
      }
      const p = fromLogits ? sigmoid(v) : v;
      if ((p > threshold ? 1 : 0) === z) correct++;
    }
    return n === 0 ? 0 : correct / n;
  };
}

/**
 * A metric: the fraction of rows whose labelled class is among the `k`
 * highest outputs (tf.math.in_top_k: classes tied with the k-th highest
 * count as inside, so the label is in the top k when fewer than k classes
 * score strictly higher). Outputs [B, classes] (logits or probabilities);
 * labels integer classes [B] / [B, 1] or one-hot [B, classes].
 *
 * @example
 * topKAccuracy(2)(tensor([2, 0]), tensor([[0.1, 0.5, 0.4], [0.3, 0.2, 0.5]])); // 0.5
 * fit(model, data, { ..., metrics: ['accuracy', { name: 'top5', fn: topKAccuracy(5) }] });
 */
export function topKAccuracy(k: number): Metric {
  const op = 'topKAccuracy';
  checkInteger(op, 'k', k, 1);
  return (labels, outputs) => {
    checkTensors(op, labels, outputs);
    if (outputs.rank !== 2) throw new Error(`${op}: outputs must be [batch, classes], got ${formatShape(outputs.shape)}`);
    const [rows, classes] = outputs.shape as [number, number];
    if (k > classes) throw new Error(`${op}: k ${k} exceeds the ${classes} classes of outputs ${formatShape(outputs.shape)}`);
    if (outputs.data.some(Number.isNaN)) return NaN;
    const truth = classesOf(op, labels, rows, classes);
    let correct = 0;
    for (let r = 0; r < rows; r++) {
      const target = outputs.data[r * classes + truth[r]!]!;
      let higher = 0;
      for (let j = 0; j < classes; j++) if (outputs.data[r * classes + j]! > target) higher++;
      if (higher < k) correct++;
    }
    return rows === 0 ? 0 : correct / rows;
  };
}

/**
 * Counts of (true class, predicted class) pairs: a [numClasses, numClasses]
 * tensor whose entry [i, j] is the number of examples of class i predicted
 * as j (rows are the truth, as tf.math.confusion_matrix). `labels` and
 * `predictions` are each class indices (a Tensor [B] or [B, 1], or an
 * Int32Array) or rows of scores [B, numClasses] (one-hot labels, model
 * outputs), reduced by argmax. A NaN score is an error: it has no class.
 *
 * @example
 * confusionMatrix(tensor([0, 1, 1]), predict(model, x), 2).toArray(); // e.g. [[1, 0], [1, 1]]
 */
export function confusionMatrix(labels: Tensor | Int32Array, predictions: Tensor | Int32Array, numClasses: number): Tensor {
  const op = 'confusionMatrix';
  checkInteger(op, 'numClasses', numClasses, 1);
  const rows = labels instanceof Tensor ? labels.shape[0] ?? 1 : labels.length;
  const truth = classesOf(op, labels, rows, numClasses, 'labels');
  const predicted = classesOf(op, predictions, rows, numClasses, 'predictions');
  const counts = new Float32Array(numClasses * numClasses);
  for (let r = 0; r < rows; r++) counts[truth[r]! * numClasses + predicted[r]!]!++;
  return new Tensor(counts, [numClasses, numClasses]);
}

function checkTensors(op: string, labels: unknown, outputs: unknown): asserts labels is Tensor {
  if (!(labels instanceof Tensor) || !(outputs instanceof Tensor)) throw new Error(`${op}: expected (labels, outputs) tensors`);
}

/**
 * One class index per row from class indices ([rows], [rows, 1], Int32Array)
 * or rows of scores [rows, classes] (argmax, the first on ties), checked to
 * lie in [0, classes).
 */
function classesOf(op: string, t: Tensor | Int32Array, rows: number, classes: number, what = 'labels'): Int32Array {
  if (t instanceof Tensor && t.rank === 2 && t.shape[1] === classes && classes > 1) {
    if (t.shape[0] !== rows) throw new Error(`${op}: ${what} ${formatShape(t.shape)} have ${t.shape[0]} rows, expected ${rows}`);
    const out = new Int32Array(rows);
    for (let r = 0; r < rows; r++) {
      let best = 0;
      for (let j = 0; j < classes; j++) {
        const v = t.data[r * classes + j]!;
        if (Number.isNaN(v)) throw new Error(`${op}: ${what} row ${r} holds NaN, which has no class (${what} ${formatShape(t.shape)})`);
        if (v > t.data[r * classes + best]!) best = j;
      }
      out[r] = best;
    }
    return out;
  }
  let values: ArrayLike<number>;
  if (t instanceof Int32Array) values = t;
  else if (t instanceof Tensor && (t.rank === 1 || (t.rank === 2 && t.shape[1] === 1))) values = t.data;
  else {
    const shape = t instanceof Tensor ? formatShape(t.shape) : typeof t;
    throw new Error(`${op}: ${what} ${shape} are neither class indices [${rows}] nor scores [${rows},${classes}]`);
  }
  if (values.length !== rows) throw new Error(`${op}: ${values.length} ${what} for ${rows} rows`);
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = values[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw new Error(`${op}: ${what} value ${c} at row ${r} is not a class index in [0, ${classes})`);
    out[r] = c;
  }
  return out;
}
