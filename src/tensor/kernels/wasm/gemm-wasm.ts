/**
 * gemm on WebAssembly SIMD128, on up to two threads:
 *
 *   C[m,n] (+)= op(A)[m,k] · op(B)[k,n]      C[i,j] = sum_p op(A)[i,p] op(B)[p,j]
 *
 * The same contract as `gemm` in ../gemm.ts (A stored [m,k] or [k,m] with
 * transA, B [k,n] or [n,k] with transB, row-major, C overwritten unless
 * accumulate), but the sums are accumulated in float32, in the order
 * p = 0..k-1 (module source: wasm/gemm.ts, a 4x8 register tile).
 *
 * One call: copy B into the shared memory and pack it once (both threads
 * read the packed copy), copy A (and C when accumulating), then split the
 * work and copy C out. The split depends on the shape only, never on the
 * thread count, so one and two threads give identical bits:
 *   rows:   C[0:h, :] here, C[h:m, :] on the helper;
 *   depth:  (m <= 28, k >= 512) C (+)= A[:, 0:h]·B[0:h, :] here, a partial
 *           P = A[:, h:k]·B[h:k, :] on the helper, then C += P.
 * Small problems stay on one thread and very large operands go in row chunks
 * (docs/speed.md, "The helper's waits and the two job modes", says why).
 */
import type { GemmOptions } from '../gemm.js';
import { wasmLimits } from './limits.js';
import { wasmRuntime, type WasmRuntime, type Job } from './runtime.js';

/** The same options as `gemm` (transA, transB, accumulate). */
export type GemmWasmOptions = GemmOptions;

/** Rows of the register tile in wasm/gemm.ts. */
const MR = 4;
/** The depth split applies when C has at most this many rows and k is at least DEPTH_SPLIT_K. */
const DEPTH_SPLIT_ROWS = 28;
const DEPTH_SPLIT_K = 512;

/**
 * A Float32Array of `length` floats inside the shared WebAssembly memory.
 * gemmWasm uses an operand that is (a subarray of) this view where it is,
 * instead of copying it in (A, B) or out (C): build an im2col patch matrix
 * here and the copy of a multi-megabyte A disappears. There is one
 * workspace, always at the same address: a longer request extends it, and
 * earlier views stay valid (they alias its start). Operands must not overlap C.
 */
export function gemmWorkspace(length: number): Float32Array {
  if (!Number.isInteger(length) || length < 0) throw new Error(`gemmWorkspace: length must be a non-negative integer, got ${String(length)}`);
  const rt = wasmRuntime();
  if (rt === null) throw new Error('gemmWorkspace: this runtime lacks WebAssembly SIMD128 or shared memory; check wasmAvailable() first');
  return rt.workspace(length);
}

/** Counters for tests and benchmarks. */
export interface GemmWasmStats {
  /** Calls that ran on two threads. */
  twoThreadCalls: number;
  /** Jobs the helper thread has completed. */
  helperJobs: number;
  /** Size of the shared memory in bytes. */
  memoryBytes: number;
}

let twoThreadCalls = 0;

export function gemmWasmStats(): GemmWasmStats {
  const rt = wasmRuntime();
  return { twoThreadCalls, helperJobs: rt?.helperJobs() ?? 0, memoryBytes: rt?.memory.buffer.byteLength ?? 0 };
}

