/**
 * LayerNorm / GroupNorm and their ops: gradcheck (finite differences of
 * sum(w * y), gradcheck's tolerances eps 1e-3, atol 1e-3, rtol 1e-2), a naive
 * per-group loop in float64 (atol 1e-6), NaN propagation, option and shape
 * errors, and the layer contract (no batch dependence, state, freezing).
 * Values against PyTorch: test/autograd/norms-torch.test.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  GroupNorm, LayerNorm, Sequential, Tensor, foldBatchNorm, fromBytes, gradcheck, toBytes, groupNormalization, layerNormalization, randomNormal, sliceRows,
} from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';

/** Group norm by hand: for each (n, g) collect the values, normalize in float64. */
function naiveGroupNorm(x: Tensor, groups: number, gamma: number[], beta: number[], eps: number): number[] {
  const c = x.shape[x.rank - 1]!;
  const n = x.shape[0]!;
  const perExample = x.size / n;
  const out = new Array<number>(x.size);
  for (let e = 0; e < n; e++) {
    for (let g = 0; g < groups; g++) {
      const idx: number[] = [];
      for (let j = 0; j < perExample; j++) if (Math.floor((j % c) / (c / groups)) === g) idx.push(e * perExample + j);
      const vals = idx.map((i) => x.data[i]!);
      const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
      const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length;
      for (const i of idx) out[i] = gamma[i % c]! * (x.data[i]! - mean) / Math.sqrt(variance + eps) + beta[i % c]!;
    }
  }
  return out;
}

describe('groupNormalization / layerNormalization', () => {
  it('groupNormalization equals a naive per-group loop on awkward shapes', () => {
    for (const [shape, groups] of [[[3, 5, 7, 6], 3], [[1, 1, 1, 5], 5], [[2, 3, 9], 1], [[7, 4], 2]] as [number[], number][]) {
      const x = uniform(shape, 3, -2, 5);
      const c = shape[shape.length - 1]!;
      const gamma = Array.from({ length: c }, (_, i) => 0.5 + i / 7);
      const beta = Array.from({ length: c }, (_, i) => i / 3 - 1);
      const y = groupNormalization(x, new Tensor(Float32Array.from(gamma), [c]), new Tensor(Float32Array.from(beta), [c]), { groups, epsilon: 1e-3 });
      expectClose(y.data, naiveGroupNorm(x, groups, gamma, beta, 1e-3), { atol: 1e-6, rtol: 1e-6 });
    }
  });

  it('layerNormalization over the last axis equals groupNormalization with one group on [N, D]', () => {
    const x = uniform([5, 11], 4);
    expect(Array.from(layerNormalization(x, null, null).data)).toEqual(Array.from(groupNormalization(x, null, null, { groups: 1 }).data));
  });

  it('gradcheck: x, gamma, beta', () => {
    const shapes: [number[], number][] = [[[2, 3, 2, 4], 2], [[3, 6], 3], [[2, 2, 2, 3], -1]];
    for (const [shape, groups] of shapes) {
      const c = shape[shape.length - 1]!;
      const report = gradcheck((x, g, b) => groupNormalization(x, g, b, { groups }), [uniform(shape, 5), uniform([c], 6, 0.5, 1.5), uniform([c], 7)]);
      expect(report.ok).toBe(true);
    }
    const ln = gradcheck((x, g, b) => layerNormalization(x, g, b, { axis: [1, 2] }), [uniform([3, 2, 4], 8), uniform([2, 4], 9, 0.5, 1.5), uniform([2, 4], 10)]);
    expect(ln.ok).toBe(true);
    const noAffine = gradcheck((x) => layerNormalization(x, null, null), [uniform([4, 5], 11)]);
    expect(noAffine.ok).toBe(true);
  });

  it('NaN in one group makes that group NaN and leaves the others finite', () => {
    const x = uniform([2, 4], 12);
    x.data[1] = NaN; // example 0, group 0 (channels 0, 1)
    const y = groupNormalization(x, null, null, { groups: 2 });
    expect([0, 1].every((i) => Number.isNaN(y.data[i]!))).toBe(true);
    expect([2, 3, 4, 5, 6, 7].every((i) => Number.isFinite(y.data[i]!))).toBe(true);
    const l = layerNormalization(x, null, null);
    expect([0, 1, 2, 3].every((i) => Number.isNaN(l.data[i]!))).toBe(true);
    expect([4, 5, 6, 7].every((i) => Number.isFinite(l.data[i]!))).toBe(true);
  });

  it('refuses bad options and shapes, naming the op and the shapes', () => {
    const x = uniform([2, 3, 3, 6], 13);
    expect(() => groupNormalization(x, null, null, { groups: 4 })).toThrow('groupNormalization: channels 6 not divisible by groups 4 (input [2,3,3,6])');
    expect(() => groupNormalization(x, null, null, { groups: 0 })).toThrow('groups must be an integer >= 1');
    expect(() => groupNormalization(x, null, null, { groups: 2, eps: 1 } as never)).toThrow("unknown option 'eps' (did you mean 'epsilon'?)");
    expect(() => groupNormalization(x, uniform([5], 1), null, { groups: 2 })).toThrow('groupNormalization: gamma [5] must be [6] for input [2,3,3,6]');
    expect(() => layerNormalization(x, null, null, { axis: 1 })).toThrow('layerNormalization: axis 1 must name trailing axes');
    expect(() => layerNormalization(x, null, null, { axis: [0, 1, 2, 3] })).toThrow('must name trailing axes after the batch axis');
    expect(() => layerNormalization(x, null, null, { axis: 4 })).toThrow('layerNormalization: axis 4 is out of range for input [2,3,3,6]');
    expect(() => layerNormalization(x, null, null, { epsilon: 0 })).toThrow('layerNormalization: epsilon must be a positive finite number');
    expect(() => new GroupNorm({ groups: 4 }).call(x, { isTraining: true })).toThrow('gn: channels 6 not divisible by groups 4 (input [2,3,3,6])');
    expect(() => new GroupNorm({ group: 2 } as never)).toThrow("GroupNorm: unknown option 'group' (did you mean 'groups'?)");
    expect(() => new LayerNorm({ axes: -1 } as never)).toThrow("LayerNorm: unknown option 'axes' (did you mean 'axis'?)");
    expect(() => new LayerNorm({ center: 1 } as never)).toThrow('LayerNorm: center must be true or false');
  });
});

