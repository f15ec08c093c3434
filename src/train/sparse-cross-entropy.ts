/**
 * Softmax cross-entropy with integer class labels (tf.nn's
 * sparse_softmax_cross_entropy_with_logits, averaged over the batch like the
 * other losses): the one-hot labels are never built.
 */
import { record } from '../autograd/graph.js';
import { formatShape, sameShape } from '../tensor/shape.js';
import { Tensor } from '../tensor/tensor.js';

/**
 * Class indices from `labels` (a Tensor of integer values or an Int32Array),
 * one per row of `logits` [..., classes]; throws naming `op` and the shapes
 * on a shape mismatch or a value that is not an integer in [0, classes).
 * A tensor of labels may have the rows' shape or that shape with a trailing 1.
 */
export function classIndices(op: string, labels: Tensor | Int32Array, logits: Tensor): Int32Array {
  if (!(logits instanceof Tensor)) throw new Error(`${op}: expected logits as a Tensor, got ${typeof logits}`);
  if (logits.rank < 1) throw new Error(`${op}: logits must have a class axis, got ${formatShape(logits.shape)}`);
  const classes = logits.shape[logits.rank - 1]!;
  const rowShape = logits.shape.slice(0, -1);
  const rows = logits.size / Math.max(classes, 1);
  let values: ArrayLike<number>;
  if (labels instanceof Int32Array) {
    if (labels.length !== rows) throw new Error(`${op}: ${labels.length} labels for ${rows} rows of logits ${formatShape(logits.shape)}`);
    values = labels;
  } else if (labels instanceof Tensor) {
    if (!sameShape(labels.shape, rowShape) && !sameShape(labels.shape, [...rowShape, 1])) {
      throw new Error(`${op}: labels ${formatShape(labels.shape)} do not match logits ${formatShape(logits.shape)} (expected class indices ${formatShape(rowShape)})`);
    }
    values = labels.data;
  } else {
    throw new Error(`${op}: expected labels as a Tensor of class indices or an Int32Array, got ${typeof labels}`);
  }
  const out = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    const c = values[r]!;
    if (!Number.isInteger(c) || c < 0 || c >= classes) {
      throw new Error(`${op}: label ${c} at row ${r} is not a class index in [0, ${classes}) for logits ${formatShape(logits.shape)}`);
    }
    out[r] = c;
  }
  return out;
}

/**
 * Mean over rows of -log softmax(logits)[label], with `labels` integer class
 * indices (a Tensor [batch] or [batch, 1], or an Int32Array) and `logits`
 * [batch, classes] (any leading shape works: rows are everything but the
 * last axis). A `Loss` for `fit`. Labels out of range are an error; a NaN
 * logit makes the loss NaN. Not differentiable in the labels.
 *
 *   L = (1/rows) sum_r (lse_r - x_r,c_r),   lse_r = m_r + log sum_j e^(x_r,j - m_r)
 *   dL/dx_r,j = (softmax(x_r)_j - [j = c_r]) / rows
 *
 * @example
 * const logits = tensor([[2, 0, -1], [0, 3, 0]]);
 * sparseSoftmaxCrossEntropyWithLogits(tensor([0, 1]), logits).item();
 * // the same as softmaxCrossEntropyWithLogits(tensor([[1, 0, 0], [0, 1, 0]]), logits)
 */
export function sparseSoftmaxCrossEntropyWithLogits(labels: Tensor | Int32Array, logits: Tensor): Tensor {
  const op = 'sparseSoftmaxCrossEntropyWithLogits';
  const c = classIndices(op, labels, logits);
  const k = logits.shape[logits.rank - 1]!;
  const rows = c.length;
  if (rows === 0 || k === 0) throw new Error(`${op}: empty logits ${formatShape(logits.shape)}`);
  const x = logits.data;
  const lse = new Float64Array(rows);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    let m = -Infinity;
    for (let j = 0; j < k; j++) m = Math.max(m, x[o + j]!); // Math.max returns NaN if any argument is NaN
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(x[o + j]! - m);
    lse[r] = m + Math.log(s);
    total += lse[r]! - x[o + c[r]!]!;
  }
  const inputs = labels instanceof Tensor ? [labels, logits] : [logits];
  return record('sparseSoftmaxCrossEntropy', Float32Array.of(total / rows), [], inputs, (gy) => {
    const g = gy[0]! / rows;
    const gx = new Float32Array(x.length);
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < k; j++) gx[r * k + j] = Math.exp(x[r * k + j]! - lse[r]!) * g;
      gx[r * k + c[r]!]! -= g;
    }
    return labels instanceof Tensor ? [null, gx] : [gx];
  });
}
