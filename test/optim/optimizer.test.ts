import { describe, expect, it } from 'vitest';
import { Tensor, isGradEnabled, square, sub, sum, tensor } from '../../src/index.js';
import { Adam } from '../../src/optim/adam.js';
import { AdamW } from '../../src/optim/adamw.js';
import { zeroGrad, type Optimizer } from '../../src/optim/optimizer.js';
import { RMSprop } from '../../src/optim/rmsprop.js';
import { SGD } from '../../src/optim/sgd.js';
import { fromBytes, toBytes } from '../../src/train/checkpoint.js';
import { expectClose } from '../helpers.js';
import { dump, param, setGrad, values } from './fixtures.js';

interface Case {
  /** The optimizer's displayName, as in its error messages. */
  name: string;
  /** Tells apart two cases of one optimizer (default: the name). */
  label?: string;
  prefix: string;
  slots: string[];
  make: () => Optimizer;
}

const CASES: Case[] = [
  { name: 'SGD', prefix: 'sgd', slots: ['velocity'], make: () => new SGD({ learningRate: 0.05, momentum: 0.9 }) },
  { name: 'Adam', prefix: 'adam', slots: ['m', 'v', 'step'], make: () => new Adam({ learningRate: 0.05 }) },
  { name: 'RMSprop', prefix: 'rmsprop', slots: ['ms'], make: () => new RMSprop({ learningRate: 0.05 }) },
  { name: 'AdamW', prefix: 'adamw', slots: ['m', 'v', 'step'], make: () => new AdamW({ learningRate: 0.05, weightDecay: 1e-4 }) },
  {
    name: 'RMSprop', label: 'RMSprop (centered, momentum, clipNorm)', prefix: 'rmsprop', slots: ['ms', 'mg', 'velocity'],
    make: () => new RMSprop({ learningRate: 0.01, centered: true, momentum: 0.5, clipNorm: 10 }),
  },
];

/** A two-parameter "model" with hierarchical names, plus a buffer the optimizer never touches. */
function tinyModel(seed = 0): { kernel: Tensor; bias: Tensor; names: Map<Tensor, string>; byName: Map<string, Tensor> } {
  const kernel = param([0.5 + seed, -1, 2, 0.25], [2, 2]);
  const bias = param([0.1, -0.3 - seed]);
  const movingMean = tensor([0, 0]);
  const byName = new Map([['dense1/kernel', kernel], ['dense1/bias', bias], ['bn1/movingMean', movingMean]]);
  return { kernel, bias, names: new Map([...byName].map(([n, t]) => [t, n])), byName };
}

/** Gradient k of a fixed, non-constant sequence (so momentum and moments get distinct values). */
function feed(kernel: Tensor, bias: Tensor, k: number): void {
  setGrad(kernel, [Math.sin(k + 1), Math.cos(2 * k), -0.5 + 0.1 * k, 0.3]);
  setGrad(bias, [1 - 0.2 * k, Math.sin(3 * k)]);
}

describe('learning rate as a function of the step', () => {
  it('is called with the 1-based step being taken, and resumes after loadStateDict', () => {
    const seen: number[] = [];
    const schedule = (step: number): number => {
      seen.push(step);
      return 0.1 * step;
    };
    const w = param([0]);
    const opt = new SGD({ learningRate: schedule });
    for (let k = 0; k < 3; k++) {
      setGrad(w, [1]);
      opt.step([w]);
    }
    // w = 0 - 0.1 - 0.2 - 0.3 = -0.6
    expect(seen).toEqual([1, 2, 3]);
    expectClose(w.data, [-0.6], { atol: 1e-6 });

    const resumed = new SGD({ learningRate: schedule });
    resumed.loadStateDict(opt.stateDict(new Map([[w, 'w']])), new Map([['w', w]]));
    setGrad(w, [1]);
    resumed.step([w]);
    expect(seen.at(-1)).toBe(4);
    expectClose(w.data, [-1.0], { atol: 1e-6 });
    expect(resumed.learningRateAt(10)).toBeCloseTo(1, 12);
  });

  it('sets the size of Adam\'s first step (lr(1) * sign(g))', () => {
    const w = param([0]);
    setGrad(w, [-3]);
    new Adam({ learningRate: (step) => (step === 1 ? 0.25 : 1) }).step([w]);
    expectClose(w.data, [0.25], { atol: 1e-6 });
  });

  it.each([Number.NaN, -0.1, Infinity])('a schedule returning %s is refused before anything changes', (bad) => {
    const w = param([1, 2]);
    const opt = new RMSprop({ learningRate: (step) => (step < 2 ? 0.1 : bad) });
    setGrad(w, [1, 1]);
    opt.step([w]);
    const before = values(w);
    expect(() => opt.step([w])).toThrow(/RMSprop: the learningRate schedule returned .* for step 2/);
    expect(values(w)).toEqual(before);
    expect(opt.iterations).toBe(1);
  });
});

