/**
 * Batch norm's WebAssembly passes (wasm/batch-norm.ts via batch-norm-wasm.ts)
 * against the TypeScript reference kernels (../batch-norm.ts), which
 * batch-norm.test.ts checks against a float64 loop. The claim is the same
 * floats, so the comparison is exact (Object.is per element, which also
 * tells +0 from -0), on shapes that reach every path: channel counts with
 * no, some and only leftover channels past the last group of four, row
 * counts that end mid-block (blocks of ~4096 floats), a fused ReLU with
 * outputs exactly at the cut, gamma/beta present or absent, the input
 * gradient skipped, and gx written over gy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { backward, batchNormTraining, Tensor } from '../../../src/index.js';
import * as fastBackward from '../../../src/tensor/kernels/batch-norm-fast-backward.js';
import * as fast from '../../../src/tensor/kernels/batch-norm-fast.js';
import * as ref from '../../../src/tensor/kernels/batch-norm-reference.js';
import { ready, setBackend, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import * as dispatch from '../../../src/tensor/kernels/batch-norm.js';
import { batchNormWasmCalls, trainingBackwardWasm, trainingForwardWasm } from '../../../src/tensor/kernels/wasm/batch-norm-wasm.js';
import { rand } from './reference.js';

/** The fast kernels, with the reference's step-by-step ones (normalize, affineGrads, trainingInputGrad) beside them. */
const bn = { ...ref, ...fast, ...fastBackward };

/** [rows, channels]: 4 and 8 are all groups of four; 1, 3 only leftovers; 5, 13, 76 both. */
const CASES: [rows: number, channels: number][] = [[2, 1], [7, 3], [13, 4], [1000, 5], [31, 8], [523, 13], [97, 76], [3, 76]];

/** The index of the first element where a and b differ as floats (Object.is), or -1. */
function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

function expectSameFloats(actual: ArrayLike<number> | null, expected: ArrayLike<number> | null, what: string): void {
  if (actual === null || expected === null) {
    expect(actual, what).toBe(expected);
    return;
  }
  const i = firstDifference(actual, expected);
  expect(i, `${what}: first difference at ${i}: ${actual[i]} vs ${expected[i]}`).toBe(-1);
}

