/**
 * fit's non-finite guard covers everything a step writes: parameters,
 * optimizer slots and moving statistics. A step that leaves a NaN or an
 * infinity in any of them throws, naming the tensor, and the state from
 * before the step (finite, bit for bit) is put back.
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor, fromBytes, noGrad, toBytes } from '../../src/index.js';
import { Adam } from '../../src/optim/adam.js';
import { SGD } from '../../src/optim/sgd.js';
import type { Optimizer } from '../../src/optim/optimizer.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Dense } from '../../src/layers/dense.js';
import { ReLU } from '../../src/layers/activations.js';
import { Sequential } from '../../src/layers/sequential.js';
import { NonFiniteLossError, NonFiniteStateError, fit } from '../../src/train/fit.js';
import { softmaxCrossEntropyWithLogits } from '../../src/train/losses.js';

function data(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = new Float32Array(n * 2);
  const y = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    x[2 * i] = rng.normal();
    x[2 * i + 1] = rng.normal();
    y[3 * i + (i % 3)] = 1;
  }
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n, 3]) };
}

const net = (): Sequential => new Sequential([new Dense(4), new BatchNorm(), new ReLU(), new Dense(3)]);

/** Copies of every model tensor and of the optimizer's state, by name. */
function snapshot(model: Sequential, opt: Optimizer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const names = new Map<Tensor, string>();
  for (const [name, t] of model.stateDict()) {
    out.set(name, [...t.data]);
    names.set(t, name);
  }
  for (const [name, t] of opt.stateDict(names)) out.set(`optimizer/${name}`, [...t.data]);
  return out;
}