describe.each(CASES.map((c) => ({ ...c, label: c.label ?? c.name })))('$label: behaviour shared by every optimizer', ({ name, prefix, slots, make }) => {
  it('updates in place: same tensor, same Float32Array, still a parameter', () => {
    const { kernel, bias } = tinyModel();
    const kernelData = kernel.data;
    const before = values(kernel);
    const opt = make();
    for (let k = 0; k < 3; k++) {
      feed(kernel, bias, k);
      opt.step([kernel, bias]);
    }
    expect(kernel.data).toBe(kernelData);
    expect(values(kernel)).not.toEqual(before);
    expect(kernel.shape).toEqual([2, 2]);
    expect(kernel.requiresGrad).toBe(true);
  });

  it('skips parameters whose grad is null and keeps no state for them', () => {
    const { kernel, bias, names } = tinyModel();
    const opt = make();
    setGrad(kernel, [1, 1, 1, 1]);
    opt.step([kernel, bias]);
    expect(values(bias)).toEqual([Math.fround(0.1), Math.fround(-0.3)]);
    const keys = [...opt.stateDict(names).keys()];
    expect(keys).toContain(`${prefix}/dense1/kernel/${slots[0]}`);
    expect(keys.filter((key) => key.includes('bias'))).toEqual([]);
  });

  it('records no graph, leaves the gradient alone, and runs the schedule under noGrad', () => {
    const w = param([1, 2]);
    let enabledInside: boolean | null = null;
    const opt = name === 'SGD' ? new SGD({ learningRate: () => ((enabledInside = isGradEnabled()), 0.1) }) : make();
    setGrad(w, [0.5, -0.5]);
    const gradData = w.grad!.data;
    opt.step([w]);
    expect(w.gradFn).toBeNull();
    expect(w.grad!.data).toBe(gradData);
    expect(values(w.grad!)).toEqual([0.5, -0.5]);
    expect(isGradEnabled()).toBe(true);
    if (name === 'SGD') expect(enabledInside).toBe(false);
  });

  it('keeps separate state per parameter: one optimizer over two = two optimizers over one each', () => {
    const a = tinyModel();
    const b = tinyModel();
    const joint = make();
    const [forKernel, forBias] = [make(), make()];
    for (let k = 0; k < 4; k++) {
      feed(a.kernel, a.bias, k);
      feed(b.kernel, b.bias, k);
      joint.step([a.kernel, a.bias]);
      forKernel.step([b.kernel]);
      forBias.step([b.bias]);
    }
    expect(values(a.kernel)).toEqual(values(b.kernel));
    expect(values(a.bias)).toEqual(values(b.bias));
    const jointState = joint.stateDict(a.names);
    const kernelState = forKernel.stateDict(new Map([[b.kernel, 'dense1/kernel']]));
    const biasState = forBias.stateDict(new Map([[b.bias, 'dense1/bias']]));
    for (const slot of slots) {
      expect(values(jointState.get(`${prefix}/dense1/kernel/${slot}`)!)).toEqual(values(kernelState.get(`${prefix}/dense1/kernel/${slot}`)!));
      expect(values(jointState.get(`${prefix}/dense1/bias/${slot}`)!)).toEqual(values(biasState.get(`${prefix}/dense1/bias/${slot}`)!));
    }
  });

  it('keeps a frozen parameter\'s slots while it is left out of step()', () => {
    const { kernel, bias, names } = tinyModel();
    const opt = make();
    feed(kernel, bias, 0);
    opt.step([kernel, bias]);
    const biasSlots = (): Record<string, [number[], number[]]> =>
      Object.fromEntries(Object.entries(dump(opt.stateDict(names))).filter(([key]) => key.includes('bias')));
    const before = biasSlots();
    expect(Object.keys(before)).toHaveLength(slots.length);
    const biasValues = values(bias);
    for (let k = 1; k < 4; k++) {
      feed(kernel, bias, k); // bias still has a gradient, but it is frozen: not passed
      opt.step([kernel]);
    }
    expect(values(bias)).toEqual(biasValues);
    expect(biasSlots()).toEqual(before);
  });

  it('updates a parameter listed twice only once', () => {
    const once = param([1, 2]);
    const twice = param([1, 2]);
    setGrad(once, [0.3, -0.7]);
    setGrad(twice, [0.3, -0.7]);
    make().step([once]);
    make().step([twice, twice]);
    expect(values(twice)).toEqual(values(once));
  });

  it('checks every gradient shape before changing any parameter', () => {
    const { kernel, bias } = tinyModel();
    const opt = make();
    setGrad(kernel, [1, 1, 1, 1]);
    bias.grad = tensor([1, 2, 3]);
    const before = values(kernel);
    expect(() => opt.step([kernel, bias])).toThrow(new RegExp(`${name}.step: gradient \\[3\\] does not match parameter \\[2\\]`));
    expect(values(kernel)).toEqual(before);
    expect(opt.iterations).toBe(0);
  });

  it('zeroGrad clears every gradient', () => {
    const { kernel, bias } = tinyModel();
    feed(kernel, bias, 0);
    make().zeroGrad([kernel, bias]);
    expect([kernel.grad, bias.grad]).toEqual([null, null]);
    feed(kernel, bias, 0);
    zeroGrad([kernel]);
    expect(kernel.grad).toBeNull();
    expect(bias.grad).not.toBeNull();
  });

  it('stateDict then loadStateDict into a fresh optimizer continues identically', () => {
    const a = tinyModel();
    const b = tinyModel(1); // different values, overwritten below as a checkpoint would
    const original = make();
    for (let k = 0; k < 3; k++) {
      feed(a.kernel, a.bias, k);
      original.step([a.kernel, a.bias]);
    }
    const saved = original.stateDict(a.names);
    expect(saved.get(`${prefix}/step`)!.shape).toEqual([1]);
    expect([...saved.keys()].sort()).toEqual(
      [`${prefix}/step`, ...['kernel', 'bias'].flatMap((p) => slots.map((s) => `${prefix}/dense1/${p}/${s}`))].sort(),
    );
    b.kernel.data.set(a.kernel.data);
    b.bias.data.set(a.bias.data);
    const restored = make();
    restored.loadStateDict(saved, b.byName);
    expect(restored.iterations).toBe(3);
    expect(dump(restored.stateDict(b.names))).toEqual(dump(saved));

    for (let k = 3; k < 6; k++) {
      feed(a.kernel, a.bias, k);
      feed(b.kernel, b.bias, k);
      original.step([a.kernel, a.bias]);
      restored.step([b.kernel, b.bias]);
    }
    expect(values(b.kernel)).toEqual(values(a.kernel));
    expect(values(b.bias)).toEqual(values(a.bias));
    // The saved tensors were copies: stepping after stateDict did not change them.
    expect(saved.get(`${prefix}/step`)!.data[0]).toBe(3);
  });

  it('stateDict refuses a parameter with state but no name', () => {
    const { kernel, bias } = tinyModel();
    const opt = make();
    feed(kernel, bias, 0);
    opt.step([kernel, bias]);
    expect(() => opt.stateDict(new Map([[kernel, 'dense1/kernel']]))).toThrow(new RegExp(`${name}.stateDict: a parameter \\[2\\] with optimizer state has no name`));
  });

  describe('loadStateDict refuses bad entries and changes nothing', () => {
    const key = (param: string, slot: string): string => `${prefix}/dense1/${param}/${slot}`;
    const edits: [string, (m: Map<string, Tensor>) => void, RegExp][] = [
      ['missing step', (m) => m.delete(`${prefix}/step`), new RegExp(`missing '${prefix}/step'`)],
      ['wrong shape', (m) => m.set(key('kernel', slots[0]!), tensor([1, 2, 3])), /has shape \[3\] but \[2,2\] is needed for parameter \[2,2\]/],
      ['unknown parameter', (m) => m.set(`${prefix}/dense9/kernel/${slots[0]}`, tensor([1])), /is for 'dense9\/kernel', which is not a tensor of the model/],
      ['unknown slot', (m) => m.set(key('bias', 'bogus'), tensor([1, 2])), new RegExp(`'bogus' is not a slot of this ${name}`)],
      ['another optimizer\'s entry', (m) => m.set('other/dense1/bias/m', tensor([1, 2])), /unexpected entry 'other\/dense1\/bias\/m'/],
      ['fractional step', (m) => m.set(`${prefix}/step`, tensor([1.5])), /is 1.5, not a step count/],
      ['step of shape []', (m) => m.set(`${prefix}/step`, new Tensor(Float32Array.of(3), [])), /has shape \[\] but a counter is stored as \[1\]/],
    ];
    if (slots.length > 1) {
      edits.push(['one slot of several missing', (m) => m.delete(key('bias', slots[1]!)), new RegExp(`missing '${key('bias', slots[1]!)}'`)]);
    }
    it.each(edits)('%s', (_, edit, message) => {
      const model = tinyModel();
      const opt = make();
      for (let k = 0; k < 2; k++) {
        feed(model.kernel, model.bias, k);
        opt.step([model.kernel, model.bias]);
      }
      const saved = opt.stateDict(model.names);
      for (const t of saved.values()) t.data.fill(7); // different from the live state
      saved.set(`${prefix}/step`, tensor([7]));
      edit(saved);
      const before = dump(opt.stateDict(model.names));
      expect(() => opt.loadStateDict(saved, model.byName)).toThrow(new RegExp(`${name}.loadStateDict: .*${message.source}`));
      expect(dump(opt.stateDict(model.names))).toEqual(before);
      expect(opt.iterations).toBe(2);
    });
  });

  it('round-trips through a checkpoint (src/train/checkpoint.ts)', () => {
    const a = tinyModel();
    const b = tinyModel(1);
    const original = make();
    for (let k = 0; k < 3; k++) {
      feed(a.kernel, a.bias, k);
      original.step([a.kernel, a.bias]);
    }
    const restored = make();
    fromBytes({ stateDict: () => b.byName }, toBytes({ stateDict: () => a.byName }, { optimizer: original }), { optimizer: restored });
    expect(values(b.kernel)).toEqual(values(a.kernel));
    expect(dump(restored.stateDict(b.names))).toEqual(dump(original.stateDict(a.names)));
  });

  it('minimizes sum((w - 3)^2) from w = [0, -5]', () => {
    // lr 0.05 for all three; Adam is the slowest (it walks ~lr per step, then settles), within 1e-3 by ~600 steps.
    const w = param([0, -5]);
    const opt = make();
    for (let k = 0; k < 1000; k++) {
      sum(square(sub(w, 3))).backward();
      opt.step([w]);
      opt.zeroGrad([w]);
    }
    expectClose(w.data, [3, 3], { atol: 1e-3 });
  });
});
