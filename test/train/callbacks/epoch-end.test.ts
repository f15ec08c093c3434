/**
 * onEpochEnd against a hand-written training loop: the same model, the same
 * batches (shuffle off) and the same SGD steps, with the epoch means
 * computed by hand as sum_b(n_b * value_b) / sum_b(n_b) over batches of
 * 4, 4 and 2 rows (so a plain mean of the three would differ).
 */
import { describe, expect, it } from 'vitest';
import { SGD, Tensor, fit, fitAsync, noGrad, sliceRows, type EpochInfo, type Metric } from '../../../src/index.js';
import { meanSquaredError } from '../../../src/train/losses.js';
import { expectClose } from '../../helpers.js';
import { net, sameBits, snapshot, train as trainSet, val } from './scripted.js';

// Mean absolute error of a batch: a metric whose epoch mean is easy to redo by hand.
const mae: Metric = (y, out) => {
  let s = 0;
  for (let i = 0; i < y.data.length; i++) s += Math.abs(y.data[i]! - out.data[i]!);
  return s / y.data.length;
};

function data10(): { x: Tensor; y: Tensor } {
  const a = trainSet();
  const b = val();
  const x = new Float32Array([...a.x.data, ...b.x.data].slice(0, 30));
  const y = new Float32Array([...a.y.data, ...b.y.data].slice(0, 10));
  return { x: new Tensor(x, [10, 3]), y: new Tensor(y, [10, 1]) };
}

describe('onEpochEnd', () => {
  it('receives the epoch numbers, the step counts, and the batch-size-weighted means of a hand loop', () => {
    const d = data10();
    const model = net();
    const seen: EpochInfo[] = [];
    const h = fit(model, d, {
      optimizer: new SGD({ learningRate: 0.05 }), loss: meanSquaredError, batchSize: 4, epochs: 3, shuffle: false,
      metrics: [{ name: 'mae', fn: mae }], validationData: val(),
      callbacks: [{ onEpochEnd: (info) => void seen.push(info) }],
    });

    const hand = net();
    noGrad(() => hand.call(sliceRows(d.x, 0, 2), { isTraining: false }));
    const fresh = net();
    noGrad(() => fresh.call(sliceRows(d.x, 0, 2), { isTraining: false }));
    expect(sameBits(snapshot(hand), snapshot(fresh))).toBe(true); // same construction, same initial weights
    const sgd = new SGD({ learningRate: 0.05 });
    const expected: { loss: number; mae: number; plain: number }[] = [];
    for (let epoch = 0; epoch < 3; epoch++) {
      let lossSum = 0;
      let maeSum = 0;
      let plain = 0;
      for (const [s, e] of [[0, 4], [4, 8], [8, 10]] as const) {
        const x = sliceRows(d.x, s, e);
        const y = sliceRows(d.y, s, e);
        for (const p of hand.parameters()) p.grad = null;
        const out = hand.call(x, { isTraining: true });
        const l = meanSquaredError(y, out);
        const v = l.item();
        l.backward();
        noGrad(() => sgd.step(hand.parameters()));
        lossSum += (e - s) * v;
        maeSum += (e - s) * mae(y, out);
        plain += v / 3;
      }
      expected.push({ loss: lossSum / 10, mae: maeSum / 10, plain });
    }

    expect(seen.map((i) => i.epoch)).toEqual([0, 1, 2]);
    expect(seen.map((i) => i.step)).toEqual([3, 6, 9]);
    // Same float32 ops in the same order: equal to double rounding (1e-12 relative).
    expectClose(seen.map((i) => i.loss), expected.map((e) => e.loss), { atol: 0, rtol: 1e-12 });
    expectClose(seen.map((i) => i.metrics.mae!), expected.map((e) => e.mae), { atol: 0, rtol: 1e-12 });
    for (let k = 0; k < 3; k++) expect(Math.abs(seen[k]!.loss - expected[k]!.plain)).toBeGreaterThan(1e-6);
    // The validation of each epoch is the one fit ran at its end; History.epochs holds the same infos.
    expect(seen.map((i) => i.validation)).toEqual(h.validation);
    expect(h.epochs).toEqual(seen);
    expect(sameBits(snapshot(model), snapshot(hand))).toBe(true);
  });

  it('fires only after complete epochs, after that epoch\'s validation, also under fitAsync', async () => {
    const order: string[] = [];
    const h = await fitAsync(net(), data10(), {
      optimizer: new SGD({ learningRate: 0.05 }), loss: meanSquaredError, batchSize: 4, steps: 7, shuffle: false,
      validationData: val(), yieldEveryMs: 0,
      callbacks: [{
        onTrainBegin: (info) => void order.push(`begin ${info.totalSteps}/${info.stepsPerEpoch}`),
        onStepEnd: (s) => void order.push(`step ${s.step}`),
        onValidation: (v) => void order.push(`val ${v.step}`),
        onEpochEnd: (e) => void order.push(`epoch ${e.epoch}`),
        onTrainEnd: (hist) => void order.push(`end ${hist.stoppedBy}`),
      }],
    });
    expect(order).toEqual([
      'begin 7/3', 'step 1', 'step 2', 'step 3', 'val 3', 'epoch 0', 'step 4', 'step 5', 'step 6', 'val 6', 'epoch 1', 'step 7', 'end completed',
    ]);
    expect(h.epochs.length).toBe(2);
  });

  it('with validationEvery, an epoch carries the last validation inside it, or none', () => {
    const h = fit(net(), data10(), {
      optimizer: new SGD({ learningRate: 0.05 }), loss: meanSquaredError, batchSize: 4, epochs: 3, shuffle: false,
      validationData: val(), validationEvery: 5,
    });
    // Validations after steps 5 (epoch 1) and 10 (never: 9 steps); epoch 0 has none.
    expect(h.validation.map((v) => v.step)).toEqual([5]);
    expect(h.epochs.map((e) => e.validation?.step)).toEqual([undefined, 5, undefined]);
  });
});
