/**
 * The WebAssembly convolution kernels (wasm/conv.ts via conv2d-wasm.ts)
 * against the direct 7-loop convolution in float64, on one and two threads,
 * on shapes that reach every path: padding on all sides, strides, odd sizes,
 * cin = 1 (scalar copies), several patch blocks per thread (blockRows(q)),
 * a kernel-gradient depth split, an input-gradient split at an image
 * boundary with an odd batch, and a batch of one.
 *
 * Tolerance, derived as in gemm-wasm.test.ts: every output element is a
 * float32 sum of T products (T = q for y, kh*kw*cout for gx, n*oh*ow for gK),
 * summed in some order, so
 *   |result - exact| <= gamma_{T+2} * sum |terms|,   gamma_j = j u / (1 - j u),
 * with u = 2^-24 and sum |terms| computed by the same naive loops on |x|,
 * |K| and |gy|. A wrong index, a dropped or doubled term, or a stale value
 * left in memory breaks the bound.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conv2dGeometry, type Conv2dGeometry, type Padding } from '../../../src/tensor/kernels/im2col.js';
import { conv2dBackwardInput, conv2dBackwardKernel, conv2dForward } from '../../../src/tensor/kernels/conv2d.js';
import {
  conv2dBackwardInputWasm, conv2dBackwardKernelWasm, conv2dForwardWasm, conv2dWasmCalls, conv2dWasmFits,
} from '../../../src/tensor/kernels/wasm/conv2d-wasm.js';
import { wasmRuntime } from '../../../src/tensor/kernels/wasm/runtime.js';
import { ready, setThreads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { gemmWasmStats } from '../../../src/tensor/kernels/wasm/gemm-wasm.js';
import { setWasmLimits, type WasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { naiveConv, rand } from './reference.js';

const U = 2 ** -24;

type Case = [x: [number, number, number, number], k: [number, number, number, number], strides: number | [number, number], padding: Padding];

const CASES: Case[] = [
  [[2, 5, 5, 3], [3, 3, 3, 4], 1, 'same'],
  [[3, 8, 7, 1], [4, 2, 1, 3], 2, 'valid'], // cin = 1, odd batch
  [[1, 7, 4, 2], [2, 3, 2, 5], [2, 1], 'same'], // batch of one
  [[2, 5, 6, 2], [5, 6, 2, 3], 3, 'same'], // window wider than the stride
  [[1, 2, 3, 2], [5, 5, 2, 2], 1, 'same'], // kernel larger than the input
  [[1, 9, 9, 2], [2, 2, 2, 3], 3, 'valid'], // skipped pixels
  [[5, 13, 11, 6], [3, 3, 6, 20], 2, 'same'], // cout > 16: A is packed
  [[3, 40, 40, 1], [3, 3, 1, 5], 1, 'same'], // q = 9: two patch blocks, two depth blocks
  [[3, 12, 12, 16], [3, 3, 16, 7], 1, 'same'], // q = 144: blocks of 224 rows, depth blocks of 256
  [[2, 4, 4, 36], [3, 3, 36, 40], 1, 'same'], // q = 324: small blocks
];

function refConv([n, h, w, cin]: Case[0], [kh, kw, , cout]: Case[1], strides: Case[2], padding: Padding) {
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  return { n, h, w, cin, kh, kw, cout, sh, sw, padding };
}

const size = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);
const abs = (a: Float32Array): Float32Array => a.map(Math.abs);

function expectWithinBound(what: string, got: Float32Array, exact: Float64Array, mag: Float64Array, terms: number): void {
  const gamma = ((terms + 2) * U) / (1 - (terms + 2) * U);
  expect(got.length).toBe(exact.length);
  for (let i = 0; i < got.length; i++) {
    const bound = gamma * mag[i]!;
    if (!(Math.abs(got[i]! - exact[i]!) <= bound)) expect.fail(`${what}: element ${i} is ${got[i]}, expected ${exact[i]} within ${bound}`);
  }
}

interface Outputs {
  y: Float32Array;
  gx: Float32Array;
  gk: Float32Array;
}

function runAll(threads: 1 | 2, x: Float32Array, k: Float32Array, gy: Float32Array, g: Conv2dGeometry): Outputs {
  setThreads(threads);
  return { y: conv2dForwardWasm(x, k, g), gx: conv2dBackwardInputWasm(gy, k, g), gk: conv2dBackwardKernelWasm(x, gy, g) };
}

describe.runIf(wasmAvailable())('conv2d on WebAssembly', () => {
  let saved: WasmLimits;
  beforeAll(async () => {
    expect(await ready()).toBe(true);
  });
  afterEach(() => {
    setThreads(2);
    if (saved) setWasmLimits(saved);
  });

  CASES.forEach(([xs, ks, strides, padding], i) => {
    it(`x [${xs}] k [${ks}] strides ${JSON.stringify(strides)} ${padding}: within the float32 bound on 1 and 2 threads, the same bits on both`, () => {
      saved = setWasmLimits({ parallelFlops: 0 }); // every call takes the two-thread path
      const g = conv2dGeometry(xs, ks, strides, padding);
      const x = rand(size(xs), 70 + i);
      const k = rand(size(ks), 80 + i);
      const gy = rand(g.n * g.oh * g.ow * g.cout, 90 + i);
      const ref = refConv(xs, ks, strides, padding);
      const exact = naiveConv(x, k, ref, gy);
      const mag = naiveConv(abs(x), abs(k), ref, abs(gy));
      const two = runAll(2, x, k, gy, g);
      const rows = g.n * g.oh * g.ow;
      const one = runAll(1, x, k, gy, g);
      const q = g.kh * g.kw * g.cin;
      expectWithinBound('y', one.y, exact.y, mag.y, q);
      expectWithinBound('gx', one.gx, exact.gx, mag.gx, g.kh * g.kw * g.cout);
      expectWithinBound('gk', one.gk, exact.gk, mag.gk, rows);
      expect(two.y).toEqual(one.y);
      expect(two.gx).toEqual(one.gx);
      expect(two.gk).toEqual(one.gk);
    });
  });

  it('the helper thread alone runs every piece to the same bits', () => {
    saved = setWasmLimits({ parallelFlops: 0 });
    const [xs, ks]: [Case[0], Case[1]] = [[5, 13, 11, 6], [3, 3, 6, 20]];
    const g = conv2dGeometry(xs, ks, 2, 'same');
    const x = rand(size(xs), 21);
    const k = rand(size(ks), 22);
    const gy = rand(g.n * g.oh * g.ow * g.cout, 23);
    const one = runAll(1, x, k, gy, g);
    const rt = wasmRuntime()!;
    const jobs = gemmWasmStats().helperJobs;
    rt.mainTakesPieces = false;
    try {
      const helper = runAll(2, x, k, gy, g);
      expect(helper.y).toEqual(one.y);
      expect(helper.gx).toEqual(one.gx);
      expect(helper.gk).toEqual(one.gk);
    } finally {
      rt.mainTakesPieces = true;
    }
    // 8 forward pieces of 28 rows, 5 input-gradient pieces (one image each); the
    // kernel gradient's 210 rows are one depth block, one piece, run here
    expect(gemmWasmStats().helperJobs - jobs).toBe(8 + 5);
  });

  it('values left in memory by an earlier call do not leak into padding, gx or gK', () => {
    const big = conv2dGeometry([2, 9, 9, 4], [3, 3, 4, 6], 1, 'same');
    const nan = (n: number): Float32Array => new Float32Array(n).fill(Number.NaN);
    conv2dForwardWasm(nan(2 * 81 * 4), nan(216), big);
    conv2dBackwardInputWasm(nan(2 * 81 * 6), nan(216), big);
    conv2dBackwardKernelWasm(nan(2 * 81 * 4), nan(2 * 81 * 6), big);
    const [xs, ks]: [Case[0], Case[1]] = [[2, 5, 5, 3], [3, 3, 3, 4]];
    const g = conv2dGeometry(xs, ks, 2, 'same');
    const x = rand(size(xs), 5);
    const k = rand(size(ks), 6);
    const gy = rand(g.n * g.oh * g.ow * g.cout, 7);
    const ref = refConv(xs, ks, 2, 'same');
    const exact = naiveConv(x, k, ref, gy);
    const mag = naiveConv(abs(x), abs(k), ref, abs(gy));
    const out = runAll(2, x, k, gy, g);
    expectWithinBound('y', out.y, exact.y, mag.y, 27);
    expectWithinBound('gx', out.gx, exact.gx, mag.gx, 36);
    expectWithinBound('gk', out.gk, exact.gk, mag.gk, g.n * g.oh * g.ow);
  });

  it('conv2d takes this path by default, and the im2col path when asked or when the operands would not fit', () => {
    const [xs, ks]: [Case[0], Case[1]] = [[2, 6, 6, 3], [3, 3, 3, 4]];
    const g = conv2dGeometry(xs, ks, 1, 'same');
    const x = rand(size(xs), 11);
    const k = rand(size(ks), 12);
    const gy = rand(g.n * g.oh * g.ow * g.cout, 13);
    const wasm = { y: conv2dForwardWasm(x, k, g), gx: conv2dBackwardInputWasm(gy, k, g), gk: conv2dBackwardKernelWasm(x, gy, g) };
    const viaIm2col = {
      y: conv2dForward(x, k, g, { method: 'im2col' }),
      gx: conv2dBackwardInput(gy, k, g, { method: 'im2col' }),
      gk: conv2dBackwardKernel(x, gy, g, { method: 'im2col' }),
    };
    let calls = conv2dWasmCalls();
    expect(conv2dForward(x, k, g)).toEqual(wasm.y);
    expect(conv2dBackwardInput(gy, k, g)).toEqual(wasm.gx);
    expect(conv2dBackwardKernel(x, gy, g)).toEqual(wasm.gk);
    expect(conv2dWasmCalls() - calls).toBe(3);

    expect(conv2dWasmFits(g)).toBe(true);
    saved = setWasmLimits({ chunkBytes: 1024 });
    expect(conv2dWasmFits(g)).toBe(false);
    calls = conv2dWasmCalls();
    expect(conv2dForward(x, k, g)).toEqual(viaIm2col.y);
    expect(conv2dBackwardInput(gy, k, g)).toEqual(viaIm2col.gx);
    expect(conv2dBackwardKernel(x, gy, g)).toEqual(viaIm2col.gk);
    expect(conv2dWasmCalls()).toBe(calls); // none of them ran here
  });
});
