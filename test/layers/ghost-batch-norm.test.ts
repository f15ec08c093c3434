/**
 * BatchNorm({ virtualBatchSize }) (ghost batch norm, Keras' virtual_batch_size)
 * against batch norm run by hand on each virtual batch (Keras' strided split:
 * virtual batch j holds examples j, j + G, ... with G = B / V): outputs and
 * gradients equal to the bit (same kernels); moving statistics as Keras
 * updates them (the mean over virtual batches of their means and variances,
 * rtol 1e-6); gradcheck of ghostBatchNormTraining (eps 1e-3, atol 1e-3,
 * rtol 1e-2); inference unchanged; renorm combined; errors.
 */
import { describe, expect, it } from 'vitest';
import {
  BatchNorm, Tensor, backward, batchNormInference, batchNormTraining, ghostBatchNormTraining, gradcheck, randomNormal, renormAffine,
} from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';

/** Rows j, j + G, j + 2G, ... of x (G = B / V): Keras' virtual batch j. */
function ghostRows(x: Tensor, v: number, j: number): Tensor {
  const b = x.shape[0]!;
  const g = b / v;
  const row = x.size / b;
  const data = new Float32Array(v * row);
  for (let t = 0; t < v; t++) data.set(x.data.subarray((t * g + j) * row, (t * g + j + 1) * row), t * row);
  return new Tensor(data, [v, ...x.shape.slice(1)]).requireGrad();
}

