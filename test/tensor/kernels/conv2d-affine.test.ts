/**
 * conv2dForwardAffine (the inference Conv2d -> BatchNorm (-> ReLU) in one
 * call) against its reference: conv2dForward on the same backend, then
 * batch-norm-fast.ts' affine. Every element must be the same float (Object.is:
 * -0 and NaN included), on the WebAssembly kernel with one and two threads
 * and on the TypeScript path, over awkward shapes: cout not a multiple of 4
 * (the scalar tail of the epilogue), cin = 1, strides, padding, several patch
 * blocks per thread, and a scale with zeros, negatives, a NaN and an Infinity.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conv2dGeometry, type Padding } from '../../../src/tensor/kernels/im2col.js';
import { conv2dForward, conv2dForwardAffine } from '../../../src/tensor/kernels/conv2d.js';
import { affine } from '../../../src/tensor/kernels/batch-norm-fast.js';
import { conv2dWasmCalls } from '../../../src/tensor/kernels/wasm/conv2d-wasm.js';
import { ready, setBackend, setThreads, wasmAvailable, type Backend } from '../../../src/tensor/kernels/backend.js';
import { setWasmLimits, type WasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { rand } from './reference.js';

type Case = [x: [number, number, number, number], k: [number, number, number, number], strides: number, padding: Padding];

const CASES: Case[] = [
  [[2, 5, 5, 3], [3, 3, 3, 4], 1, 'same'],
  [[3, 8, 7, 1], [4, 2, 1, 3], 2, 'valid'], // cin = 1, cout = 3: tail only
  [[5, 13, 11, 6], [3, 3, 6, 21], 2, 'same'], // cout = 21: quads and a tail
  [[3, 40, 40, 1], [3, 3, 1, 8], 1, 'same'], // several patch blocks
  [[2, 4, 4, 36], [3, 3, 36, 7], 1, 'same'],
  [[8, 1, 1, 5], [3, 3, 5, 6], 1, 'same'], // taps cut off (only the centre is live)
];

const size = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

/** A scale and shift with awkward values among ordinary ones. */
function epilogueFor(cout: number, seed: number, relu: boolean) {
  const scale = rand(cout, seed).map((v) => 3 * v);
  const shift = rand(cout, seed + 1);
  scale[0] = 0;
  if (cout > 2) scale[2] = -scale[2]!;
  if (cout > 5) { scale[5] = NaN; shift[4] = Infinity; }
  return { scale, shift, relu };
}

function expectSameFloats(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) expect.fail(`element ${i}: ${got[i]}, expected ${want[i]}`);
  }
}

describe('conv2dForwardAffine', () => {
  let saved: WasmLimits | undefined;
  let previous: Backend;
  beforeAll(async () => {
    previous = setBackend('js');
    setBackend(previous);
    if (wasmAvailable()) expect(await ready()).toBe(true);
  });
  afterEach(() => {
    setBackend(previous);
    setThreads(2);
    if (saved) setWasmLimits(saved);
  });

  const runs: [Backend, 1 | 2][] = [['js', 1], ...(wasmAvailable() ? ([['wasm', 1], ['wasm', 2]] as [Backend, 1 | 2][]) : [])];
  for (const [b, threads] of runs) {
    CASES.forEach(([xs, ks, strides, padding], i) => {
      for (const relu of [false, true]) {
        it(`${b} ${threads} thread(s), x [${xs}] k [${ks}] relu ${relu}: the floats of conv2dForward then affine`, () => {
          setBackend(b);
          setThreads(threads);
          saved = setWasmLimits({ parallelFlops: 0 });
          const g = conv2dGeometry(xs, ks, strides, padding);
          const x = rand(size(xs), 10 + i);
          x[1] = NaN; // a NaN in the input reaches some outputs
          const k = rand(size(ks), 20 + i);
          const e = epilogueFor(g.cout, 30 + i, relu);
          const calls = conv2dWasmCalls();
          const fused = conv2dForwardAffine(x, k, g, e);
          if (b === 'wasm') expect(conv2dWasmCalls()).toBe(calls + 1); // the fused WebAssembly kernel ran
          const y = conv2dForward(x, k, g);
          const want = affine(y, e.scale, e.shift, { relu });
          expectSameFloats(fused, want);
          if (relu) expect(want.some((v) => Object.is(v, 0))).toBe(true); // the ReLU cut something
          expect(want.some(Number.isNaN)).toBe(true);
        });
      }
    });
  }
});