export function gemmWasm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, k: number, n: number, opts: GemmWasmOptions = {},
): void {
  const { transA = false, transB = false, accumulate = false } = opts;
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`gemmWasm: ${name} must be a non-negative integer, got ${String(v)}`);
  }
  if (a.length < m * k) throw new Error(`gemmWasm: A has ${a.length} values, needs m*k = ${m}*${k}`);
  if (b.length < k * n) throw new Error(`gemmWasm: B has ${b.length} values, needs k*n = ${k}*${n}`);
  if (c.length < m * n) throw new Error(`gemmWasm: C has ${c.length} values, needs m*n = ${m}*${n}`);
  if (m === 0 || n === 0) return;
  if (k === 0) {
    if (!accumulate) c.fill(0, 0, m * n);
    return;
  }
  const rt = wasmRuntime();
  if (rt === null) throw new Error('gemmWasm: this runtime lacks WebAssembly SIMD128 or shared memory; check wasmAvailable() first');

  const X = rt.exports;
  const limits = wasmLimits();
  const parallel = rt.threads === 2 && 2 * m * n * k >= limits.parallelFlops;
  if (parallel) rt.wake(); // the helper wakes while the operands are copied in
  const depthSplit = m <= DEPTH_SPLIT_ROWS && k >= DEPTH_SPLIT_K;
  // Operands that are gemmWorkspace() views are used where they are.
  const aAt = rt.inWorkspace(a, m * k);
  const bAt = rt.inWorkspace(b, k * n);
  const cAt = rt.inWorkspace(c, m * n);

  // Layout after the workspace: packed B, B, the partial P of a depth split,
  // then A and C of a chunk of rows.
  let top = rt.callStart();
  const bp = top; top += align(X.packedBBytes(k, n));
  const bo = bAt ?? top; if (bAt === null) top += align(4 * k * n);
  const po = top; if (depthSplit) top += align(4 * m * n);
  const perRow = 4 * ((aAt === null ? k : 0) + (cAt === null ? n : 0));
  const budget = Math.max(limits.chunkBytes - top, 0);
  const chunk = aAt !== null || perRow === 0 ? m : Math.max(MR, Math.min(m, MR * Math.floor(budget / perRow / MR)));
  const ao = top; if (aAt === null) top += align(4 * chunk * k);
  const co = top; if (cAt === null) top += align(4 * chunk * n);

  let f = rt.f32(top);
  if (bAt === null) f.set(b.subarray(0, k * n), bo >> 2);
  X.packB(bo, k, n, transB ? 1 : 0, bp);

  const ta = transA ? 1 : 0;
  const ow = accumulate ? 0 : 1;
  const [s0, s1] = rt.scratch;
  let usedTwo = false;
  for (let r0 = 0; r0 < m; r0 += chunk) {
    const r1 = Math.min(m, r0 + chunk);
    const rows = r1 - r0;
    if (parallel && r0 > 0) rt.wake();
    f = rt.f32(top);
    if (aAt !== null) {
      // in place (then chunk = m)
    } else if (!transA) {
      f.set(a.subarray(r0 * k, r1 * k), ao >> 2);
    } else if (rows === m) {
      f.set(a.subarray(0, k * m), ao >> 2);
    } else {
      // op(A) rows r0..r1 are columns of the stored [k, m] A: one run per p.
      for (let p = 0, d = ao >> 2; p < k; p++, d += rows) f.set(a.subarray(p * m + r0, p * m + r1), d);
    }
    const ap = aAt ?? ao;
    const cp = cAt === null ? co : cAt + 4 * r0 * n;
    if (accumulate && cAt === null) f.set(c.subarray(r0 * n, r1 * n), co >> 2);
    let threads: 1 | 2;
    if (depthSplit) {
      const h = k >> 1;
      const theirs: Job = { fn: 'gemmRows', args: [ap, ta, rows, k, bp, n, po, 1, 0, rows, h, k, s1] };
      const mine = (): void => X.gemmRows(ap, ta, rows, k, bp, n, cp, ow, 0, rows, 0, h, s0);
      threads = parallel ? rt.split(theirs, mine) : solo(rt, theirs, mine);
      X.addInto(cp, po, rows * n);
    } else {
      const h = parallel ? Math.min(rows, MR * Math.round(rows / 2 / MR)) : rows;
      const theirs: Job = { fn: 'gemmRows', args: [ap, ta, rows, k, bp, n, cp, ow, h, rows, 0, k, s1] };
      const mine = (): void => X.gemmRows(ap, ta, rows, k, bp, n, cp, ow, 0, h, 0, k, s0);
      // Accumulating rows h..rows: if the helper stops inside them, restore them from c (not possible in place).
      const reset = !accumulate ? undefined : cAt !== null ? null : () => rt.f32(top).set(c.subarray((r0 + h) * n, r1 * n), (co >> 2) + h * n);
      threads = parallel && h > 0 && h < rows ? rt.split(theirs, mine, reset) : solo(rt, theirs, mine);
    }
    usedTwo ||= threads === 2;
    if (cAt === null) c.set(rt.f32(top).subarray(co >> 2, (co >> 2) + rows * n), r0 * n);
  }
  if (usedTwo) twoThreadCalls++;
}

/** Both shares on this thread, `mine` first (the same order split() falls back to). */
function solo(rt: WasmRuntime, theirs: Job, mine: () => void): 1 {
  mine();
  rt.run(theirs);
  return 1;
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}