describe('BatchNorm virtualBatchSize', () => {
  for (const shape of [[12, 5], [6, 3, 2, 4]]) {
    it(`equals batch norm on each virtual batch by hand, values and gradients, ${JSON.stringify(shape)}`, () => {
      const v = shape[0] === 12 ? 4 : 2;
      const c = shape[shape.length - 1]!;
      const bn = new BatchNorm({ virtualBatchSize: v });
      const x = randomNormal(shape, { seed: 3, mean: 2, stddev: 3 }).requireGrad();
      bn.call(x, { isTraining: false }); // build
      bn.gamma!.data.set(uniform([c], 1, 0.5, 1.5).data);
      bn.beta!.data.set(uniform([c], 2).data);
      const w = uniform(shape, 4);
      const y = bn.call(x, { isTraining: true });
      backward(y, { grad: w.data });
      const g = shape[0]! / v;
      const gGamma = new Float64Array(c);
      const gBeta = new Float64Array(c);
      const means: Float32Array[] = [];
      const variances: Float32Array[] = [];
      const gamma = new Tensor(Float32Array.from(bn.gamma!.data), [c]).requireGrad();
      const beta = new Tensor(Float32Array.from(bn.beta!.data), [c]).requireGrad();
      for (let j = 0; j < g; j++) {
        const xj = ghostRows(x, v, j);
        const r = batchNormTraining(xj, gamma, beta, 1e-3);
        expect(Array.from(r.y.data)).toEqual(Array.from(ghostRows(y, v, j).data));
        gamma.grad = null;
        beta.grad = null;
        backward(r.y, { grad: ghostRows(w, v, j).data });
        expect(Array.from(xj.grad!.data)).toEqual(Array.from(ghostRows(x.grad!, v, j).data));
        for (let k = 0; k < c; k++) {
          gGamma[k]! += gamma.grad!.data[k]!;
          gBeta[k]! += beta.grad!.data[k]!;
        }
        means.push(r.mean);
        variances.push(r.variance);
      }
      expectClose(bn.gamma!.grad!.data, gGamma, { atol: 1e-6, rtol: 1e-6 });
      expectClose(bn.beta!.grad!.data, gBeta, { atol: 1e-6, rtol: 1e-6 });
      // Keras: moving = momentum * moving + (1 - momentum) * mean over virtual batches; here with Bessel for m per virtual batch.
      const m = x.size / c / g;
      for (let k = 0; k < c; k++) {
        const mean = means.reduce((a, t) => a + t[k]!, 0) / g;
        const variance = variances.reduce((a, t) => a + t[k]!, 0) / g;
        expectClose([bn.movingMean!.data[k]!], [0.01 * mean], { rtol: 1e-6 });
        expectClose([bn.movingVariance!.data[k]!], [0.99 + 0.01 * (m / (m - 1)) * variance], { rtol: 1e-6 });
      }
    });
  }

  it('inference is unchanged: the moving statistics, any batch size', () => {
    const bn = new BatchNorm({ virtualBatchSize: 4 });
    bn.call(randomNormal([8, 3], { seed: 5, mean: 1 }), { isTraining: true });
    const x = randomNormal([5, 3], { seed: 6 });
    const expected = batchNormInference(x, bn.movingMean!, bn.movingVariance!, bn.gamma, bn.beta, 1e-3);
    expect(Array.from(bn.call(x, { isTraining: false }).data)).toEqual(Array.from(expected.data));
  });

  it('gradcheck of ghostBatchNormTraining, with a fused ReLU too', () => {
    for (const relu of [false, true]) {
      const report = gradcheck(
        (x, g, b) => ghostBatchNormTraining(x, g, b, 1e-3, { virtualBatchSize: 3, relu }).y,
        [uniform([6, 2, 3], 7), uniform([3], 8, 0.5, 1.5), uniform([3], 9, 0.3, 0.6)],
      );
      expect(report.ok).toBe(true);
    }
  });

  it('with renorm, r and d come from the averaged virtual-batch statistics (Keras)', () => {
    const bn = new BatchNorm({ renorm: true, virtualBatchSize: 2, renormClipping: { rMax: 1.2, dMax: 0.3 } });
    const x = randomNormal([6, 2], { seed: 10, mean: 1.5, stddev: 2 });
    const y = bn.call(x, { isTraining: true });
    const ref = ghostBatchNormTraining(x, null, null, 1e-3, { virtualBatchSize: 2 });
    const r = new Float32Array(2);
    const d = new Float32Array(2);
    for (let k = 0; k < 2; k++) {
      r[k] = Math.min(Math.max(Math.sqrt(ref.variance[k]! + 1e-3), 1 / 1.2), 1.2); // renormStddev 1, renormMean 0 initially
      d[k] = Math.min(Math.max(ref.mean[k]!, -0.3), 0.3);
    }
    const { gamma, beta } = renormAffine(new Tensor(Float32Array.of(1, 1), [2]), new Tensor(Float32Array.of(0, 0), [2]), r, d);
    const expected = ghostBatchNormTraining(x, gamma, beta, 1e-3, { virtualBatchSize: 2 });
    expect(Array.from(y.data)).toEqual(Array.from(expected.y.data));
    expectClose(bn.renormMean!.data, Array.from(ref.mean, (mu) => 0.01 * mu), { rtol: 1e-6 });
  });

  it('refuses a batch it cannot split, naming the layer and the shapes', () => {
    const bn = new BatchNorm({ virtualBatchSize: 4 });
    expect(() => bn.call(randomNormal([10, 3], { seed: 1 }), { isTraining: true })).toThrow('bn: batch 10 of input [10,3] is not divisible by virtualBatchSize 4');
    expect(() => new BatchNorm({ virtualBatchSize: 0 })).toThrow('BatchNorm: virtualBatchSize must be an integer >= 1');
    expect(() => ghostBatchNormTraining(randomNormal([4, 3], { seed: 1 }), null, null, 1e-3, { virtualBatchSize: 1 })).toThrow(
      'ghostBatchNormTraining: training needs at least 2 values per channel in each virtual batch, input [4,3] with virtualBatchSize 1 has 1',
    );
  });
});

describe('renorm and virtual batches with a fused ReLU', () => {
  it("activation 'relu' gives max(y, 0) of the same layer without it, to the bit", () => {
    const x = randomNormal([8, 2, 2, 3], { seed: 20, mean: 0.5 });
    for (const opts of [{ renorm: true, renormClipping: { rMax: 1.5, dMax: 0.5 } }, { virtualBatchSize: 4 }, { renorm: true, virtualBatchSize: 2 }]) {
      const fused = new BatchNorm({ ...opts, activation: 'relu' });
      const plain = new BatchNorm(opts);
      for (let step = 0; step < 2; step++) {
        const xs = randomNormal([8, 2, 2, 3], { seed: 21 + step, mean: 1 + step });
        const a = fused.call(xs, { isTraining: true });
        const b = plain.call(xs, { isTraining: true });
        expect(Array.from(a.data)).toEqual(Array.from(b.data, (v) => (v > 0 ? v : 0)));
      }
      expect(Array.from(fused.call(x, { isTraining: false }).data)).toEqual(Array.from(plain.call(x, { isTraining: false }).data, (v) => (v > 0 ? v : 0)));
    }
  });
});
