/**
 * ONNX export of the layers added after the first exporter (LeakyReLU, ELU,
 * GELU both forms at opsets 17 and 20, Softmax, Dropout) and of composites
 * traced through their own forward (a residual CNN trained in normgrad),
 * verified by running the exports in onnxruntime-web (wasm, in Node) against
 * `predict`. Tolerance: max |onnx - predict| <= 1e-5 * max |predict|.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  Conv2d, Dense, Dropout, ELU, Flatten, GELU, Layer, LeakyReLU, predict, ReLU, Sequential, Softmax, Tensor, add, leakyRelu, mul, relu, sigmoid,
} from '../../src/index.js';
import { ONNX_CONVERTERS } from '../../src/interop/onnx/converters.js';
import { onnxSchema } from '../../src/interop/onnx/graph.js';
import { toOnnx } from '../../src/interop/onnx/to-onnx.js';
import { uniform } from '../helpers.js';
import { maxRelativeDifference, runOnnx } from './ort.js';
import { RESIDUAL_INPUT_SHAPE, ResidualBlock, trainedResidualCnn } from './residual-model.js';

const TOLERANCE = 1e-5;
const measured: Record<string, number> = {};
afterAll(() => console.log(`toOnnx (new layers, composites) max |onnx - predict| / max |predict|: ${JSON.stringify(measured)}`));

async function compare(label: string, model: Layer, inputShape: number[], opset = 17, x = uniform([4, ...inputShape], 1, -3, 3)): Promise<void> {
  model.call(x, { isTraining: false });
  const expected = predict(model, x);
  const actual = await runOnnx(toOnnx(model, { inputShape, opset }), x);
  expect(actual.shape).toEqual(expected.shape);
  const rel = maxRelativeDifference(actual, expected);
  measured[label] = rel;
  expect(rel).toBeLessThanOrEqual(TOLERANCE);
}

const opTypes = (model: Layer, inputShape: number[], opset = 17): string[] =>
  onnxSchema.ModelProto.decode(toOnnx(model, { inputShape, opset })).graph!.node!.map((n) => n.opType!);

describe('toOnnx, run in onnxruntime-web: the new layers alone', () => {
  const cases: [string, () => Layer, number[], number?][] = [
    ['LeakyReLU alpha 0.3', () => new LeakyReLU(), [3, 4, 2]],
    ['LeakyReLU alpha 0.05', () => new LeakyReLU({ alpha: 0.05 }), [5]],
    ['ELU alpha 1', () => new ELU(), [3, 4, 2]],
    ['ELU alpha 0.7', () => new ELU({ alpha: 0.7 }), [6]],
    ['GELU exact, opset 17 (Erf formula)', () => new GELU(), [3, 4, 2], 17],
    ['GELU tanh, opset 17 (tanh formula)', () => new GELU({ approximate: 'tanh' }), [3, 4, 2], 17],
    ['GELU exact, opset 20 (Gelu op)', () => new GELU(), [7], 20],
    ['GELU tanh, opset 20 (Gelu op)', () => new GELU({ approximate: 'tanh' }), [7], 20],
    ['Softmax last axis', () => new Softmax(), [6]],
    ['Softmax on images, axis -1', () => new Softmax(), [3, 4, 5]],
    ['Softmax on images, axis 1', () => new Softmax({ axis: 1 }), [3, 4, 5]],
    ['Dropout (identity)', () => new Dropout(0.5), [3, 4, 2]],
  ];
  for (const [label, make, shape, opset] of cases) it(label, () => compare(label, make(), shape, opset));

  it('writes the Gelu op at opset 20 and the formulas before; drops Dropout', () => {
    expect(opTypes(new GELU(), [3], 20)).toEqual(['Gelu', 'Identity']);
    expect(opTypes(new GELU(), [3], 17)).toEqual(['Div', 'Erf', 'Add', 'Mul', 'Mul', 'Identity']);
    expect(opTypes(new Dropout(0.5), [3])).toEqual(['Identity']);
  });

  it('Softmax after a conv-shaped image in NCHW goes back to NHWC first (axis meant in NHWC)', async () => {
    const model = new Sequential([new Conv2d(3, 3, { padding: 'same' }), new Softmax({ axis: 2 })]);
    await compare('conv then Softmax axis 2', model, [4, 5, 2]);
    expect(opTypes(model, [4, 5, 2])).toEqual(['Transpose', 'Conv', 'Transpose', 'Softmax', 'Identity']);
  });
});

describe('toOnnx of composites (traced forward)', () => {
  it('a residual CNN (custom ResidualBlock, Dropout, GELU, Softmax) trained 5 Adam steps gives predict()\'s outputs', async () => {
    const { model, x } = trainedResidualCnn();
    const bytes = toOnnx(model, { inputShape: RESIDUAL_INPUT_SHAPE });
    const expected = predict(model, x);
    const rel = maxRelativeDifference(await runOnnx(bytes, x), expected);
    measured['residual CNN, trained'] = rel;
    expect(rel).toBeLessThanOrEqual(TOLERANCE);
    const proto = onnxSchema.ModelProto.decode(bytes);
    const types = proto.graph!.node!.map((n) => n.opType);
    expect(types.filter((t) => t === 'Add' || t === 'Conv')).toEqual(['Conv', 'Conv', 'Conv', 'Add', 'Conv', 'Conv', 'Add', 'Add']); // 2 residual Adds, 1 in GELU
    expect(types.filter((t) => t === 'Transpose')).toHaveLength(2); // in once, back once before Flatten: the Add stays NCHW
    const names = proto.graph!.initializer!.map((t) => t.name);
    expect(names).toContain('block1/conv1/kernel');
    expect(names).toContain('block2/bn2/movingVariance');
  }, 60_000);

  it('the composite alone as the model, a composite nested in a composite, and ops with constants and own weights', async () => {
    const block = new ResidualBlock(3, 'block');
    await compare('ResidualBlock alone', block, [5, 4, 3]);

    class Outer extends Layer {
      readonly kind = 'outer';
      inner = new ResidualBlock(2, 'inner');
      gate = new Conv2d(2, 1);
      head = new Sequential([new LeakyReLU({ alpha: 0.1 }), new Flatten(), new Dense(3)]);
      scale: Tensor = new Tensor(Float32Array.of(0.5, 2), [2]);
      constructor() { super('outer'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        const o = { isTraining };
        const y = this.inner.call(x, o); // [N, H, W, 2]
        const g = sigmoid(this.gate.call(y, o)); // a 1x1 conv: y * g stays NCHW, * scale ([2]) broadcasts in NHWC
        return this.head.call(add(mul(mul(y, g), this.scale), 1), o);
      }
      override weights(): Map<string, Tensor> { return new Map([['scale', this.scale]]); }
    }
    await compare('nested composites, broadcasting constants', new Outer(), [4, 3, 2]);

    class Twice extends Layer {
      readonly kind = 'twice';
      dense = new Dense(3);
      constructor() { super('twice'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        return this.dense.call(relu(this.dense.call(x, { isTraining })), { isTraining }); // one child, called twice
      }
    }
    await compare('one child called twice', new Twice(), [3]);
  });

  it('a kind with an ONNX_CONVERTERS entry is converted by it, not traced (the explicit protocol)', async () => {
    class Gated extends Layer {
      readonly kind = 'gatedTest';
      conv = new Conv2d(2, 3, { padding: 'same' });
      constructor() { super('gated'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor { return mul(x, sigmoid(this.conv.call(x, { isTraining }))); }
    }
    ONNX_CONVERTERS.gatedTest = (layer, x, ctx) => {
      const gate = ctx.convert((layer as Gated).conv, x, 'conv');
      const s = ctx.graph.node('Sigmoid', [gate.name], `${ctx.path}/gate`);
      return { name: ctx.graph.node('Mul', [ctx.as(x, gate.layout), s], ctx.path), layout: gate.layout, probe: ctx.output };
    };
    try {
      const model = new Gated();
      await compare('explicit converter (gated conv)', model, [4, 4, 2]);
      const proto = onnxSchema.ModelProto.decode(toOnnx(model, { inputShape: [4, 4, 2] }));
      expect(proto.graph!.node!.map((n) => n.name)).toContain('gated/gate');
      expect(proto.graph!.initializer!.map((t) => t.name)).toEqual(['conv/kernel', 'conv/bias']); // the state-dict names
    } finally {
      delete ONNX_CONVERTERS.gatedTest;
    }
  });

  it('leaves the children\'s call methods as they were, and refuses a tensor it cannot trace to the input', () => {
    const block = new ResidualBlock(2, 'block');
    block.call(uniform([1, 4, 4, 2], 0), { isTraining: false });
    toOnnx(block, { inputShape: [4, 4, 2] });
    expect(Object.hasOwn(block.conv1, 'call')).toBe(false);
    class Hidden extends Layer {
      readonly kind = 'hidden';
      dense = new Dense(2);
      private readonly offset = new Tensor(Float32Array.of(1, 2), [2]); // not a declared weight: the exporter cannot name it
      constructor() { super('hidden'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor { return add(this.dense.call(x, { isTraining }), this.offset); }
    }
    const hidden = new Hidden();
    hidden.call(uniform([1, 3], 0), { isTraining: false });
    expect(() => toOnnx(hidden, { inputShape: [3] })).toThrow(/^toOnnx: layer 'hidden' \(Hidden, kind 'hidden'\): its forward reads a tensor \[2\] that is not derived from its input/);
    expect(Object.hasOwn(hidden.dense, 'call')).toBe(false); // restored after the error too
  });

  it('an op the graph cannot describe is an error naming it and the layer', () => {
    class Leaky extends Layer {
      readonly kind = 'leaky';
      dense = new Dense(2);
      constructor() { super('leaky'); }
      protected forward(x: Tensor, isTraining: boolean): Tensor { return leakyRelu(this.dense.call(x, { isTraining })); }
    }
    const model = new Sequential([new ReLU(), new Leaky()]);
    model.call(uniform([1, 3], 0), { isTraining: false });
    expect(() => toOnnx(model, { inputShape: [3] })).toThrow(/^toOnnx: layer 'leaky1' \(Leaky, kind 'leaky'\): its forward uses the op 'leakyRelu' \(output \[1,2\]\), which the exporter cannot read/);
  });
});
