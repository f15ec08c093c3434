/**
 * gemmWasm (WebAssembly SIMD, one or two threads) against the naive float64
 * loop, on awkward shapes: 1, primes, sizes just past the tile and block
 * sizes (MR = 4, NR = 8, KC = 256, MC = 128), m = 1, n = 1, k = 1, k = 0,
 * long k; all four trans combinations; both ways of reading A (in place for
 * n <= 16, packed otherwise), both splits (by rows; by depth when m <= 28 and
 * k >= 512) and row chunking.
 *
 * Tolerance, derived rather than tuned: gemmWasm sums in float32, so each
 * product and each addition rounds once (unit roundoff u = 2^-24). For a sum
 * of k products (+ C when accumulating, + the depth split's one extra
 * addition) the classic bound for recursive summation gives
 *   |C - exact| <= gamma_{k+2} * (sum_p |op(A)[i,p] op(B)[p,j]| + |C0[i,j]|),
 *   gamma_j = j u / (1 - j u).
 * The float64 reference is exact to ~k * 2^-53, far below that. The bound
 * holds for any correct float32 summation order and fails for a wrong index,
 * a dropped or doubled term, or stale values leaking from the buffers.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ready, setThreads, threads as currentThreads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { gemmWasm, gemmWasmStats, gemmWorkspace } from '../../../src/tensor/kernels/wasm/gemm-wasm.js';
import { setWasmLimits, type WasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { wasmRuntime } from '../../../src/tensor/kernels/wasm/runtime.js';
import { expectSameBits } from '../../helpers.js';
import { naiveGemm, rand } from './reference.js';

const U = 2 ** -24;

function expectWithinBound(c: Float32Array, a: Float32Array, b: Float32Array, m: number, k: number, n: number,
  transA: boolean, transB: boolean, c0?: Float32Array): void {
  const exact = naiveGemm(a, b, m, k, n, transA, transB);
  const mag = naiveGemm(a.map(Math.abs), b.map(Math.abs), m, k, n, transA, transB);
  const gamma = ((k + 2) * U) / (1 - (k + 2) * U);
  expect(c.length).toBe(m * n);
  for (let i = 0; i < m * n; i++) {
    const want = exact[i]! + (c0 ? c0[i]! : 0);
    const bound = gamma * (mag[i]! + (c0 ? Math.abs(c0[i]!) : 0));
    if (!(Math.abs(c[i]! - want) <= bound)) {
      expect.fail(`[${m},${k}]x[${k},${n}] transA=${transA} transB=${transB}: element ${i} is ${c[i]}, expected ${want} within ${bound}`);
    }
  }
}

/** Runs gemmWasm with `threads`; returns C. */
function run(threads: 1 | 2, a: Float32Array, b: Float32Array, m: number, k: number, n: number,
  opts: { transA: boolean; transB: boolean; accumulate?: boolean }, c0?: Float32Array): Float32Array {
  setThreads(threads);
  const c = c0 ? Float32Array.from(c0) : new Float32Array(m * n).fill(Number.NaN); // NaN: must be overwritten
  gemmWasm(a, b, c, m, k, n, opts);
  return c;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1], [1, 7, 1], [1, 13, 5], [5, 1, 3], [3, 2, 1], [4, 8, 8], [8, 9, 16], [7, 11, 13],
  [17, 3, 29], [31, 37, 2], [33, 5, 17], [67, 19, 9], [5, 257, 6], [9, 300, 70], [2, 3, 1030],
  [129, 257, 17], [130, 513, 9], [1030, 20, 5], [1, 600, 1], [3, 1031, 16], [28, 1100, 37],
  [29, 520, 5], [2, 5003, 3],
];
const TRANS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];

let saved: WasmLimits;
const threadsBefore = currentThreads();

