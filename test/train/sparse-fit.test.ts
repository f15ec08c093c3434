/**
 * sparseSoftmaxCrossEntropyWithLogits as the loss of `fit` with integer
 * labels [N], in a model using the new layers (LeakyReLU, Dropout, GELU):
 * it learns three blobs, and training on integer labels takes exactly the
 * steps that training on their one-hot form does (the two losses agree).
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, Dense, Dropout, GELU, LeakyReLU, Random, Sequential, Tensor, evaluate, fit, softmaxCrossEntropyWithLogits,
  sparseSoftmaxCrossEntropyWithLogits,
} from '../../src/index.js';

function blobs(n: number, seed: number): { x: Tensor; classes: Tensor; oneHot: Tensor } {
  const rng = new Random(seed);
  const centers = [[0, 3], [3, -2], [-3, -2]];
  const x = new Float32Array(n * 2);
  const classes = new Float32Array(n);
  const oneHot = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x[2 * i] = centers[c]![0]! + rng.normal() * 0.7;
    x[2 * i + 1] = centers[c]![1]! + rng.normal() * 0.7;
    classes[i] = c;
    oneHot[3 * i + c] = 1;
  }
  return { x: new Tensor(x, [n, 2]), classes: new Tensor(classes, [n]), oneHot: new Tensor(oneHot, [n, 3]) };
}

const model = (): Sequential =>
  new Sequential([new Dense(16), new LeakyReLU(), new Dropout(0.2, { seed: 1 }), new Dense(16), new GELU(), new Dense(3)]);

describe('fit with integer labels', () => {
  it('learns three blobs with sparseSoftmaxCrossEntropyWithLogits', () => {
    const data = blobs(300, 1);
    const m = model();
    const history = fit(m, { x: data.x, y: data.classes }, {
      optimizer: new Adam({ learningRate: 0.02 }), loss: sparseSoftmaxCrossEntropyWithLogits, batchSize: 30, epochs: 10, seed: 2,
    });
    expect(history.steps.at(-1)!.loss).toBeLessThan(history.steps[0]!.loss / 4);
    const test = blobs(150, 3);
    const result = evaluate(m, { x: test.x, y: test.classes }, { loss: sparseSoftmaxCrossEntropyWithLogits, metrics: ['accuracy'] });
    expect(result.accuracy).toBeGreaterThan(0.95);
  });

  it('takes the same steps as softmaxCrossEntropyWithLogits on the one-hot labels (to 1e-5)', () => {
    const data = blobs(90, 4);
    const run = (y: Tensor, loss: typeof softmaxCrossEntropyWithLogits): number[] => {
      const m = model();
      const history = fit(m, { x: data.x, y }, { optimizer: new Adam({ learningRate: 0.01 }), loss, batchSize: 30, epochs: 3, seed: 5 });
      return history.steps.map((s) => s.loss);
    };
    const sparse = run(data.classes, sparseSoftmaxCrossEntropyWithLogits);
    const dense = run(data.oneHot, softmaxCrossEntropyWithLogits);
    expect(sparse.length).toBe(9);
    sparse.forEach((v, i) => expect(Math.abs(v - dense[i]!)).toBeLessThan(1e-5));
  });
});
