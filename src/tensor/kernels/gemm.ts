/**
 * General matrix multiply over row-major Float32Arrays:
 *
 *   C[m,n] (+)= op(A)[m,k] · op(B)[k,n]      C[i,j] = sum_p op(A)[i,p] op(B)[p,j]
 *
 * op(X) is X, or X^T when trans is set: A is stored [m,k] (or [k,m] with
 * transA), B is stored [k,n] (or [n,k] with transB). Backward passes use the
 * transposed forms: dA = dC·B^T (transB), dB = A^T·dC (transA).
 *
 * gemmJs is blocked as in GotoBLAS/BLIS, each loop level on data that fits a cache level:
 *   for jc in steps of NC                           columns of C
 *     for pc in steps of KC                         the shared dimension
 *       bp <- op(B)[pc:pc+KC, jc:jc+NC]             as NR-wide column panels
 *       for ic in steps of MC                       rows of C
 *         ap <- op(A)[ic:ic+MC, pc:pc+KC]           as MR-tall row panels
 *         for each NR panel, for each MR panel:
 *           C[i, j:j+7] += sum_p ap[p] bp[p, 0:7]             (MR = 1, NR = 7)
 * 1x7 fills exactly V8's 15 registers (docs/speed.md, section 2). The panels
 * are float64: every sum is accumulated in double precision, p = 0..k-1 in
 * order, and rounded to float32 once per KC-long block.
 */

import { backend } from './backend.js';
import { gemmWasm } from './wasm/gemm-wasm.js';
import { sharesMemory } from '../check.js';

/** How `gemm` reads its operands and writes C. */
export interface GemmOptions {
  /** A is stored [k,m] and used as A^T. */
  transA?: boolean;
  /** B is stored [n,k] and used as B^T. */
  transB?: boolean;
  /** Add into C instead of overwriting it. */
  accumulate?: boolean;
}

const MR = 1;
const NR = 7;
const KC = 256;
const MC = 64;
const NC = 37 * NR;

// The packing buffers, one array per panel lane: A block 128 KB (L2), B block
// 518 KB, a B micro-panel 14 KB (L1). Fixed-size module constants, so V8
// compiles their addresses and lengths into the micro-kernel (about 25%
// faster than passing them in); `| 0` keeps the index arithmetic in int32
// without overflow checks. Nothing here is reentrant.
const ap = new Float64Array((MC / MR) * KC);
const bp0 = new Float64Array((NC / NR) * KC);
const bp1 = new Float64Array((NC / NR) * KC);
const bp2 = new Float64Array((NC / NR) * KC);
const bp3 = new Float64Array((NC / NR) * KC);
const bp4 = new Float64Array((NC / NR) * KC);
const bp5 = new Float64Array((NC / NR) * KC);
const bp6 = new Float64Array((NC / NR) * KC);
const apLanes = [ap];
const bpLanes = [bp0, bp1, bp2, bp3, bp4, bp5, bp6];
const tile = new Float64Array(MR * NR);

/**
 * C = op(A)·op(B), or C += op(A)·op(B) with `accumulate`, on row-major
 * Float32Arrays, with the selected backend (see `setBackend` in backend.ts).
 *
 * @example
 * const c = new Float32Array(4);
 * gemm(Float32Array.of(1, 2, 3, 4), Float32Array.of(5, 6, 7, 8), c, 2, 2, 2); // c = [19, 22, 43, 50]
 */
export function gemm(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, k: number, n: number, opts: GemmOptions = {},
): void {
  checkGemmArgs('gemm', a, b, c, m, k, n);
  if (backend() === 'wasm') gemmWasm(a, b, c, m, k, n, opts);
  else gemmJs(a, b, c, m, k, n, opts);
}

