/**
 * ONNX export, verified by running the exports in onnxruntime-web (wasm, in
 * Node) and comparing with normgrad's `predict` on the same NHWC input.
 * Tolerance: max |onnx - predict| <= 1e-5 * max |predict| (per test; the
 * measured figures are logged and reported in the commit).
 */
import { describe, expect, it } from 'vitest';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';
import {
  BatchNorm, Conv2d, Dense, Flatten, Layer, predict, Random, ReLU, recomputeBatchNormStatistics, Sequential, Sigmoid, sigmoid, Tanh, type Tensor,
} from '../../src/index.js';
import { toOnnx } from '../../src/interop/onnx/to-onnx.js';
import { onnxSchema } from '../../src/interop/onnx/graph.js';
import { uniform } from '../helpers.js';
import { maxRelativeDifference, runOnnx } from './ort.js';

const TOLERANCE = 1e-5;

/** Gives every BN random gamma/beta and moving statistics that look trained. */
function trainedLookingBatchNorm(model: Layer, inputs: Tensor, seed: number): void {
  recomputeBatchNormStatistics(model, [inputs]); // real per-channel statistics of these inputs
  const rng = new Random(seed);
  const visit = (layer: Layer): void => {
    if (layer instanceof Sequential) layer.layers.forEach(visit);
    if (!(layer instanceof BatchNorm)) return;
    layer.gamma?.data.forEach((_, i, a) => (a[i] = 0.5 + rng.next()));
    layer.beta?.data.forEach((_, i, a) => (a[i] = 0.2 * rng.normal()));
    layer.movingMean!.data.forEach((_, i, a) => (a[i] += 0.05 * rng.normal()));
    layer.movingVariance!.data.forEach((_, i, a) => (a[i] *= 0.8 + 0.4 * rng.next()));
  };
  visit(model);
}

async function compare(model: Layer, inputShape: number[], batch = 3, seed = 1): Promise<number> {
  const x = uniform([batch, ...inputShape], seed);
  model.call(x, { isTraining: false });
  const expected = predict(model, x);
  const actual = await runOnnx(toOnnx(model, { inputShape }), x);
  expect(actual.shape).toEqual(expected.shape);
  const rel = maxRelativeDifference(actual, expected);
  expect(rel).toBeLessThanOrEqual(TOLERANCE);
  return rel;
}

const measured: Record<string, number> = {};

describe('toOnnx, run in onnxruntime-web: each layer alone', () => {
  const bn = (shape: number[]): BatchNorm => {
    const layer = new BatchNorm({ epsilon: 1e-3 });
    layer.call(uniform([1, ...shape], 0), { isTraining: false });
    trainedLookingBatchNorm(layer, uniform([8, ...shape], 9, -2, 3), 5);
    return layer;
  };
  const cases: [string, () => Layer, number[]][] = [
    ['Dense with bias (Gemm)', () => new Dense(7), [5]],
    ['Dense without bias (MatMul)', () => new Dense(4, { useBias: false }), [6]],
    ['Conv2d 3x3 SAME stride 1', () => new Conv2d(4, 3, { padding: 'same' }), [7, 6, 2]],
    ['Conv2d 3x3 SAME stride 2 on odd sizes (symmetric pads)', () => new Conv2d(3, 3, { padding: 'same', strides: 2 }), [7, 9, 3]],
    ['Conv2d 3x3 SAME stride 2 on even sizes (asymmetric pads: extra at the bottom/right)', () => new Conv2d(3, 3, { padding: 'same', strides: 2 }), [8, 6, 2]],
    ['Conv2d 2x4 SAME strides [1, 3] (asymmetric in both axes), no bias', () => new Conv2d(5, [2, 4], { padding: 'same', strides: [1, 3], useBias: false }), [5, 10, 1]],
    ['Conv2d 3x2 VALID strides [2, 1]', () => new Conv2d(2, [3, 2], { padding: 'valid', strides: [2, 1] }), [9, 5, 3]],
    ['BatchNorm on images (NCHW inside)', () => bn([4, 5, 3]), [4, 5, 3]],
    ['BatchNorm on vectors', () => bn([6]), [6]],
    ['ReLU', () => new ReLU(), [3, 4, 2]],
    ['Sigmoid', () => new Sigmoid(), [5]],
    ['Tanh', () => new Tanh(), [2, 3, 4]],
    ['Flatten', () => new Flatten(), [3, 4, 2]],
  ];
  for (const [label, make, shape] of cases) {
    it(label, async () => {
      measured[label] = await compare(make(), shape);
    });
  }

  it('Flatten after a conv keeps normgrad\'s NHWC order (a Dense reads the flattened features)', async () => {
    const model = new Sequential([new Conv2d(3, 3, { padding: 'same' }), new ReLU(), new Flatten(), new Dense(5), new Tanh()]);
    measured['conv-flatten-dense'] = await compare(model, [5, 4, 2]);
  });

  it('the `activation` option of Dense, Conv2d and BatchNorm is exported after the layer', async () => {
    measured['dense with activation'] = await compare(new Sequential([new Dense(4, { activation: 'sigmoid' })]), [3]);
    measured['conv with activation'] = await compare(new Sequential([new Conv2d(3, 3, { padding: 'same', activation: 'relu' })]), [5, 4, 2]);
    measured['bn with activation'] = await compare(new Sequential([new Dense(4), new BatchNorm({ activation: 'tanh' })]), [3]);
  });
});

