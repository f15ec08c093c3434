/**
 * The training loop: learning a small task with a BN network, the training
 * flag each entry point passes, seeded shuffling, stopping, non-finite
 * losses, and flat memory over hundreds of steps.
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor, noGrad, record, sliceRows, tensor } from '../../src/index.js';
import { Adam } from '../../src/optim/adam.js';
import { SGD } from '../../src/optim/sgd.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Dense } from '../../src/layers/dense.js';
import { ReLU } from '../../src/layers/activations.js';
import { Sequential } from '../../src/layers/sequential.js';
import { Layer } from '../../src/layers/layer.js';
import { NonFiniteLossError, fit } from '../../src/train/fit.js';
import { evaluate, predict } from '../../src/train/evaluate.js';
import { accuracy } from '../../src/train/metrics.js';
import { meanSquaredError, softmaxCrossEntropyWithLogits } from '../../src/train/losses.js';

/** Three Gaussian blobs in 2-D, one-hot labels. */
function blobs(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const centers = [[0, 3], [3, -2], [-3, -2]];
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    x[2 * i] = centers[c]![0]! + rng.normal() * 0.7 + 10; // offset: BN has something to normalize
    x[2 * i + 1] = centers[c]![1]! + rng.normal() * 0.7 - 5;
    y[3 * i + c] = 1;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n, 3]) };
}

function model(): Sequential {
  // momentum 0.9: the moving averages settle within the ~100 steps these tests take (0.99 would need ~500).
  return new Sequential([new Dense(16, { useBias: false }), new BatchNorm({ momentum: 0.9 }), new ReLU(), new Dense(3)]);
}