/** Throws unless the sizes are non-negative integers and the arrays hold enough values. */
function checkGemmArgs(op: string, a: Float32Array, b: Float32Array, c: Float32Array, m: number, k: number, n: number): void {
  for (const [name, v] of [['m', m], ['k', k], ['n', n]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${op}: ${name} must be a non-negative integer, got ${String(v)}`);
  }
  if (a.length < m * k) throw new Error(`${op}: A has ${a.length} values, needs m*k = ${m}*${k}`);
  if (b.length < k * n) throw new Error(`${op}: B has ${b.length} values, needs k*n = ${k}*${n}`);
  if (c.length < m * n) throw new Error(`${op}: C has ${c.length} values, needs m*n = ${m}*${n}`);
}

/** The plain-TypeScript packed GEMM: the readable reference implementation. */
export function gemmJs(
  a: Float32Array, b: Float32Array, c: Float32Array,
  m: number, k: number, n: number, opts: GemmOptions = {},
): void {
  const { transA = false, transB = false, accumulate = false } = opts;
  checkGemmArgs('gemmJs', a, b, c, m, k, n);
  // C is cleared, then written block by block while A and B are still read: it must not share their memory.
  if (sharesMemory(c, a) || sharesMemory(c, b)) throw new Error(`gemmJs: C shares memory with ${sharesMemory(c, a) ? 'A' : 'B'}; pass a separate output array`);
  if (!accumulate) c.fill(0, 0, m * n);
  if (m === 0 || n === 0 || k === 0) return;

  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      // op(B)[p, j] is b[p*n + j], or b[j*k + p] with transB.
      if (transB) pack(b, k, false, jc, nc, pc, kc, bpLanes);
      else pack(b, n, true, jc, nc, pc, kc, bpLanes);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        // op(A)[i, p] is a[i*k + p], or a[p*m + i] with transA.
        if (transA) pack(a, m, true, ic, mc, pc, kc, apLanes);
        else pack(a, k, false, ic, mc, pc, kc, apLanes);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = Math.min(NR, nc - jr);
          for (let ir = 0; ir < mc; ir += MR) {
            kernel1x7((ir / MR) * kc, (jr / NR) * kc, kc);
            addTile(c, (ic + ir) * n + jc + jr, nr);
          }
        }
      }
    }
  }
}

/**
 * Copies the block X[t0:t0+cnt, p0:p0+kc] into panels of R = lanes.length
 * lines, line t going to lane t % R:
 *   lanes[t % R][floor(t / R)*kc + p] = X[t0+t, p0+p]
 * where X[t, p] is x[t*ld + p], or x[p*ld + t] when `pMajor`. Each lane is
 * filled in order, one line (t = r, r+R, r+2R, ...) after another, so the
 * writes are sequential and no index needs a division. A last panel of fewer
 * than R lines keeps stale values in its unused lanes; they only reach the
 * tile rows/columns addTile drops.
 */
function pack(
  x: Float32Array, ld: number, pMajor: boolean,
  t0: number, cnt: number, p0: number, kc: number, lanes: readonly Float64Array[],
): void {
  const R = lanes.length;
  for (let r = 0; r < R; r++) {
    const lane = lanes[r]!;
    for (let t = r, dst = 0; t < cnt; t += R, dst += kc) {
      // X[t0+t, p0+p] for p = 0..kc-1: contiguous, or a column of stride ld.
      const src = pMajor ? p0 * ld + t0 + t : (t0 + t) * ld + p0;
      const step = pMajor ? ld : 1;
      for (let p = 0; p < kc; p++) lane[dst + p] = x[src + p * step]!;
    }
  }
}

/**
 * tile[j] = sum_p ap[ia + p] * bpj[jb + p]: one 1x7 block of op(A)·op(B)
 * from the A panel starting at ia and the B panel starting at jb. The A
 * load uses the index ia and all B loads jb, with arrays of one length
 * each, so V8 emits two bounds checks per step instead of eight. Each
 * product is written `b * a` so V8 folds the B load into the multiply.
 * Straight-line code with no edge cases, so V8 keeps it optimized; addTile
 * does the rest.
 */
function kernel1x7(ia: number, jb: number, kc: number): void {
  let c0 = 0, c1 = 0, c2 = 0, c3 = 0, c4 = 0, c5 = 0, c6 = 0;
  const end = (ia + kc) | 0;
  for (; ia < end; ia = (ia + 1) | 0, jb = (jb + 1) | 0) {
    const a = ap[ia]!;
    c0 += bp0[jb]! * a; c1 += bp1[jb]! * a; c2 += bp2[jb]! * a; c3 += bp3[jb]! * a;
    c4 += bp4[jb]! * a; c5 += bp5[jb]! * a; c6 += bp6[jb]! * a;
  }
  tile[0] = c0; tile[1] = c1; tile[2] = c2; tile[3] = c3;
  tile[4] = c4; tile[5] = c5; tile[6] = c6;
}

/**
 * C[co + j] += tile[j] for j < nr (MR = 1: one row). At the right edge
 * nr < 7 and the tile entries from the panel's unused lanes are dropped.
 */
function addTile(c: Float32Array, co: number, nr: number): void {
  if (nr === NR) {
    c[co] += tile[0]!; c[co + 1] += tile[1]!; c[co + 2] += tile[2]!; c[co + 3] += tile[3]!;
    c[co + 4] += tile[4]!; c[co + 5] += tile[5]!; c[co + 6] += tile[6]!;
    return;
  }
  for (let j = 0; j < nr; j++) c[co + j] += tile[j]!;
}