describe('toOnnx, run in onnxruntime-web: the lesson network', () => {
  it('gives predict()\'s logits for MNIST-shaped input (19 convs with BN, random weights, trained-looking statistics)', async () => {
    const model = lessonNetwork({ batchNorm: true, seed: 3 });
    const x = uniform([16, 28, 28, 1], 4, 0, 1);
    model.call(x, { isTraining: false });
    trainedLookingBatchNorm(model, x, 6);
    const expected = predict(model, x);
    const actual = await runOnnx(toOnnx(model, { inputShape: [28, 28, 1] }), x);
    const rel = maxRelativeDifference(actual, expected);
    measured['lesson network'] = rel;
    console.log(`toOnnx max |onnx - predict| / max |predict|: ${JSON.stringify(measured)}`);
    expect(rel).toBeLessThanOrEqual(TOLERANCE);
    expect(Array.from(actual.data).some((v, i) => v !== expected.data[i])).toBe(true); // really two engines
  }, 60_000);
});

describe('toOnnx: graph and errors', () => {
  it('transposes to NCHW once after the input and back once before Flatten', () => {
    const model = new Sequential([new Conv2d(2, 3, { padding: 'same' }), new BatchNorm(), new ReLU(), new Conv2d(2, 3), new Flatten(), new Dense(3)]);
    model.call(uniform([1, 6, 6, 1], 0), { isTraining: false });
    const proto = onnxSchema.ModelProto.decode(toOnnx(model, { inputShape: [6, 6, 1], opset: 13 }));
    expect(proto.graph!.node!.map((n) => n.opType)).toEqual(['Transpose', 'Conv', 'BatchNormalization', 'Relu', 'Conv', 'Transpose', 'Flatten', 'Gemm', 'Identity']);
    expect(Number(proto.opsetImport![0]!.version)).toBe(13);
    expect(proto.graph!.input![0]!.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))).toEqual(['batch', 6, 6, 1]);
    expect(proto.graph!.initializer!.map((t) => t.name)).toEqual(['conv1/kernel', 'conv1/bias', 'bn1/gamma', 'bn1/beta', 'bn1/movingMean', 'bn1/movingVariance', 'conv2/kernel', 'conv2/bias', 'dense1/kernel', 'dense1/bias']);
  });

  it('keeps the graph\'s input and output names when layers are named input and output', async () => {
    const model = new Sequential([new Dense(3, { name: 'input' }), new Tanh({ name: 'output' })]);
    measured['layers named input/output'] = await compare(model, [4]);
  });

  it('writes SAME padding as explicit [top, left, bottom, right] pads, the odd pixel bottom/right', () => {
    const conv = new Conv2d(1, 3, { padding: 'same', strides: 2 });
    conv.call(uniform([1, 8, 7, 1], 0), { isTraining: false });
    const node = onnxSchema.ModelProto.decode(toOnnx(conv, { inputShape: [8, 7, 1] })).graph!.node!.find((n) => n.opType === 'Conv')!;
    // height 8, stride 2: out 4, total (4-1)*2+3-8 = 1 -> 0 top, 1 bottom; width 7: out 4, total 2 -> 1, 1
    expect(node.attribute!.find((a) => a.name === 'pads')!.ints!.map(Number)).toEqual([0, 1, 1, 1]);
  });

  it('names an unsupported layer, and checks its options', () => {
    class Scale extends Layer {
      readonly kind = 'scale';
      constructor() { super('scale'); }
      protected forward(x: Tensor): Tensor { return x; }
    }
    const model = new Sequential([new Dense(2), new Scale()]);
    model.call(uniform([1, 3], 0), { isTraining: false });
    expect(() => toOnnx(model, { inputShape: [3] })).toThrow(/^toOnnx: layer 'scale1' \(Scale, kind 'scale'\) has no ONNX converter; supported kinds: dense, conv, bn/);
    expect(() => toOnnx(new Dense(2), { inputShape: [3] })).toThrow(/has no weights yet: call it once/);
    const dense = new Dense(2);
    dense.call(uniform([1, 3], 0), { isTraining: false });
    expect(() => toOnnx(dense, { inputShape: [4] })).toThrow(/toOnnx: layer 'dense' does not accept input \[1,4\]/);
    expect(() => toOnnx(dense, { inputShape: [3], opset: 9 })).toThrow(/opset must be an integer >= 13/);
    expect(() => toOnnx(dense, { inputShape: [3], opset: 99 })).toThrow(/opset must be at most 21/);
    expect(() => toOnnx(dense, { inputShape: [3], opsets: 13 } as never)).toThrow(/unknown option 'opsets' \(did you mean 'opset'\?\)/);
    expect(() => toOnnx(dense, {} as never)).toThrow(/inputShape must be the shape of one example/);
  });
});

describe('saveOnnx', () => {
  it('writes the same bytes as toOnnx to a file', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { saveOnnx } = await import('../../src/node.js');
    const dir = mkdtempSync(join(tmpdir(), 'normgrad-onnx-'));
    try {
      const dense = new Dense(2);
      dense.call(uniform([1, 3], 0), { isTraining: false });
      saveOnnx(dense, join(dir, 'm.onnx'), { inputShape: [3] });
      expect(new Uint8Array(readFileSync(join(dir, 'm.onnx')))).toEqual(toOnnx(dense, { inputShape: [3] }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
