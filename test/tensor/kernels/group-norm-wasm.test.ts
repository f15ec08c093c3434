/**
 * Layer/group norm in WebAssembly (wasm/group-norm.ts via group-norm-wasm.ts)
 * against the TypeScript fast kernel (group-norm-fast.ts), which
 * group-norm.test.ts checks against the reference. The claim is the same
 * floats, so the comparison is exact (Object.is per element, which also
 * tells +0 from -0) on [N, S, G, K] layouts that reach every path: group
 * widths K with no, some and only leftovers past the last four (1, 3, 4, 5,
 * 7, 8, 13, 16), groups = channels (K = 1), one group (LayerNorm, S = 1),
 * primes everywhere, NaN in x, gy and gamma, gamma/beta present or absent,
 * the input gradient skipped. Then the dispatcher: backend 'wasm' runs these
 * kernels and the ops give the same bits on both backends.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { add, backward, groupNormalization, layerNormalization, mul, Random, sum, Tensor } from '../../../src/index.js';
import { setBackend, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import * as fast from '../../../src/tensor/kernels/group-norm-fast.js';
import type { GroupLayout } from '../../../src/tensor/kernels/group-norm-reference.js';
import { groupNormBackwardWasm, groupNormForwardWasm, groupNormWasmCalls } from '../../../src/tensor/kernels/wasm/group-norm-wasm.js';

function data(n: number, seed: number, offset = 0): Float32Array {
  const rng = new Random(seed);
  return Float32Array.from({ length: n }, () => offset + 4 * rng.next() - 2);
}

function expectSameFloats(actual: ArrayLike<number> | null, expected: ArrayLike<number> | null, what: string): void {
  if (actual === null || expected === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let i = -1;
  for (let j = 0; j < actual.length && i < 0; j++) if (!Object.is(actual[j], expected[j])) i = j;
  expect(i, `${what}: first difference at ${i}: ${actual[i]} vs ${expected[i]}`).toBe(-1);
}

const LAYOUTS: GroupLayout[] = [
  { n: 1, s: 1, g: 1, k: 1 }, { n: 3, s: 7, g: 2, k: 5 }, { n: 2, s: 1, g: 1, k: 13 }, { n: 5, s: 11, g: 3, k: 1 },
  { n: 1, s: 4, g: 7, k: 3 }, { n: 2, s: 9, g: 4, k: 4 }, { n: 3, s: 5, g: 1, k: 8 }, { n: 7, s: 1, g: 1, k: 16 },
  { n: 2, s: 3, g: 16, k: 1 }, { n: 3, s: 13, g: 2, k: 7 }, { n: 4, s: 49, g: 4, k: 4 }, { n: 0, s: 3, g: 2, k: 4 },
];

describe.runIf(wasmAvailable())('group norm in WebAssembly: the same floats as the TypeScript fast kernel', () => {
  LAYOUTS.forEach((l, c) => {
    for (const affine of [true, false]) {
      it(`${JSON.stringify(l)} ${affine ? 'gamma/beta' : 'no gamma/beta'}`, () => {
        const size = l.n * l.s * l.g * l.k;
        const x = data(size, 10 + c, 30); // mean far from 0
        const gy = data(size, 20 + c);
        const gamma = affine ? data(l.g * l.k, 30 + c, 1) : null;
        const beta = affine ? data(l.g * l.k, 40 + c) : null;
        const want = fast.groupNormForward(x, l, gamma, beta, 1e-3);
        const got = groupNormForwardWasm(x, l, gamma, beta, 1e-3);
        for (const key of ['y', 'mean', 'invStd'] as const) expectSameFloats(got[key], want[key], key);
        for (const needInput of [true, false]) {
          const wb = fast.groupNormBackward(x, gy, l, want.mean, want.invStd, gamma, needInput);
          const gb = groupNormBackwardWasm(x, gy, l, got.mean, got.invStd, gamma, needInput);
          for (const key of ['gx', 'gGamma', 'gBeta'] as const) expectSameFloats(gb[key], wb[key], `${key} (needInput ${needInput})`);
        }
      });
    }
  });

  it('NaN in x, gy and gamma propagates exactly as in TypeScript (and nothing else moves)', () => {
    const l = { n: 3, s: 5, g: 2, k: 6 };
    const size = 3 * 5 * 2 * 6;
    const x = data(size, 1, 5);
    x[7] = NaN; // group (0, 1)
    const gy = data(size, 2);
    gy[5 * 12 + 1] = NaN; // example 1
    gy[2 * 60 + 12 * 4 + 11] = -0;
    const gamma = data(12, 3, 1);
    gamma[9] = NaN;
    const beta = data(12, 4);
    const want = fast.groupNormForward(x, l, gamma, beta, 1e-3);
    const got = groupNormForwardWasm(x, l, gamma, beta, 1e-3);
    expect(Number.isNaN(got.mean[1])).toBe(true);
    for (const key of ['y', 'mean', 'invStd'] as const) expectSameFloats(got[key], want[key], key);
    const wb = fast.groupNormBackward(x, gy, l, want.mean, want.invStd, gamma, true);
    const gb = groupNormBackwardWasm(x, gy, l, got.mean, got.invStd, gamma, true);
    expect(Number.isNaN(gb.gx![60])).toBe(true); // example 1's group 0 took the NaN gy
    for (const key of ['gx', 'gGamma', 'gBeta'] as const) expectSameFloats(gb[key], wb[key], key);
  });

  describe('the dispatcher', () => {
    afterAll(() => void setBackend('wasm'));

    it("runs these kernels on backend 'wasm', and the ops give the same bits on 'js'", () => {
      const x = new Tensor(data(2 * 6 * 5 * 8, 7, 2), [2, 6, 5, 8]);
      const gamma = new Tensor(data(8, 8, 1), [8]);
      const beta = new Tensor(data(8, 9), [8]);
      const w = new Tensor(data(2 * 6 * 5 * 8, 11), [2, 6, 5, 8]);
      const run = (): Float32Array[] => {
        const xs = x.detach().requireGrad(), gs = gamma.detach().requireGrad(), bs = beta.detach().requireGrad();
        const gn = groupNormalization(xs, gs, bs, { groups: 4 });
        const ln = layerNormalization(xs, gs, bs, { axis: -1 });
        const y = add(sum(mul(gn, w)), sum(mul(ln, w))); // a fixed random weighting
        backward(y);
        return [gn.data, ln.data, xs.grad!.data, gs.grad!.data, bs.grad!.data];
      };
      setBackend('wasm');
      const before = groupNormWasmCalls();
      const onWasm = run();
      expect(groupNormWasmCalls() - before).toBe(4); // two forwards, two backwards
      setBackend('js');
      const onJs = run();
      expect(groupNormWasmCalls() - before).toBe(4);
      onWasm.forEach((a, i) => expectSameFloats(a, onJs[i]!, `output ${i}`));
    });
  });
});
