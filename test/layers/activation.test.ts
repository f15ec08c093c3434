/**
 * The `activation` option of Dense, Conv2d and BatchNorm (Keras's names) and
 * Sequential's fusion plan. References: the same layer without the option
 * followed by the activation op; 'relu' must give exactly the same floats
 * (values and gradients, compared with toEqual) through the fused op, and
 * 'sigmoid'/'tanh' the same floats as the separate op after the layer.
 */
import { describe, expect, it, vi } from 'vitest';
import {
  BatchNorm, Conv2d, Dense, Flatten, Random, ReLU, Sequential, StatelessLayer, Tensor, mul, relu, sigmoid, sum, tanh,
  type Activation, type Layer,
} from '../../src/index.js';

function randomTensor(shape: number[], seed: number): Tensor {
  const rng = new Random(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return new Tensor(data, shape);
}

/** Gradients of sum(w * f()) (w fixed and random) with respect to `params`, as copies. */
function gradsOf(params: Tensor[], f: () => Tensor, seed: number): Float32Array[] {
  for (const p of params) p.grad = null;
  const y = f();
  sum(mul(y, randomTensor([...y.shape], seed))).backward();
  return params.map((p) => Float32Array.from(p.grad!.data));
}

type Make = (activation?: Activation) => Layer;
const CASES: [string, Make, number[]][] = [
  ['Dense', (activation) => new Dense(5, { name: 'd', activation }), [6, 4]],
  ['Dense without bias', (activation) => new Dense(5, { name: 'd', useBias: false, activation }), [6, 4]],
  ['Conv2d', (activation) => new Conv2d(3, 2, { name: 'c', padding: 'same', activation }), [2, 4, 5, 2]],
  ['BatchNorm', (activation) => new BatchNorm({ name: 'b', activation }), [6, 4]],
];
const OPS = { relu, sigmoid, tanh } as const;

describe('activation option', () => {
  for (const [label, make, shape] of CASES) {
    for (const activation of ['relu', 'sigmoid', 'tanh'] as const) {
      it(`${label} with activation '${activation}' is the layer followed by ${activation}, to the bit`, () => {
        const x = randomTensor(shape, 1);
        const fused = make(activation);
        const plain = make(); // the same name, so the same seeded weights
        for (const isTraining of [true, false]) {
          const a = fused.call(x, { isTraining });
          const b = OPS[activation](plain.call(x, { isTraining }));
          expect(a.data).toEqual(b.data);
          const ga = gradsOf(fused.parameters(), () => fused.call(x, { isTraining }), 2);
          const gb = gradsOf(plain.parameters(), () => OPS[activation](plain.call(x, { isTraining })), 2);
          ga.forEach((g, i) => expect(g, `parameter ${i}`).toEqual(gb[i]));
        }
        expect([...fused.buffers().values()].map((t) => t.data)).toEqual([...plain.buffers().values()].map((t) => t.data));
        if (activation === 'relu') expect(fused.call(x, { isTraining: true }).data.some((v) => v === 0)).toBe(true);
      });
    }
  }

  it("'relu' runs the fused op, 'linear' and no option apply nothing", () => {
    const x = randomTensor([6, 4], 3);
    expect(new Dense(3, { activation: 'relu' }).call(x, { isTraining: true }).gradFn!.op).toBe('biasAddRelu');
    expect(new BatchNorm({ activation: 'relu' }).call(x, { isTraining: true }).gradFn!.op).toBe('batchNormRelu');
    expect(new BatchNorm({ activation: 'relu' }).call(x, { isTraining: false }).gradFn!.op).toBe('batchNormInferenceRelu');
    expect(new Dense(3, { activation: 'linear' }).call(x, { isTraining: true }).gradFn!.op).toBe('biasAdd');
    expect(new Dense(3).activation).toBe('linear');
    expect(new Conv2d(2, 1, { activation: 'tanh' }).activation).toBe('tanh');
  });

  it('rejects an unknown activation, naming the layer', () => {
    // @ts-expect-error not an activation
    expect(() => new Dense(3, { activation: 'softmax' })).toThrow("Dense: activation must be one of 'relu', 'sigmoid', 'tanh', 'linear', got 'softmax' (a string)");
    // @ts-expect-error not an activation
    expect(() => new BatchNorm({ activation: 'gelu' })).toThrow("BatchNorm: activation must be one of 'relu', 'sigmoid', 'tanh', 'linear'");
  });
});

describe('Sequential fusion plan', () => {
  it('decides the fusion when built: the ReLU layer is never called, and the list of layers cannot change', () => {
    const act = new ReLU();
    const spy = vi.spyOn(act, 'call');
    const model = new Sequential([new Dense(4), act, new Dense(2)]);
    const y = model.call(randomTensor([3, 5], 4), { isTraining: true });
    expect(spy).not.toHaveBeenCalled();
    expect(y.gradFn!.inputs[0]!.gradFn!.inputs[0]!.gradFn!.op).toBe('biasAddRelu');
    expect(Object.isFrozen(model.layers)).toBe(true);
    expect(() => (model.layers as Layer[]).push(new ReLU())).toThrow(TypeError);
  });

  it("does not touch the layers: a fused Dense called on its own still has activation 'linear'", () => {
    const dense = new Dense(4);
    const model = new Sequential([dense, new ReLU()]);
    const x = randomTensor([8, 3], 5);
    expect(model.call(x, { isTraining: false }).data.every((v) => v >= 0)).toBe(true);
    expect(dense.activation).toBe('linear');
    expect(dense.call(x, { isTraining: false }).data.some((v) => v < 0)).toBe(true);
  });

  it('a layer with its own activation is not fused again: the ReLU after it runs as its own op', () => {
    const act = new ReLU();
    const spy = vi.spyOn(act, 'call');
    const model = new Sequential([new BatchNorm({ activation: 'sigmoid' }), act]);
    const x = randomTensor([5, 3], 6);
    const y = model.call(x, { isTraining: true });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(y.gradFn!.op).toBe('relu');
    expect(y.gradFn!.inputs[0]!.gradFn!.op).toBe('sigmoid');
  });

  it('keeps the stateDict names of the lesson network (conv1, bn1, relu1, ...; checkpoints stay loadable)', () => {
    const model = new Sequential([
      new Conv2d(4, 3, { padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
      new Conv2d(8, 3, { strides: 2, padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
      new Flatten(), new Dense(10, { useBias: false }), new BatchNorm(), new ReLU(), new Dense(3),
    ]);
    model.call(randomTensor([2, 6, 6, 1], 7), { isTraining: true });
    expect(model.layers.map((l) => l.name)).toEqual(['conv1', 'bn1', 'relu1', 'conv2', 'bn2', 'relu2', 'flatten1', 'dense1', 'bn3', 'relu3', 'dense2']);
    expect([...model.stateDict().keys()]).toEqual([
      'conv1/kernel', 'bn1/gamma', 'bn1/beta', 'bn1/movingMean', 'bn1/movingVariance',
      'conv2/kernel', 'bn2/gamma', 'bn2/beta', 'bn2/movingMean', 'bn2/movingVariance',
      'dense1/kernel', 'bn3/gamma', 'bn3/beta', 'bn3/movingMean', 'bn3/movingVariance',
      'dense2/kernel', 'dense2/bias',
    ]);
  });
});

describe('StatelessLayer', () => {
  it('is the exported base of parameter-free layers and can be subclassed', () => {
    class Square extends StatelessLayer {
      readonly kind = 'square';
      constructor(opts: { name?: string } = {}) {
        super(opts.name ?? 'square');
      }
      protected apply(x: Tensor): Tensor {
        return mul(x, x);
      }
    }
    const sq = new Square();
    expect(sq.isBuilt).toBe(true);
    expect(sq.call(new Tensor(Float32Array.of(-2, 3), [2]), { isTraining: false }).toArray()).toEqual([4, 9]);
    expect(new ReLU()).toBeInstanceOf(StatelessLayer);
    expect(new Flatten()).toBeInstanceOf(StatelessLayer);
    expect([...sq.stateDict().keys()]).toEqual([]);
  });
});