beforeAll(async () => {
  expect(wasmAvailable()).toBe(true);
  // Every shape big enough to split goes to the helper thread.
  saved = setWasmLimits({ parallelFlops: 0 });
  setThreads(2);
  expect(await ready()).toBe(true);
});

afterAll(() => {
  setWasmLimits(saved);
  setThreads(threadsBefore);
});

describe('gemmWasm', () => {
  it('covers both ways of reading A and both splits with the shapes below', () => {
    const X = wasmRuntime()!.exports;
    const inPlace = SHAPES.flatMap(([m, , n]) => [X.readInPlace(0, m, n), X.readInPlace(1, m, n)]);
    expect(inPlace).toContain(1);
    expect(inPlace).toContain(0);
    expect(SHAPES.some(([m, k]) => m <= 28 && k >= 512)).toBe(true);
    expect(X.readInPlace(1, 1030, 5)).toBe(0); // a transposed A with a long stride is packed
    expect(X.readInPlace(0, 1030, 5)).toBe(1);
  });

  for (const [m, k, n] of SHAPES) {
    for (const [transA, transB] of TRANS) {
      it(`[${m},${k}]x[${k},${n}] transA=${transA} transB=${transB}: 1 and 2 threads, same bits`, () => {
        const a = rand(m * k, m * 1000 + k);
        const b = rand(k * n, n * 1000 + k + 1);
        const one = run(1, a, b, m, k, n, { transA, transB });
        expectWithinBound(one, a, b, m, k, n, transA, transB);
        const before = gemmWasmStats().twoThreadCalls;
        const two = run(2, a, b, m, k, n, { transA, transB });
        // A row split needs at least 5 rows (4 here, the rest there), or a depth split.
        const splits = m >= 5 || (m <= 28 && k >= 512);
        expect(gemmWasmStats().twoThreadCalls - before).toBe(splits ? 1 : 0);
        expect(two).toEqual(one);
      });
    }
  }

  for (const [transA, transB] of TRANS) {
    it(`accumulate adds into C (transA=${transA} transB=${transB}), rows and depth splits`, () => {
      for (const [m, k, n] of [[13, 71, 10], [37, 300, 29], [5, 900, 11]] as const) {
        const a = rand(m * k, 1);
        const b = rand(k * n, 2);
        const c0 = rand(m * n, 3);
        const one = run(1, a, b, m, k, n, { transA, transB, accumulate: true }, c0);
        expectWithinBound(one, a, b, m, k, n, transA, transB, c0);
        expect(run(2, a, b, m, k, n, { transA, transB, accumulate: true }, c0)).toEqual(one);
      }
    });
  }

  it('network shapes: conv forward, input gradient and kernel gradient GEMMs', () => {
    // conv7 of the lesson network at batch 64: rows 3136, q = 3*3*24, cout 28.
    const [rows, q, cout] = [3136, 216, 28];
    const cols = rand(rows * q, 11);
    const kernel = rand(q * cout, 12);
    const gy = rand(rows * cout, 13);
    const cases: [Float32Array, Float32Array, number, number, number, boolean, boolean][] = [
      [cols, kernel, rows, q, cout, false, false], // y = cols · K
      [gy, kernel, rows, cout, q, false, true], // gcols = gy · K^T
      [cols, gy, q, rows, cout, true, false], // gK = cols^T · gy
      [rand(9 * 3000, 14), rand(3000 * 4, 15), 9, 3000, 4, true, false], // conv1's kernel gradient: a depth split
    ];
    for (const [a, b, m, k, n, transA, transB] of cases) {
      const two = run(2, a, b, m, k, n, { transA, transB });
      expectWithinBound(two, a, b, m, k, n, transA, transB);
      expectSameBits(run(1, a, b, m, k, n, { transA, transB }), two); // toEqual would take seconds here
    }
  });

  it('splits large operands into row chunks with the same result', () => {
    for (const transA of [false, true]) {
      const [m, k, n] = [203, 67, 21];
      const a = rand(m * k, 21);
      const b = rand(k * n, 22);
      const c0 = rand(m * n, 23);
      const whole = run(2, a, b, m, k, n, { transA, transB: false, accumulate: true }, c0);
      const prev = setWasmLimits({ chunkBytes: 64 * 1024 }); // about 10 chunks of rows
      try {
        for (const threads of [1, 2] as const) {
          expect(run(threads, a, b, m, k, n, { transA, transB: false, accumulate: true }, c0)).toEqual(whole);
        }
      } finally {
        setWasmLimits(prev);
      }
      expectWithinBound(whole, a, b, m, k, n, transA, false, c0);
    }
  });

  it('grows the shared memory, and the helper thread computes in the grown part', () => {
    const [m, k, n] = [1500, 700, 3]; // 4.2 MB of A, more than the 1 MiB the memory starts with
    const a = rand(m * k, 31);
    const b = rand(k * n, 32);
    const jobs = gemmWasmStats().helperJobs;
    const c = run(2, a, b, m, k, n, { transA: false, transB: false });
    expect(gemmWasmStats().memoryBytes).toBeGreaterThanOrEqual(4 * m * k);
    expect(gemmWasmStats().helperJobs).toBe(jobs + 1);
    expectWithinBound(c, a, b, m, k, n, false, false);
  });

  it('the helper thread survives many calls of changing shapes, and stays deterministic', () => {
    const jobs = gemmWasmStats().helperJobs;
    let twoThreadCalls = 0;
    for (let t = 0; t < 400; t++) {
      const [m, k, n] = [8 + (t % 37), 1 + ((t * 7) % 61), 1 + ((t * 5) % 23)];
      const transA = t % 2 === 1;
      const transB = t % 3 === 1;
      const a = rand(m * k, 100 + t);
      const b = rand(k * n, 200 + t);
      const two = run(2, a, b, m, k, n, { transA, transB });
      twoThreadCalls++;
      if (t % 20 === 0) {
        expect(run(1, a, b, m, k, n, { transA, transB })).toEqual(two);
        expectWithinBound(two, a, b, m, k, n, transA, transB);
      }
    }
    expect(gemmWasmStats().helperJobs - jobs).toBe(twoThreadCalls);
  });

  it('operands in the workspace are used in place, with the same result as copied ones', () => {
    const [m, k, n] = [45, 33, 19];
    for (const [transA, transB] of TRANS) {
      for (const accumulate of [false, true]) {
        const a = rand(m * k, 41);
        const b = rand(k * n, 42);
        const c0 = rand(m * n, 43);
        const want = run(2, a, b, m, k, n, { transA, transB, accumulate }, c0);
        // Every combination of A, B, C inside the workspace (at odd offsets) or not.
        for (let mask = 1; mask < 8; mask++) {
          const ws = gemmWorkspace(1 + m * k + 3 + k * n + 5 + m * n);
          const wa = ws.subarray(1, 1 + m * k);
          const wb = ws.subarray(4 + m * k, 4 + m * k + k * n);
          const wc = ws.subarray(9 + m * k + k * n);
          wa.set(a); wb.set(b); wc.set(c0);
          const cc = mask & 4 ? wc : Float32Array.from(c0);
          gemmWasm(mask & 1 ? wa : a, mask & 2 ? wb : b, cc, m, k, n, { transA, transB, accumulate });
          expect(cc).toEqual(want);
          expect([...wa]).toEqual([...a]); // inputs untouched
        }
      }
    }
  });

  it('the workspace keeps its address: a longer request extends it, views from before a memory growth still work', () => {
    const small = gemmWorkspace(10);
    small.fill(3);
    const before = gemmWasmStats().memoryBytes;
    const [m, k, n] = [2000, 1100, 2]; // 8.8 MB, more than any test before: grows the memory
    const big = gemmWorkspace(m * k);
    expect(gemmWasmStats().memoryBytes).toBeGreaterThan(before);
    expect(big.buffer).not.toBe(small.buffer);
    expect(big.byteOffset).toBe(small.byteOffset);
    expect([...big.subarray(0, 10)]).toEqual(new Array(10).fill(3));
    const a = rand(m * k, 51);
    const b = rand(k * n, 52);
    big.set(a);
    const c = new Float32Array(m * n);
    gemmWasm(big, b, c, m, k, n);
    expectWithinBound(c, a, b, m, k, n, false, false);
    // `small` was made before the growth, over the memory's old SharedArrayBuffer.
    const c2 = new Float32Array(2 * n);
    gemmWasm(small.subarray(0, 2 * 5), rand(5 * n, 53), c2, 2, 5, n);
    expectWithinBound(c2, a.subarray(0, 10), rand(5 * n, 53), 2, 5, n, false, false);
    expect(() => gemmWorkspace(-1)).toThrow('gemmWorkspace: length must be a non-negative integer, got -1');
  });

  it('a trap on the helper thread becomes an error here, and the helper keeps working', () => {
    const rt = wasmRuntime()!;
    expect(rt.helperReady()).toBe(true);
    let mineRan = false;
    // gemmRows on the helper with A at the top of the 4 GiB address space: out of bounds.
    const bad = [0xfffff000, 0, 8, 8, 0, 8, rt.heapStart, 1, 0, 8, 0, 8, rt.scratch[1]] as const;
    expect(() => rt.split({ fn: 'gemmRows', args: [...bad] }, () => { mineRan = true; })).toThrow(/gemmWasm: the helper thread failed: RuntimeError: memory access out of bounds/);
    expect(mineRan).toBe(true);
    const [m, k, n] = [40, 30, 20];
    const a = rand(m * k, 61);
    const b = rand(k * n, 62);
    const jobs = gemmWasmStats().helperJobs;
    expectWithinBound(run(2, a, b, m, k, n, { transA: false, transB: false }), a, b, m, k, n, false, false);
    expect(gemmWasmStats().helperJobs).toBe(jobs + 1);
  });

  it('values left in memory by an earlier call do not leak into edge tiles', () => {
    const big = new Float32Array(70 * 300).fill(Number.NaN);
    run(2, big, big, 70, 300, 70, { transA: false, transB: false }); // NaN everywhere in A, B, C and scratch
    for (const [m, k, n] of [[5, 9, 7], [6, 300, 21], [13, 5, 3]] as const) {
      const a = rand(m * k, 6);
      const b = rand(k * n, 7);
      expectWithinBound(run(2, a, b, m, k, n, { transA: false, transB: false }), a, b, m, k, n, false, false);
      expectWithinBound(run(2, a, b, m, k, n, { transA: true, transB: true }), a, b, m, k, n, true, true);
    }
  });

  it('k = 0 gives zeros (or leaves C unchanged with accumulate); m = 0 or n = 0 does nothing', () => {
    const c = new Float32Array(6).fill(7);
    gemmWasm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3, { accumulate: true });
    expect([...c]).toEqual([7, 7, 7, 7, 7, 7]);
    gemmWasm(new Float32Array(0), new Float32Array(0), c, 2, 0, 3);
    expect([...c]).toEqual([0, 0, 0, 0, 0, 0]);
    c.fill(7);
    gemmWasm(new Float32Array(0), new Float32Array(5), c, 0, 5, 1);
    gemmWasm(new Float32Array(5), new Float32Array(0), c, 1, 5, 0);
    expect([...c]).toEqual([7, 7, 7, 7, 7, 7]);
  });

  it('a hand-worked 2x2 product, in all four trans combinations', () => {
    // [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]]; A^T·B = [[26,30],[38,44]];
    // A·B^T = [[17,23],[39,53]]; A^T·B^T = [[23,31],[34,46]]
    const a = Float32Array.of(1, 2, 3, 4);
    const b = Float32Array.of(5, 6, 7, 8);
    const c = new Float32Array(4);
    gemmWasm(a, b, c, 2, 2, 2);
    expect([...c]).toEqual([19, 22, 43, 50]);
    gemmWasm(a, b, c, 2, 2, 2, { transA: true });
    expect([...c]).toEqual([26, 30, 38, 44]);
    gemmWasm(a, b, c, 2, 2, 2, { transB: true });
    expect([...c]).toEqual([17, 23, 39, 53]);
    gemmWasm(a, b, c, 2, 2, 2, { transA: true, transB: true });
    expect([...c]).toEqual([23, 31, 34, 46]);
  });

  it('works on subarray views and leaves the rest of C alone', () => {
    const [m, k, n] = [6, 5, 7];
    const a = rand(m * k + 10, 4).subarray(10);
    const b = rand(k * n + 3, 5).subarray(3);
    const cbuf = new Float32Array(m * n + 8).fill(42);
    gemmWasm(a, b, cbuf.subarray(4, 4 + m * n), m, k, n);
    expectWithinBound(cbuf.slice(4, 4 + m * n), a, b, m, k, n, false, false);
    expect([...cbuf.subarray(0, 4), ...cbuf.subarray(4 + m * n)]).toEqual([42, 42, 42, 42, 42, 42, 42, 42]);
  });

  it('rejects arrays too short for the sizes, bad sizes and bad thread counts', () => {
    const z = new Float32Array(12);
    expect(() => gemmWasm(new Float32Array(5), z, z, 2, 3, 4)).toThrow('gemmWasm: A has 5 values, needs m*k = 2*3');
    expect(() => gemmWasm(z, new Float32Array(11), z, 2, 3, 4)).toThrow('gemmWasm: B has 11 values, needs k*n = 3*4');
    expect(() => gemmWasm(z, z, new Float32Array(7), 2, 3, 4)).toThrow('gemmWasm: C has 7 values, needs m*n = 2*4');
    expect(() => gemmWasm(z, z, z, 2.5, 3, 4)).toThrow('gemmWasm: m must be a non-negative integer, got 2.5');
    expect(() => gemmWasm(z, z, z, 2, -1, 4)).toThrow('gemmWasm: k must be a non-negative integer, got -1');
    expect(() => setThreads(3 as 2)).toThrow('setThreads: n must be 1 or 2, got 3');
  });
});