describe('LayerNorm / GroupNorm layers', () => {
  it('builds gamma/beta of the normalized shape; training and inference agree; no batch dependence', () => {
    const x = randomNormal([4, 3, 3, 6], { seed: 2, mean: 3, stddev: 2 });
    for (const layer of [new LayerNorm({ axis: [1, 2, 3] }), new GroupNorm({ groups: 3 }), new GroupNorm({ groups: -1 })]) {
      const train = layer.call(x, { isTraining: true });
      const infer = layer.call(x, { isTraining: false });
      expect(Array.from(train.data)).toEqual(Array.from(infer.data));
      const alone = layer.call(sliceRows(x, 1, 2), { isTraining: true });
      expect(Array.from(alone.data)).toEqual(Array.from(infer.data.slice(54, 108)));
    }
    const ln = new LayerNorm({ axis: [1, 2, 3] });
    ln.call(x, { isTraining: false });
    expect(ln.gamma!.shape).toEqual([3, 3, 6]);
    expect([...ln.stateDict().keys()]).toEqual(['gamma', 'beta']);
    const gn = new GroupNorm({ groups: 2, center: false });
    gn.call(x, { isTraining: false });
    expect([...gn.stateDict().keys()]).toEqual(['gamma']);
  });

  it('trains in a Sequential, freezes, and round-trips its state', () => {
    const model = new Sequential([new GroupNorm({ groups: 2 }), new LayerNorm()]);
    const x = randomNormal([2, 4], { seed: 3 });
    model.call(x, { isTraining: true });
    expect(model.parameters().length).toBe(4);
    expect([...model.stateDict().keys()]).toEqual(['gn1/gamma', 'gn1/beta', 'ln1/gamma', 'ln1/beta']);
    model.parameters()[0]!.data[1] = 2.5; // a trained gamma
    const copy = new Sequential([new GroupNorm({ groups: 2 }), new LayerNorm()]);
    copy.call(x, { isTraining: false });
    fromBytes(copy, toBytes(model));
    expect(Array.from(copy.call(x, { isTraining: false }).data)).toEqual(Array.from(model.call(x, { isTraining: false }).data));
    const folded = foldBatchNorm(model); // nothing to fold: the layers are copied as they are
    expect(Array.from(folded.call(x, { isTraining: false }).data)).toEqual(Array.from(model.call(x, { isTraining: false }).data));
    model.trainable = false;
    expect(model.parameters().length).toBe(0);
  });
});
