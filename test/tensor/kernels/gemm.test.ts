/**
 * gemm against the naive triple loop (float64) on awkward shapes: 1, primes,
 * and sizes just past gemmJs' block sizes (MR = 1, NR = 7, MC = 64, KC = 256,
 * NC = 259), for all four trans combinations, with and without accumulate.
 * Inputs are uniform in [-1, 1); gemm accumulates in float64 and rounds once
 * per 256-long block, so it matches to atol 1e-5 plus rtol 1e-4.
 */
import { describe, expect, it } from 'vitest';
import { setBackend } from '../../../src/tensor/kernels/backend.js';
import { gemm as gemmSelected, gemmJs } from '../../../src/tensor/kernels/gemm.js';
import { expectClose } from '../../helpers.js';
import { naiveGemm, rand } from './reference.js';

const ATOL = 1e-5;
const RTOL = 1e-4;

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [1, 7, 1],
  [1, 13, 5],
  [5, 1, 3],
  [3, 2, 1],
  [4, 4, 4],
  [7, 11, 13],
  [17, 3, 29],
  [31, 37, 2],
  [67, 19, 9],
  [5, 257, 6],
  [9, 300, 70],
  [2, 3, 1030],
  [65, 258, 256],
  [3, 9, 260], // one column past NC
  [2, 5, 14], // two whole 7-wide panels
  [66, 20, 8], // one column past NR, one row past MC
];
const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

// Both implementations behind `gemm` meet one contract: the plain-TypeScript
// reference, and whatever the default backend is here (WebAssembly SIMD where supported).
describe.each([
  ['gemmJs (plain TypeScript)', gemmJs],
  ['gemm (default backend)', gemmSelected],
] as const)('%s', (_name, gemm) => {
  for (const [m, k, n] of SHAPES) {
    for (const [transA, transB] of TRANS) {
      it(`[${m},${k}]x[${k},${n}] transA=${transA} transB=${transB}`, () => {
        const a = rand(m * k, m * 1000 + k);
        const b = rand(k * n, n * 1000 + k + 1);
        const c = new Float32Array(m * n).fill(Number.NaN); // overwritten, never read
        gemm(a, b, c, m, k, n, { transA, transB });
        expectClose(c, naiveGemm(a, b, m, k, n, transA, transB), { atol: ATOL, rtol: RTOL });
      });
    }
  }

  for (const [transA, transB] of TRANS) {
    it(`accumulate adds into C (transA=${transA} transB=${transB})`, () => {
      const [m, k, n] = [13, 71, 10];
      const a = rand(m * k, 1);
      const b = rand(k * n, 2);
      const c0 = rand(m * n, 3);
      const c = Float32Array.from(c0);
      gemm(a, b, c, m, k, n, { transA, transB, accumulate: true });
      const ref = naiveGemm(a, b, m, k, n, transA, transB).map((v, i) => v + c0[i]!);
      expectClose(c, ref, { atol: ATOL, rtol: RTOL });
    });
  }

  it('works on subarray views and leaves the rest of C alone', () => {
    const [m, k, n] = [6, 5, 7];
    const abuf = rand(m * k + 10, 4);
    const bbuf = rand(k * n + 3, 5);
    const cbuf = new Float32Array(m * n + 8).fill(42);
    const a = abuf.subarray(10);
    const b = bbuf.subarray(3);
    gemm(a, b, cbuf.subarray(4, 4 + m * n), m, k, n);
    expectClose(cbuf.subarray(4, 4 + m * n), naiveGemm(a, b, m, k, n, false, false), { atol: ATOL, rtol: RTOL });
    expect([...cbuf.subarray(0, 4), ...cbuf.subarray(4 + m * n)]).toEqual([42, 42, 42, 42, 42, 42, 42, 42]);
  });

  it('values left in the packing buffers by an earlier call do not leak into edge tiles', () => {
    const big = new Float32Array(70 * 300).fill(Number.NaN);
    gemm(big, big, new Float32Array(70 * 70), 70, 300, 70); // fills every panel lane with NaN
    const [m, k, n] = [5, 9, 7];
    const a = rand(m * k, 6);
    const b = rand(k * n, 7);
    const c = new Float32Array(m * n);
    gemm(a, b, c, m, k, n);
    expectClose(c, naiveGemm(a, b, m, k, n, false, false), { atol: ATOL, rtol: RTOL });
  });

  it('k = 0 gives zeros (or leaves C unchanged with accumulate)', () => {
    const c = new Float32Array(6).fill(7);
    gemm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3, { accumulate: true });
    expect([...c]).toEqual([7, 7, 7, 7, 7, 7]);
    gemm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3);
    expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('a hand-worked 2x2 product', () => {
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; A^T·B = [[26,30],[38,44]]
    const a = Float32Array.of(1, 2, 3, 4);
    const b = Float32Array.of(5, 6, 7, 8);
    const c = new Float32Array(4);
    gemm(a, b, c, 2, 2, 2);
    expect([...c]).toEqual([19, 22, 43, 50]);
    gemm(a, b, c, 2, 2, 2, { transA: true });
    expect([...c]).toEqual([26, 30, 38, 44]);
  });

  it('rejects arrays too short for the sizes, and bad sizes', () => {
    const z = new Float32Array(12);
    const op = gemm === gemmJs ? 'gemmJs' : 'gemm';
    expect(() => gemm(new Float32Array(5), z, z, 2, 3, 4)).toThrow(`${op}: A has 5 values, needs m*k = 2*3`);
    expect(() => gemm(z, new Float32Array(11), z, 2, 3, 4)).toThrow(`${op}: B has 11 values, needs k*n = 3*4`);
    expect(() => gemm(z, z, new Float32Array(7), 2, 3, 4)).toThrow(`${op}: C has 7 values, needs m*n = 2*4`);
    expect(() => gemm(z, z, z, 2.5, 3, 4)).toThrow(`${op}: m must be a non-negative integer, got 2.5`);
  });
});

describe('setBackend', () => {
  it('switches between the plain TypeScript and the WebAssembly kernel, which agree', () => {
    const a = rand(37 * 53, 1);
    const b = rand(53 * 29, 2);
    const viaJs = new Float32Array(37 * 29);
    const viaDefault = new Float32Array(37 * 29);
    const previous = setBackend('js');
    try {
      gemmSelected(a, b, viaJs, 37, 53, 29);
    } finally {
      setBackend(previous);
    }
    gemmSelected(a, b, viaDefault, 37, 53, 29);
    expectClose(viaDefault, viaJs, { atol: ATOL, rtol: RTOL });
    // @ts-expect-error not a backend
    expect(() => setBackend('gpu')).toThrow("setBackend: expected 'wasm' or 'js', got 'gpu'");
  });
});
