/**
 * binaryAccuracy, topKAccuracy and confusionMatrix: hand-worked cases, ties,
 * NaN outputs, use from fit/evaluate, and the input checks.
 */
import { describe, expect, it } from 'vitest';
import {
  Dense, Random, Sequential, Tensor, binaryAccuracy, confusionMatrix, evaluate, tensor, topKAccuracy,
} from '../../src/index.js';

describe('binaryAccuracy', () => {
  it('on logits (the default): class 1 when the logit is above 0, i.e. sigmoid > 0.5', () => {
    const metric = binaryAccuracy();
    expect(metric(tensor([[1], [0], [1], [0]]), tensor([[2.3], [-0.4], [-1], [0]]))).toBe(0.75); // logit 0 is not > 0.5
    expect(metric(tensor([1, 0]), tensor([[0.1], [-0.1]]))).toBe(1); // labels [B] against outputs [B, 1]
  });

  it('a threshold is a probability; fromLogits: false takes probabilities', () => {
    // sigmoid(1) = 0.731: above 0.7, below 0.75.
    expect(binaryAccuracy({ threshold: 0.7 })(tensor([1]), tensor([1]))).toBe(1);
    expect(binaryAccuracy({ threshold: 0.75 })(tensor([1]), tensor([1]))).toBe(0);
    const probs = binaryAccuracy({ fromLogits: false, threshold: 0.3 });
    expect(probs(tensor([1, 0, 0, 1]), tensor([0.35, 0.2, 0.9, 0.25]))).toBe(0.5);
  });

  it('is NaN when an output is NaN (not a quiet wrong answer)', () => {
    expect(binaryAccuracy()(tensor([1, 0]), tensor([NaN, 1]))).toBeNaN();
  });

  it('refuses bad options, labels that are not 0/1, probabilities out of range, mismatched shapes', () => {
    expect(() => binaryAccuracy({ treshold: 0.5 } as never)).toThrow("binaryAccuracy: unknown option 'treshold' (did you mean 'threshold'?)");
    expect(() => binaryAccuracy({ threshold: 2 })).toThrow('binaryAccuracy: threshold must be a number in [0, 1], got 2');
    expect(() => binaryAccuracy({ fromLogits: 1 } as never)).toThrow('binaryAccuracy: fromLogits must be true or false, got 1');
    expect(() => binaryAccuracy()(tensor([0.5]), tensor([1]))).toThrow('binaryAccuracy: label 0.5 at index 0 is not 0 or 1 (labels [1])');
    expect(() => binaryAccuracy({ fromLogits: false })(tensor([1, 1]), tensor([0.5, 2.5]))).toThrow(
      'binaryAccuracy: output 2.5 at index 1 is not a probability in [0, 1] (outputs [2]; logits need fromLogits: true)',
    );
    expect(() => binaryAccuracy()(tensor([1, 0]), tensor([[1, 0]]))).toThrow('binaryAccuracy: labels [2] do not match outputs [1,2]');
  });
});

