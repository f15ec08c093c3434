/**
 * The demo's model and step (demo/lesson.ts), in Node: the lesson's shape at
 * a reduced width, the batch tensors against the library's mnist batches,
 * and classify's probabilities against a softmax written out here.
 */
import { describe, expect, test } from 'vitest';
import { Adam, leafLayers, mnistSplit, mnistTensors, noGrad, Tensor } from '../../src/node.js';
import { batchTensors, classify, inferenceAccuracy, lessonModel, trainStep } from '../../demo/lesson.js';
import { expectClose } from '../helpers.js';

const tiny = { train: mnistSplit({ seed: 1, trainSize: 16, validationSize: 0, testSize: 0 }).train };

describe('demo lesson model', () => {
  test('keeps the lesson depth: 19 convs with width*i filters, a norm after each and after dense 100', () => {
    const m = lessonModel({ norm: 'bn', width: 2, seed: 1, momentum: 0.9 });
    noGrad(() => m.call(new Tensor(new Float32Array(2 * 784), [2, 28, 28, 1]), { isTraining: false }));
    const kinds = leafLayers(m).map((l) => l.layer.kind);
    expect(kinds.filter((k) => k === 'conv')).toHaveLength(19);
    expect(kinds.filter((k) => k === 'bn')).toHaveLength(20);
    const convs = leafLayers(m).filter((l) => l.layer.kind === 'conv').map((l) => [...l.layer.namedWeights().values()]);
    convs.forEach((w, i) => expect(w.map((t) => t.shape)).toEqual([[3, 3, i === 0 ? 1 : 2 * i, 2 * (i + 1)]])); // no bias with BN
    const none = lessonModel({ norm: 'none', width: 2, seed: 1, momentum: 0.9 });
    noGrad(() => none.call(new Tensor(new Float32Array(784), [1, 28, 28, 1]), { isTraining: false }));
    expect(leafLayers(none).some((l) => l.layer.kind === 'bn')).toBe(false);
    expect([...leafLayers(none)[0]!.layer.namedWeights().keys()]).toEqual(['kernel', 'bias']);
    const gn = lessonModel({ norm: 'gn', width: 2, seed: 1, momentum: 0.9 });
    noGrad(() => gn.call(new Tensor(new Float32Array(784), [1, 28, 28, 1]), { isTraining: false }));
    expect(leafLayers(gn).filter((l) => l.layer.kind === 'gn')).toHaveLength(20);
  });

  test('batchTensors gives the same x and y as mnistTensors', () => {
    const { train } = tiny;
    const rows = Array.from({ length: 16 }, (_, i) => i);
    const ours = batchTensors(train.images, train.labels, rows);
    const lib = mnistTensors(train);
    expect(ours.x.shape).toEqual([16, 28, 28, 1]);
    expectClose(ours.x.data, lib.x.data, { atol: 0, rtol: 0 });
    expectClose(ours.y.data, lib.y.data, { atol: 0, rtol: 0 });
    expect([...ours.labels]).toEqual([...lib.labels]);
  });

  test('classify is a softmax of the inference-mode logits; a training step changes the weights and returns finite numbers', () => {
    const { train } = tiny;
    const m = lessonModel({ norm: 'bn', width: 1, seed: 3, momentum: 0.9 });
    const b = batchTensors(train.images, train.labels, [0, 1, 2, 3, 4, 5, 6, 7]);
    noGrad(() => m.call(b.x, { isTraining: false })); // build
    const kernel = [...m.namedWeights().values()][0]!;
    const before = kernel.data.slice();
    const step = trainStep(m, new Adam({ learningRate: 0.01 }), b.x, b.y, b.labels);
    expect(kernel.data.some((v, i) => v !== before[i])).toBe(true);
    expect(Number.isFinite(step.loss)).toBe(true);
    expect(step.accuracy * 8).toBe(Math.round(step.accuracy * 8));
    const pixels = b.x.data.slice(0, 784);
    const logits = noGrad(() => m.call(new Tensor(pixels.slice(), [1, 28, 28, 1]), { isTraining: false })).data;
    const max = Math.max(...logits);
    const e = Array.from(logits, (v) => Math.exp(v - max));
    const z = e.reduce((s, v) => s + v, 0);
    expectClose(classify(m, pixels), Float32Array.from(e, (v) => v / z), { atol: 1e-6, rtol: 1e-5 });
    // Inference accuracy over the 8 rows equals the argmax count of the same logits.
    const all = noGrad(() => m.call(b.x, { isTraining: false })).data;
    let right = 0;
    for (let i = 0; i < 8; i++) {
      const row = Array.from(all.subarray(i * 10, i * 10 + 10));
      if (row.indexOf(Math.max(...row)) === b.labels[i]) right++;
    }
    expect(inferenceAccuracy(m, train.images, train.labels, 8, 3)).toBe(right / 8);
  });
});
