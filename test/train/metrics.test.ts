/**
 * accuracy with a single output column scores a binary model: the output is
 * a logit, thresholded at 0 (probability 0.5). It used to take the argmax
 * over one column, which is always column 0.
 */
import { describe, expect, it } from 'vitest';
import { Random, accuracy, sigmoid, tensor } from '../../src/index.js';

describe('accuracy on one logit column', () => {
  it('thresholds the logit at 0 (issue 14: this was 0.333)', () => {
    expect(accuracy(tensor([[1], [1], [0]]), tensor([[10], [10], [-10]]))).toBe(1);
    expect(accuracy(tensor([1, 1, 0]), tensor([[10], [-10], [-10]]))).toBeCloseTo(2 / 3, 12);
    expect(accuracy(tensor([[0], [1]]), tensor([[10], [-10]]))).toBe(0);
  });

  it('0 itself predicts class 0 (sigmoid(0) = 0.5 is not above 0.5, as Keras thresholds); NaN is never right', () => {
    expect(accuracy(tensor([[0], [1]]), tensor([[0], [0]]))).toBe(0.5);
    expect(accuracy(tensor([[0], [1]]), tensor([[NaN], [NaN]]))).toBe(0);
  });

  it('agrees with a naive reference: sigmoid(logit) > 0.5 compared with the label, on random data', () => {
    const rng = new Random(14);
    const n = 200;
    const logits = tensor(Array.from({ length: n }, () => [(rng.next() - 0.5) * 8]));
    const labels = tensor(Array.from({ length: n }, () => [rng.next() < 0.5 ? 0 : 1]));
    const p = sigmoid(logits).data;
    let right = 0;
    for (let i = 0; i < n; i++) if ((p[i]! > 0.5 ? 1 : 0) === labels.data[i]) right++;
    expect(accuracy(labels, logits)).toBeCloseTo(right / n, 12);
  });

  it('more than one column still takes the argmax', () => {
    const out = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
    expect(accuracy(tensor([[0, 1], [1, 0], [1, 0]]), out)).toBeCloseTo(2 / 3, 12);
    expect(accuracy(tensor([1, 0, 1]), out)).toBe(1);
  });
});