describe('topKAccuracy', () => {
  const outputs = tensor([
    [0.1, 0.5, 0.4], // label 2: second highest
    [0.3, 0.2, 0.5], // label 0: second highest
    [0.2, 0.7, 0.1], // label 2: third
  ]);

  it('counts a row when its label is among the k highest (integer and one-hot labels)', () => {
    const labels = tensor([2, 0, 2]);
    expect(topKAccuracy(1)(labels, outputs)).toBe(0);
    expect(topKAccuracy(2)(labels, outputs)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy(3)(labels, outputs)).toBe(1);
    expect(topKAccuracy(2)(tensor([[0, 0, 1], [1, 0, 0], [0, 0, 1]]), outputs)).toBeCloseTo(2 / 3, 12);
    expect(topKAccuracy(2)(tensor([[2], [0], [2]]), outputs)).toBeCloseTo(2 / 3, 12);
  });

  it('top-1 equals argmax accuracy on random outputs', () => {
    const rng = new Random(3);
    const out = new Tensor(Float32Array.from({ length: 200 * 7 }, () => rng.normal()), [200, 7]);
    const labels = new Tensor(Float32Array.from({ length: 200 }, () => rng.int(7)), [200]);
    let correct = 0;
    for (let r = 0; r < 200; r++) {
      const row = [...out.data.slice(r * 7, r * 7 + 7)];
      if (row.indexOf(Math.max(...row)) === labels.data[r]) correct++;
    }
    expect(topKAccuracy(1)(labels, out)).toBe(correct / 200);
  });

  it('classes tied with the k-th highest count as inside (tf.math.in_top_k)', () => {
    expect(topKAccuracy(1)(tensor([1]), tensor([[0.5, 0.5, 0]]))).toBe(1);
    expect(topKAccuracy(1)(tensor([0]), tensor([[0.5, 0.5, 0]]))).toBe(1);
    expect(topKAccuracy(1)(tensor([2]), tensor([[0.5, 0.5, 0]]))).toBe(0);
  });

  it('is NaN when an output is NaN', () => {
    expect(topKAccuracy(2)(tensor([0]), tensor([[NaN, 1, 2]]))).toBeNaN();
  });

  it('refuses bad k, k above the classes, bad labels and outputs', () => {
    expect(() => topKAccuracy(0)).toThrow('topKAccuracy: k must be an integer >= 1, got 0');
    expect(() => topKAccuracy(4)(tensor([0]), tensor([[1, 2, 3]]))).toThrow('topKAccuracy: k 4 exceeds the 3 classes of outputs [1,3]');
    expect(() => topKAccuracy(1)(tensor([3]), tensor([[1, 2, 3]]))).toThrow('topKAccuracy: labels value 3 at row 0 is not a class index in [0, 3)');
    expect(() => topKAccuracy(1)(tensor([0]), tensor([1, 2, 3]))).toThrow('topKAccuracy: outputs must be [batch, classes], got [3]');
    expect(() => topKAccuracy(1)(tensor([0, 1]), tensor([[1, 2, 3]]))).toThrow('topKAccuracy: 2 labels for 1 rows');
  });

  it('works as a named metric in evaluate', () => {
    const model = new Sequential([new Dense(4)]);
    const x = tensor([[1, 2], [3, 4], [5, 6]]);
    const result = evaluate(model, { x, y: tensor([0, 1, 2]) }, { metrics: [{ name: 'top4', fn: topKAccuracy(4) }, 'accuracy'] });
    expect(result.top4).toBe(1);
    expect(result.accuracy).toBeGreaterThanOrEqual(0);
  });
});

describe('confusionMatrix', () => {
  it('rows are the truth, columns the prediction (hand-worked)', () => {
    const m = confusionMatrix(tensor([0, 1, 1, 2, 2, 2]), Int32Array.of(0, 1, 0, 2, 1, 2), 3);
    expect(m.shape).toEqual([3, 3]);
    expect(m.toArray()).toEqual([[1, 0, 0], [1, 1, 0], [0, 1, 2]]);
  });

  it('takes one-hot labels and score predictions (argmax), and agrees with a naive count', () => {
    const rng = new Random(5);
    const scores = new Tensor(Float32Array.from({ length: 50 * 4 }, () => rng.normal()), [50, 4]);
    const truth = Array.from({ length: 50 }, () => rng.int(4));
    const oneHot = new Float32Array(200);
    truth.forEach((c, r) => (oneHot[r * 4 + c] = 1));
    const expected = Array.from({ length: 4 }, () => new Array<number>(4).fill(0));
    for (let r = 0; r < 50; r++) {
      const row = [...scores.data.slice(r * 4, r * 4 + 4)];
      expected[truth[r]!]![row.indexOf(Math.max(...row))]!++;
    }
    expect(confusionMatrix(new Tensor(oneHot, [50, 4]), scores, 4).toArray()).toEqual(expected);
    expect(confusionMatrix(Int32Array.from(truth), scores, 4).toArray()).toEqual(expected);
  });

  it('refuses NaN scores, out-of-range classes, mismatched rows and bad numClasses', () => {
    expect(() => confusionMatrix(tensor([0]), tensor([[NaN, 1]]), 2)).toThrow('confusionMatrix: predictions row 0 holds NaN, which has no class (predictions [1,2])');
    expect(() => confusionMatrix(tensor([0, 2]), tensor([0, 1]), 2)).toThrow('confusionMatrix: labels value 2 at row 1 is not a class index in [0, 2)');
    expect(() => confusionMatrix(tensor([0, 1]), tensor([0]), 2)).toThrow('confusionMatrix: 1 predictions for 2 rows');
    expect(() => confusionMatrix(tensor([0]), tensor([0]), 0)).toThrow('confusionMatrix: numClasses must be an integer >= 1, got 0');
    expect(() => confusionMatrix(tensor([[0, 1, 0]]), tensor([0]), 2)).toThrow('confusionMatrix: labels [1,3] are neither class indices [1] nor scores [1,2]');
  });
});