describe.runIf(wasmAvailable())('batch norm in WebAssembly: the same floats as the TypeScript kernels', () => {
  beforeAll(async () => {
    expect(await ready()).toBe(true);
  });

  CASES.forEach(([rows, channels], k) => {
    for (const affine of [true, false]) {
      for (const relu of [false, true]) {
        it(`[${rows}, ${channels}] ${affine ? 'gamma/beta' : 'no gamma/beta'}${relu ? ', fused ReLU' : ''}: forward and backward`, () => {
          const x = rand(rows * channels, 10 + k).map((v) => 3 + 2 * v); // mean far from 0
          const gy = rand(rows * channels, 20 + k);
          const gamma = affine ? rand(channels, 30 + k).map((v) => 1 + v / 2) : null;
          const beta = affine ? rand(channels, 40 + k) : null;

          const ref = bn.trainingForward(x, channels, gamma, beta, 1e-3, relu);
          const got = trainingForwardWasm(x, channels, gamma, beta, 1e-3, relu);
          for (const key of ['mean', 'variance', 'invStd', 'y'] as const) expectSameFloats(got[key], ref[key], key);
          if (relu) expect(ref.y.some((v) => v === 0)).toBe(true); // the cut was exercised

          const refGrads = bn.trainingBackward(x, gy.slice(), ref.mean, ref.invStd, gamma, true, { relu, beta });
          const gyIn = gy.slice();
          const grads = trainingBackwardWasm(x, gyIn, ref.mean, ref.invStd, gamma, true, { relu, beta });
          expectSameFloats(grads.gx, refGrads.gx, 'gx');
          expectSameFloats(grads.gGamma, refGrads.gGamma, 'gGamma');
          expectSameFloats(grads.gBeta, refGrads.gBeta, 'gBeta');
          expectSameFloats(gyIn, gy, 'gy (left as it was)');
        });
      }
    }
  });

  it('puts the ReLU cut where the forward did, for outputs of exactly 0, a beta of -0 and NaN', () => {
    // channel 0 is constant: x - mean = 0 exactly, so y = 0 and is cut; channel 1 has beta = -0;
    // channel 5 holds a NaN, so its statistics and outputs are NaN, and NaN stays NaN through the ReLU.
    const channels = 6;
    const x = Float32Array.from({ length: 6 * 40 }, (_, i) => (i % channels === 0 ? 2.5 : i === 11 ? NaN : Math.sin(i)));
    const beta = Float32Array.from([0, -0, 0.25, -0.25, 0, 0]);
    const gy = rand(x.length, 5);
    const ref = bn.trainingForward(x, channels, null, beta, 1e-3, true);
    expect(ref.y.filter((_, i) => i % channels === 0).every((v) => Object.is(v, 0))).toBe(true);
    expect(Number.isNaN(ref.mean[5])).toBe(true);
    expect(ref.y.filter((_, i) => i % channels === 5).every((v) => Number.isNaN(v))).toBe(true);
    const got = trainingForwardWasm(x, channels, null, beta, 1e-3, true);
    expectSameFloats(got.y, ref.y, 'y');
    const a = bn.trainingBackward(x, gy.slice(), ref.mean, ref.invStd, null, true, { relu: true, beta });
    const b = trainingBackwardWasm(x, gy.slice(), ref.mean, ref.invStd, null, true, { relu: true, beta });
    expect(a.gBeta[0]).toBe(0); // every gradient of the cut channel was zeroed
    expectSameFloats(b.gx, a.gx, 'gx');
    expectSameFloats(b.gBeta, a.gBeta, 'gBeta');
    expect(Number.isNaN(a.gBeta[5])).toBe(true); // the NaN channel's gradient is NaN, not a quiet 0
  });

  it('skips the input gradient on request and writes gx into `into`, which may be gy itself', () => {
    const [rows, channels] = [300, 12];
    const x = rand(rows * channels, 1);
    const gy = rand(rows * channels, 2);
    const { mean, invStd } = bn.trainingForward(x, channels, null, null, 1e-3);
    const ref = bn.trainingBackward(x, gy.slice(), mean, invStd, null, true);

    const noInput = trainingBackwardWasm(x, gy, mean, invStd, null, false);
    expect(noInput.gx).toBeNull();
    expectSameFloats(noInput.gGamma, ref.gGamma, 'gGamma');

    const into = gy.slice();
    const res = trainingBackwardWasm(x, into, mean, invStd, null, true, { into });
    expect(res.gx).toBe(into);
    expectSameFloats(into, ref.gx, 'gx over gy');
  });

  it('batchNormTraining gives the same output and gradients on either backend (the op dispatches, the floats do not move)', () => {
    const run = (): Float32Array[] => {
      const x = new Tensor(rand(6 * 5 * 5 * 12, 7).map((v) => 2 + v), [6, 5, 5, 12]).requireGrad();
      const gamma = new Tensor(rand(12, 8).map((v) => 1 + v / 4), [12]).requireGrad();
      const beta = new Tensor(rand(12, 9), [12]).requireGrad();
      const { y, mean, variance } = batchNormTraining(x, gamma, beta, 1e-3, { relu: true });
      backward(y, { grad: rand(y.size, 10) });
      return [y.data, mean, variance, x.grad!.data, gamma.grad!.data, beta.grad!.data];
    };
    const wasm = run();
    const previous = setBackend('js');
    let js: Float32Array[];
    try {
      js = run();
    } finally {
      setBackend(previous);
    }
    ['y', 'mean', 'variance', 'dL/dx', 'dL/dgamma', 'dL/dbeta'].forEach((what, i) => expectSameFloats(wasm[i]!, js[i]!, what));
  });

  it("the kernel layer decides: setBackend('js') keeps batch norm in TypeScript, 'wasm' runs it in WebAssembly", () => {
    const x = rand(40 * 4, 3), gy = rand(40 * 4, 4);
    const run = (): number => {
      const before = batchNormWasmCalls();
      const { mean, invStd } = dispatch.trainingForward(x, 4, null, null, 1e-3);
      dispatch.trainingBackward(x, gy, mean, invStd, null, true);
      return batchNormWasmCalls() - before;
    };
    expect(run()).toBe(2);
    const previous = setBackend('js');
    try {
      expect(run()).toBe(0);
    } finally {
      setBackend(previous);
    }
  });
});