describe('fit', () => {
  it('a small BN network learns three blobs to high accuracy, and evaluate reports it', () => {
    const m = model();
    const train = blobs(300, 1);
    const history = fit(m, train, {
      optimizer: new Adam({ learningRate: 0.02 }),
      loss: softmaxCrossEntropyWithLogits,
      batchSize: 32, epochs: 15, seed: 3, dropLast: true, metrics: ['accuracy'],
      validationData: blobs(150, 2),
    });
    expect(history.steps.length).toBe(15 * 9);
    expect(history.validation.length).toBe(15);
    const first = history.steps[0]!.loss;
    const last = history.steps[history.steps.length - 1]!.loss;
    expect(last).toBeLessThan(first / 4);
    const result = evaluate(m, blobs(150, 4), { loss: softmaxCrossEntropyWithLogits });
    expect(result.accuracy).toBeGreaterThan(0.95);
    expect(result.loss).toBeLessThan(0.2);
    expect(history.validation.at(-1)!.metrics.accuracy).toBeGreaterThan(0.95);
  });

  it('trains with isTraining: true; evaluate and predict use isTraining: false under noGrad', () => {
    const seen: boolean[] = [];
    class Spy extends Layer {
      readonly kind = 'spy';
      constructor() {
        super('spy');
      }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        seen.push(isTraining);
        return x;
      }
    }
    const m = new Sequential([new Dense(3), new Spy()]);
    const data = blobs(12, 5);
    fit(m, data, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, batchSize: 4, epochs: 1 });
    // One inference call builds the unbuilt model, then three training steps.
    expect(seen).toEqual([false, true, true, true]);
    seen.length = 0;
    fit(m, data, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, batchSize: 4, epochs: 1 });
    expect(seen).toEqual([true, true, true]);
    seen.length = 0;
    evaluate(m, data, { batchSize: 5 });
    const out = predict(m, data.x, { batchSize: 5 });
    expect(seen).toEqual([false, false, false, false, false, false]);
    expect(out.shape).toEqual([12, 3]);
    expect(out.requiresGrad).toBe(false);
  });

  it('shuffles by seed: the same seed gives the same trained weights, another seed different ones', () => {
    const run = (seed: number): Float32Array => {
      const m = model();
      fit(m, blobs(64, 6), { optimizer: new SGD({ learningRate: 0.05 }), loss: softmaxCrossEntropyWithLogits, batchSize: 16, epochs: 2, seed });
      return Float32Array.from(m.stateDict().get('dense2/kernel')!.data);
    };
    expect(run(1)).toEqual(run(1));
    expect(run(1)).not.toEqual(run(2));
  });

  it('runs an exact number of steps across epochs, and dropLast skips a short last batch', () => {
    const data = blobs(10, 7);
    const h = fit(model(), data, { optimizer: new SGD({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 4, steps: 7, dropLast: true });
    expect(h.steps.map((s) => s.epoch)).toEqual([0, 0, 1, 1, 2, 2, 3]);
    // Without dropLast the last batch of 10 % 4 = 2 rows still trains BN (2 values per channel).
    const h2 = fit(model(), data, { optimizer: new SGD({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 4, epochs: 1 });
    expect(h2.steps.length).toBe(3);
  });

  it('callbacks receive step info and can stop training; an AbortSignal stops it too', () => {
    const infos: number[] = [];
    const h = fit(model(), blobs(64, 8), {
      optimizer: new SGD({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 5,
      callbacks: [{ onStepEnd: (info, control) => { infos.push(info.step); expect(info.ms).toBeGreaterThanOrEqual(0); if (info.step === 3) control.stop(); } }],
    });
    expect(infos).toEqual([1, 2, 3]);
    expect(h.stoppedBy).toBe('callback');
    const abort = new AbortController();
    const h2 = fit(model(), blobs(64, 8), {
      optimizer: new SGD({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 5, signal: abort.signal,
      callbacks: [{ onStepEnd: (info) => { if (info.step === 2) abort.abort(); } }],
    });
    expect(h2.steps.length).toBe(2);
    expect(h2.stoppedBy).toBe('signal');
  });

  it('stops with an error naming the step when the loss is not finite, keeping the last finite state', () => {
    const m = model();
    const data = blobs(32, 9);
    fit(m, data, { optimizer: new SGD({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 2 });
    const before = new Map([...m.stateDict()].map(([k, v]) => [k, Float32Array.from(v.data)]));
    let calls = 0;
    const poisoned = (labels: Tensor, logits: Tensor): Tensor => (++calls === 3 ? meanSquaredError(labels, tensor(logits.data.map(() => NaN), logits.shape)) : softmaxCrossEntropyWithLogits(labels, logits));
    let error: unknown;
    try {
      fit(m, data, { optimizer: new SGD({ learningRate: 0.01 }), loss: poisoned, batchSize: 8, steps: 5 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NonFiniteLossError);
    expect((error as Error).message).toMatch(/loss became NaN at step 3 \(epoch 0\)/);
    // Steps 1 and 2 trained; the state equals what they produced, and everything is finite.
    for (const t of m.stateDict().values()) expect(t.data.every(Number.isFinite)).toBe(true);
    expect(m.stateDict().get('bn1/movingMean')!.data).not.toEqual(before.get('bn1/movingMean'));
  });

  for (const bad of [NaN, Infinity, -Infinity]) {
    it(`stops when the loss is finite but a gradient holds ${bad}, before the optimizer step`, () => {
      // One Dense on inputs without zeros: a lone bad value in dL/dlogits stays itself (no Inf * 0 = NaN) in every gradient.
      const m = new Sequential([new Dense(3)]);
      const data = blobs(16, 12);
      noGrad(() => m.call(sliceRows(data.x, 0, 2), { isTraining: false })); // built, so the state below is complete
      const before = new Map([...m.stateDict()].map(([k, v]) => [k, Float32Array.from(v.data)]));
      // A finite loss whose backward puts one bad value into the logits' gradient.
      const poisoned = (_labels: Tensor, logits: Tensor): Tensor =>
        record('poisoned', Float32Array.of(1), [], [logits], () => [Float32Array.from(logits.data, (_, i) => (i === 5 ? bad : 0))]);
      let error: unknown;
      try {
        fit(m, data, { optimizer: new SGD({ learningRate: 0.01 }), loss: poisoned, batchSize: 8, steps: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NonFiniteLossError);
      expect((error as Error).message).toMatch(/a gradient became non-finite \(loss 1\) at step 1/);
      expect(before.size).toBeGreaterThan(0);
      for (const [k, t] of m.stateDict()) expect(t.data, k).toEqual(before.get(k));
    });
  }

  it('keeps memory flat over hundreds of steps (each step graph is released)', () => {
    const m = model();
    const data = blobs(64, 10);
    const opts = { optimizer: new Adam({ learningRate: 0.001 }), loss: softmaxCrossEntropyWithLogits, batchSize: 16 };
    fit(m, data, { ...opts, steps: 50 });
    globalThis.gc?.();
    // @isolated: heap growth is measured here, so this file runs in its own module graph in test:unit.
    const start = process.memoryUsage().heapUsed;
    fit(m, data, { ...opts, steps: 400 });
    globalThis.gc?.();
    const growth = process.memoryUsage().heapUsed - start;
    // A leaked graph per step would hold every activation: 400 steps x ~10 KB = 4 MB+ plus closures.
    expect(growth).toBeLessThan(8 * 1024 * 1024);
    // The graph really is gone: the loss of a finished step has no inputs left.
    const out = m.call(data.x, { isTraining: true });
    const loss = softmaxCrossEntropyWithLogits(data.y, out);
    loss.backward();
    expect(loss.gradFn?.inputs.length ?? 0).toBe(0);
  });

  it('rejects bad options with clear errors', () => {
    const data = blobs(8, 11);
    const base = { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits };
    expect(() => fit(model(), data, { ...base, batchSize: 0 })).toThrow('fit: batchSize must be a positive integer, got 0');
    expect(() => fit(model(), { x: data.x, y: tensor([1, 2]) }, base)).toThrow(/fit: x \[8,2\] and y \[2\]/);
    expect(() => fit(model(), data, { ...base, batchSize: 16, dropLast: true })).toThrow(/no batch of 16 fits in 8/);
    expect(() => fit(model(), data, { ...base, metrics: ['f1'] })).toThrow(/unknown metric 'f1'/);
  });
});

describe('accuracy', () => {
  it('counts argmax matches for one-hot and integer labels', () => {
    const out = tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]]);
    expect(accuracy(tensor([[0, 1], [0, 1], [0, 1]]), out)).toBeCloseTo(2 / 3, 6);
    expect(accuracy(tensor([1, 0, 0]), out)).toBeCloseTo(2 / 3, 6);
    expect(() => accuracy(tensor([1, 0]), out)).toThrow(/labels \[2\] do not match outputs \[3,2\]/);
    expect(noGrad(() => accuracy(tensor([[1], [0], [1]]), out))).toBe(1);
  });
});

describe('fit and Sequential leave no half-changed state', () => {
  it('the first step of an unbuilt model already updates its weights', () => {
    const m = model();
    const data = blobs(16, 12);
    fit(m, data, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 1 });
    const twin = model();
    predict(twin, sliceRows(data.x, 0, 2)); // build only
    expect(m.stateDict().get('dense1/kernel')!.data).not.toEqual(twin.stateDict().get('dense1/kernel')!.data);
  });

  it('a step that throws (labels of the wrong shape) restores the moving statistics', () => {
    const m = model();
    const data = blobs(16, 13);
    fit(m, data, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 1 });
    const before = Float32Array.from(m.stateDict().get('bn1/movingMean')!.data);
    const badLabels = { x: data.x, y: new Tensor(new Float32Array(16 * 2), [16, 2]) };
    expect(() => fit(m, badLabels, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 1 })).toThrow(/labels \[8,2\] and logits \[8,3\]/);
    expect(m.stateDict().get('bn1/movingMean')!.data).toEqual(before);
  });

  it('a training call that a later layer rejects leaves the earlier BN statistics as they were', () => {
    const m = model();
    m.call(blobs(8, 14).x, { isTraining: true });
    const before = Float32Array.from(m.stateDict().get('bn1/movingMean')!.data);
    // Dense(16) then BN accept any batch; the last Dense was built for 16 features, so feed it a wrong width via a 3-feature input.
    expect(() => m.call(new Tensor(new Float32Array(8 * 3), [8, 3]), { isTraining: true })).toThrow(/dense1: input \[8,3\] has 3 features/);
    expect(m.stateDict().get('bn1/movingMean')!.data).toEqual(before);
  });
});