describe('gemmWasm and the process lifetime', () => {
  const src = fileURLToPath(new URL('../../../src/tensor/kernels/wasm/gemm-wasm.ts', import.meta.url));
  const backendSrc = fileURLToPath(new URL('../../../src/tensor/kernels/backend.ts', import.meta.url));
  const script = (ending: string): string => `
    import { gemmWasm, gemmWasmStats } from ${JSON.stringify(src)};
    import { ready } from ${JSON.stringify(backendSrc)};
    if (!(await ready())) throw new Error('no helper');
    const m = 256, k = 256, n = 256;
    const a = new Float32Array(m * k).fill(0.5), c = new Float32Array(m * n);
    gemmWasm(a, a, c, m, k, n);
    if (c[0] !== 64 || gemmWasmStats().helperJobs !== 1) throw new Error('bad result ' + c[0]);
    console.log('computed');
    ${ending}
  `;

  for (const [name, ending] of [
    ['ends by itself', ''],
    ['process.exit() while the helper waits for work', 'process.exit(3);'],
  ] as const) {
    it(`a process that used the helper thread ${name}`, () => {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(ending)], {
        encoding: 'utf8', timeout: 30_000,
      });
      expect(r.error).toBeUndefined();
      expect(r.signal).toBeNull(); // not killed by the timeout
      expect(r.stdout).toContain('computed');
      expect(r.status).toBe(ending === '' ? 0 : 3);
    });
  }
});
