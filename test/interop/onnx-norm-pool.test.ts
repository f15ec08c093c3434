/**
 * ONNX export of the pools, LayerNorm, GroupNorm, BatchNorm with renorm /
 * virtualBatchSize and Conv2d with dilation and groups, each alone and mixed
 * with a residual composite, verified by running the exports in
 * onnxruntime-web (wasm, in Node) against `predict`, at opsets 13 (LayerNorm
 * as ReduceMean formula) and 17 (LayerNormalization).
 * Tolerance: max |onnx - predict| <= 1e-5 * max |predict| (figures logged).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { AvgPool2d, BatchNorm, Dense, GroupNorm, LayerNorm, MaxPool2d, predict, Sequential, Tensor, type Layer } from '../../src/index.js';
import { onnxSchema } from '../../src/interop/onnx/graph.js';
import { toOnnx } from '../../src/interop/onnx/to-onnx.js';
import { expectClose, uniform } from '../helpers.js';
import { mixedModel, mixedModelFlatten, SINGLE_CASES, type NormPoolCase } from './norm-pool-models.js';
import { maxRelativeDifference, runOnnx } from './ort.js';

const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};
afterAll(() => console.log(`toOnnx (pools, norms, conv groups/dilation) max |onnx - predict| / max |predict|: ${JSON.stringify(measured)}`));

async function compare(label: string, { model, x, inputShape }: NormPoolCase, opset: number): Promise<void> {
  const expected = predict(model, x);
  const actual = await runOnnx(toOnnx(model, { inputShape, opset }), x);
  expect(actual.shape).toEqual(expected.shape);
  const rel = maxRelativeDifference(actual, expected);
  measured[`${label} @${opset}`] = rel;
  expect(rel).toBeLessThanOrEqual(TOLERANCE);
}

/** A Sequential of `layers`, built on zeros of `shape`. */
const built = (layers: Layer[], shape: number[]): Sequential => {
  const model = new Sequential(layers);
  model.call(new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape), { isTraining: false });
  return model;
};

const nodesOf = (model: Layer, inputShape: number[], opset = 17) =>
  onnxSchema.ModelProto.decode(toOnnx(model, { inputShape, opset })).graph!.node!;

describe('toOnnx, run in onnxruntime-web: pools, norms, conv with groups and dilation, each alone', () => {
  for (const [label, make] of SINGLE_CASES) {
    for (const opset of [13, 17]) it(`${label}, opset ${opset}`, () => compare(label, make(), opset));
  }
  it('GroupNorm and LayerNorm at opset 21 (the newest the exporter writes)', async () => {
    await compare('GroupNorm 2 groups on images after a conv', SINGLE_CASES.find(([l]) => l.startsWith('GroupNorm 2 groups on images'))![1](), 21);
    await compare('LayerNorm axis [1, 2, 3] on images', SINGLE_CASES.find(([l]) => l.startsWith('LayerNorm axis [1, 2, 3]'))![1](), 21);
  });
});

describe('toOnnx, run in onnxruntime-web: mixed models', () => {
  for (const opset of [13, 17]) {
    it(`conv (dilation, groups), GroupNorm, MaxPool SAME, residual composite, LayerNorm, AvgPool SAME, renorm BN, GlobalAvgPool, Dense; opset ${opset}`, () =>
      compare('mixed (global average head)', mixedModel(), opset));
    it(`instance norm, LayerNorm [1, 2, 3] and on vectors, residual composite, AvgPool, Flatten; opset ${opset}`, () =>
      compare('mixed (flatten head)', mixedModelFlatten(), opset));
  }
});