function allFinite(s: Map<string, number[]>): boolean {
  return [...s.values()].every((v) => v.every(Number.isFinite));
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('fit: the non-finite guard', () => {
  it('a learning rate of 1e40 at step 3: throws naming the parameter, and steps 1-2 state is back (finite, bit for bit)', () => {
    const model = net();
    // momentum: the velocity slot is written by the step too.
    const opt = new SGD({ learningRate: (step) => (step <= 2 ? 0.01 : 1e40), momentum: 0.9 });
    let afterStep2: Map<string, number[]> | null = null;
    const e = thrown(() => fit(model, data(24, 1), {
      optimizer: opt, loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 2,
      callbacks: [{ onStepEnd: ({ step }) => { if (step === 2) afterStep2 = snapshot(model, opt); } }],
    }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    expect(e).toBeInstanceOf(NonFiniteLossError); // one catch covers both
    const err = e as NonFiniteStateError;
    expect(err.step).toBe(3);
    expect(err.tensor).toBe('dense1/kernel'); // the first written tensor in stateDict order
    expect(err.message).toMatch(/fit: step 3 \(epoch 0\) left 'dense1\/kernel' with \d+ of 8 values non-finite/);
    expect(err.message).toMatch(/back to their values from before this step/);
    expect(afterStep2).not.toBeNull();
    const now = snapshot(model, opt);
    expect(allFinite(now)).toBe(true);
    expect(now).toEqual(afterStep2);
    expect(opt.iterations).toBe(2);
  });

  it('SGD({ learningRate: 1e40 }) from the first step: throws at step 1 and the initial weights are back, bit for bit', () => {
    const model = net();
    const d = data(16, 7);
    noGrad(() => model.call(d.x, { isTraining: false })); // build, so the initial weights can be copied
    const opt = new SGD({ learningRate: 1e40 });
    const before = snapshot(model, opt);
    const e = thrown(() => fit(model, d, { optimizer: opt, loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 1 }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    expect((e as NonFiniteStateError).step).toBe(1);
    expect(snapshot(model, opt)).toEqual(before);
    expect(allFinite(before)).toBe(true);
  });

  it('a checkpoint whose Adam slot holds NaN: refused before the first step, nothing changed', () => {
    const model = net();
    const trained = new Adam({ learningRate: 0.01 });
    fit(model, data(16, 2), { optimizer: trained, loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 2 });
    const names = new Map([...model.stateDict()].map(([n, t]) => [t, n] as [Tensor, string]));
    const entries = trained.stateDict(names);
    entries.get('adam/dense2/bias/v')!.data[1] = NaN;
    trained.loadStateDict(entries, model.stateDict());
    const bytes = toBytes(model, { optimizer: trained });

    const resumed = new Adam({ learningRate: 0.01 });
    fromBytes(model, bytes, { optimizer: resumed });
    const before = snapshot(model, resumed);
    const e = thrown(() => fit(model, data(16, 3), { optimizer: resumed, loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 3 }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    expect((e as NonFiniteStateError).step).toBe(0);
    expect((e as NonFiniteStateError).tensor).toBe('optimizer/adam/dense2/bias/v');
    expect((e as Error).message).toMatch(/before the first step, 'optimizer\/adam\/dense2\/bias\/v' holds 1 of 3 values non-finite \(first: NaN\); nothing was trained/);
    expect(snapshot(model, resumed)).toEqual(before);
    expect(resumed.iterations).toBe(2);
  });

  it('Adam overflowing at step 2: m, v and the step counters are restored with the parameters', () => {
    const model = net();
    const huge = new Adam({ learningRate: (step) => (step <= 1 ? 0.01 : 1e39) });
    let after1: Map<string, number[]> | null = null;
    const e = thrown(() => fit(model, data(16, 4), {
      optimizer: huge, loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 3,
      callbacks: [{ onStepEnd: ({ step }) => { if (step === 1) after1 = snapshot(model, huge); } }],
    }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    expect((e as NonFiniteStateError).step).toBe(2);
    const now = snapshot(model, huge);
    expect(now).toEqual(after1);
    expect(now.get('optimizer/adam/dense1/kernel/step')).toEqual([1]);
    expect(huge.iterations).toBe(1);
  });

  it('an input of 1e30 overflows the next BatchNorm\'s variance: throws naming bn1/movingVariance, statistics restored', () => {
    const model = net();
    const d = data(16, 5);
    d.x.data[2 * 9] = 1e30; // example 9: in the second batch (no shuffle)
    const opt = new SGD({ learningRate: 0.01 });
    let after1: Map<string, number[]> | null = null;
    const e = thrown(() => fit(model, d, {
      optimizer: opt, loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 2, shuffle: false,
      callbacks: [{ onStepEnd: ({ step }) => { if (step === 1) after1 = snapshot(model, opt); } }],
    }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    const err = e as NonFiniteStateError;
    expect(err.step).toBe(2);
    expect(err.tensor).toBe('bn1/movingVariance');
    expect(Number.isFinite(err.loss)).toBe(true); // the loss alone would not have told
    expect(err.message).toMatch(/'bn1\/movingVariance' with \d of 4 values non-finite \(first: Infinity\)/);
    expect(snapshot(model, opt)).toEqual(after1);
  });

  it('BatchNorm first: |x| = 2e19 overflows the float32 variance (4e38 > 3.4e38) and is caught', () => {
    const model = new Sequential([new BatchNorm(), new Dense(3)]);
    const d = data(8, 6);
    for (let i = 0; i < 8; i++) d.x.data[2 * i] = i % 2 ? 2e19 : -2e19; // mean 0, variance 4e38
    noGrad(() => model.call(d.x, { isTraining: false }));
    const before = [...model.stateDict().get('bn1/movingVariance')!.data];
    const e = thrown(() => fit(model, d, { optimizer: new SGD(), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 1 }));
    expect(e).toBeInstanceOf(NonFiniteStateError);
    expect((e as NonFiniteStateError).tensor).toBe('bn1/movingVariance');
    expect([...model.stateDict().get('bn1/movingVariance')!.data]).toEqual(before);
  });
});