describe('toOnnx of pools and norms: the graph', () => {
  it('writes SAME pools as explicit asymmetric pads, average pools counting only cells inside the image', () => {
    const [, pool] = nodesOf(built([new AvgPool2d(3, { strides: 2, padding: 'same' })], [1, 7, 6, 2]), [7, 6, 2]);
    expect(pool!.opType).toBe('AveragePool');
    const attr = Object.fromEntries(pool!.attribute!.map((a) => [a.name, a.ints?.length ? a.ints.map(Number) : Number(a.i)]));
    // rows: out 4, total (4-1)*2+3-7 = 2 -> 1/1; columns: out 3, total (3-1)*2+3-6 = 1 -> 0/1 (the odd pixel right)
    expect(attr).toEqual({ kernel_shape: [3, 3], strides: [2, 2], pads: [1, 0, 1, 1], count_include_pad: 0 });
  });

  it('LayerNorm is LayerNormalization from opset 17 and the ReduceMean formula before; GroupNorm is InstanceNormalization over groups at every opset', () => {
    const ln = built([new LayerNorm()], [1, 4]);
    expect(nodesOf(ln, [4], 17).map((n) => n.opType)).toEqual(['LayerNormalization', 'Identity']);
    expect(nodesOf(ln, [4], 13).map((n) => n.opType)).toEqual(['ReduceMean', 'Sub', 'Mul', 'ReduceMean', 'Add', 'Sqrt', 'Div', 'Mul', 'Add', 'Identity']);
    const gn = built([new GroupNorm({ groups: 2 })], [1, 3, 3, 4]);
    for (const opset of [13, 18, 21]) {
      expect(nodesOf(gn, [3, 3, 4], opset).map((n) => n.opType)).toEqual(['Transpose', 'Reshape', 'InstanceNormalization', 'Shape', 'Reshape', 'Mul', 'Add', 'Transpose', 'Identity']);
    }
  });

  it('max pooling ignores pad cells even where every value is negative', async () => {
    const model = built([new MaxPool2d(2, { strides: 1, padding: 'same' })], [1, 3, 3, 1]);
    const x = new Tensor(Float32Array.from({ length: 9 }, (_, i) => -1 - i), [1, 3, 3, 1]);
    const y = await runOnnx(toOnnx(model, { inputShape: [3, 3, 1] }), x);
    // window at (r, c) covers (r..r+1, c..c+1) inside the image: the max is the top-left value.
    expect(y.shape).toEqual([1, 3, 3, 1]);
    expectClose(y.data, [-1, -2, -3, -4, -5, -6, -7, -8, -9], { atol: 0, rtol: 0 });
  });
});

describe('BatchNorm with renorm / virtualBatchSize: inference is the moving statistics', () => {
  it('predict() is (x - movingMean) / sqrt(movingVariance + epsilon) * gamma + beta, by a naive loop, for both', () => {
    for (const opts of [{ renorm: true, renormClipping: { rMax: 2, dMax: 1 } }, { virtualBatchSize: 4 }]) {
      const model = new Sequential([new Dense(3), new BatchNorm({ ...opts, momentum: 0.5 })]);
      model.call(uniform([1, 4], 39), { isTraining: false });
      for (let i = 0; i < 3; i++) model.call(uniform([8, 4], 40 + i, -1, 3), { isTraining: true });
      const bn = model.layers[1] as BatchNorm;
      const dense = model.layers[0] as Dense;
      const x = uniform([5, 4], 50);
      const h = predict(new Sequential([dense]), x);
      const expected = new Tensor(new Float32Array(15), [5, 3]);
      for (let n = 0; n < 5; n++) for (let c = 0; c < 3; c++) {
        const z = (h.data[n * 3 + c]! - bn.movingMean!.data[c]!) / Math.sqrt(bn.movingVariance!.data[c]! + bn.epsilon);
        expected.data[n * 3 + c] = z * bn.gamma!.data[c]! + bn.beta!.data[c]!;
      }
      expect(Array.from(bn.movingMean!.data).some((v) => Math.abs(v) > 0.05)).toBe(true); // training moved the statistics
      expectClose(predict(model, x).data, expected.data, { atol: 1e-5, rtol: 1e-5 });
    }
  });
});
