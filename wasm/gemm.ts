/**
 * Single-precision GEMM for WebAssembly SIMD128 (AssemblyScript source; built
 * by wasm/build.mjs into src/tensor/kernels/wasm/kernels-wasm-bytes.ts):
 *
 *   C[m,n] (+)= op(A)[m,k] · op(B)[k,n]      C[i,j] = sum_p op(A)[i,p] op(B)[p,j]
 *
 * Row-major float32 everywhere; every pointer is a byte offset into the
 * shared linear memory the caller imports. A is stored [m,k] (or [k,m] when
 * transA), B [k,n] (or [n,k] when transB). Sums are accumulated in float32,
 * in the order p = 0, 1, ..., k-1 for every element of C, whatever the row
 * range or the tile the element falls in: two threads that split the rows
 * produce the same bits as one thread.
 *
 * Blocked as in GotoBLAS/BLIS:
 *
 *   packB: all of op(B) as NR-wide column panels, panel j holding
 *          bp[(j*k + p)*NR + t] = op(B)[p, j*NR + t]     (zero past n)
 *   gemmRows(rows r0..r1, shared dimension p0..p1):
 *     for pc in steps of KC                            the shared dimension
 *       for ic in steps of MC                          rows of C
 *         ap <- op(A)[ic:ic+MC, pc:pc+KC] as MR-tall row panels   (L2)
 *         for each NR panel of B                       kc x NR block (L1)
 *           for each MR panel of A
 *             C[i:i+MR, j:j+NR] (+)= sum_p ap[p, :]^T bp[p, :]
 *
 * When C has at most 16 columns (one or two B panels, as in most of a small
 * CNN's convolutions) every value of A is used once or twice, and packing it
 * would cost as much as the multiply: the micro-kernel then reads full
 * panels of A where they are (readInPlace), and only a last panel of fewer
 * than MR rows is packed (zero-padded).
 *
 * The MR x NR = 4 x 8 micro-kernel keeps its 32 sums in eight v128
 * registers and, per step p, loads two v128 of B and broadcasts four values
 * of A (v128.load32_splat): 8 multiplies and 8 adds for 6 loads. A larger
 * tile does not pay under V8: its scheduler hoists every load of a step
 * ahead of the arithmetic, so 4 x 8 (8 sums + 2 B + 4 A + 1 product = 15
 * xmm registers) is the largest tile that runs without spills. WebAssembly
 * SIMD128 has no fused multiply-add, so mul and add round separately.
 * A last B panel with at most four real columns (n = 4, 12, 20, ... as in
 * half of the lesson network's convolutions) runs a 4 x 4 half-width kernel
 * instead of multiplying four columns of zero padding.
 *
 * Sizes: KC = 256 keeps a B micro-panel (8 KB) and an A panel (4 KB) in L1;
 * MC = 128 makes the packed A block 128 KB, well inside a 512 KB L2.
 */

const MR: i32 = 4;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 128;
const DIRECT_MAX_N: i32 = 16;
const DIRECT_MAX_M_TRANS: i32 = 1024;

/** Bytes of per-thread scratch gemmRows needs: the packed A block and one tile. */
export function scratchBytes(): i32 {
  return (MC * KC + MR * NR) * 4;
}

/** Bytes packB writes for op(B) [k,n]. */
export function packedBBytes(k: i32, n: i32): i32 {
  return ((n + NR - 1) / NR) * NR * k * 4;
}

/** Packs all of op(B) [k,n] (B at `b`) into NR-wide panels at `dst`, zero-padded past column n. */
export function packB(b: usize, k: i32, n: i32, transB: i32, dst: usize): void {
  for (let j0 = 0; j0 < n; j0 += NR) {
    const nr = min(NR, n - j0);
    let d = dst + <usize>(j0 * k) * 4;
    if (transB == 0) {
      // op(B)[p, j] = b[p*n + j]: each panel row is a contiguous run of b.
      let s = b + <usize>j0 * 4;
      const ld = <usize>n * 4;
      if (nr == NR) {
        for (let p = 0; p < k; p++, s += ld, d += NR * 4) {
          v128.store(d, v128.load(s));
          v128.store(d, v128.load(s, 16), 16);
        }
      } else {
        for (let p = 0; p < k; p++, s += ld, d += NR * 4) {
          for (let t = 0; t < NR; t++) store<f32>(d + t * 4, t < nr ? load<f32>(s + t * 4) : 0);
        }
      }
    } else {
      // op(B)[p, j] = b[j*k + p]: gather across nr rows of b.
      const s = b + <usize>(j0 * k) * 4;
      const ld = <usize>k * 4;
      for (let p = 0; p < k; p++, d += NR * 4) {
        const sp = s + <usize>p * 4;
        for (let t = 0; t < NR; t++) store<f32>(d + t * 4, t < nr ? load<f32>(sp + <usize>t * ld) : 0);
      }
    }
  }
}

/**
 * Rows r0 <= i < r1 of C (+)= op(A)[:, p0:p1] · op(B)[p0:p1, :], with B
 * already packed at `bp` (for the full k). C is [m,n] at `c`. When
 * `overwrite` is set the first KC block stores into C instead of adding, so
 * C needs no clearing. `scratch` is scratchBytes() bytes owned by the caller's
 * thread.
 */
export function gemmRows(
  a: usize, transA: i32, m: i32, k: i32, bp: usize, n: i32, c: usize,
  overwrite: i32, r0: i32, r1: i32, p0: i32, p1: i32, scratch: usize,
): void {
  const ap = scratch;
  const tile = scratch + <usize>(MC * KC) * 4;
  const ldc = <usize>n * 4;
  const direct = readInPlace(transA, m, n);
  for (let pc = p0; pc < p1; pc += KC) {
    const kc = min(KC, p1 - pc);
    const first = overwrite != 0 && pc == p0;
    for (let ic = r0; ic < r1; ic += MC) {
      const mc = min(MC, r1 - ic);
      // Full panels read A in place when it is cheap to; the rest are packed.
      const full = direct ? mc - mc % MR : 0;
      packA(a, transA, m, k, ic + full, mc - full, pc, kc, ap + <usize>(full * kc) * 4);
      for (let j0 = 0; j0 < n; j0 += NR) {
        const nr = min(NR, n - j0);
        const bpan = bp + <usize>(j0 * k + pc * NR) * 4;
        let cp = c + (<usize>ic * ldc) + <usize>j0 * 4;
        let ir = 0;
        if (transA != 0) {
          for (; ir < full; ir += MR, cp += ldc * MR) {
            tileCols(a + (<usize>pc * m + ic + ir) * 4, <usize>m * 4, bpan, kc, cp, ldc, MR, nr, first, tile);
          }
        } else {
          for (; ir < full; ir += MR, cp += ldc * MR) {
            tileRows(a + (<usize>(ic + ir) * k + pc) * 4, <usize>k * 4, bpan, kc, cp, ldc, MR, nr, first, tile);
          }
        }
        for (; ir < mc; ir += MR, cp += ldc * MR) {
          tileCols(ap + <usize>(ir * kc) * 4, 16, bpan, kc, cp, ldc, min(MR, mc - ir), nr, first, tile);
        }
      }
    }
  }
}

/**
 * Whether gemmRows reads A in place instead of packing it. Packing costs
 * about as much as one pass of the micro-kernel over the block, and pays off
 * only when the block is reused by many B panels or when A's layout would
 * thrash the caches (a transposed A with a long row stride).
 */
export function readInPlace(transA: i32, m: i32, n: i32): bool {
  return n <= DIRECT_MAX_N && (transA == 0 || m <= DIRECT_MAX_M_TRANS);
}

/** dst[i] += src[i] for i < count (float32). */
export function addInto(dst: usize, src: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const o = <usize>i * 4;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < count; i++) {
    const o = <usize>i * 4;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/**
 * ap[(ir*kc + p*MR + t)] = op(A)[ic + ir + t, pc + p] for each MR-row panel
 * ir of the block, zero past row ic + mc.
 */
function packA(a: usize, transA: i32, m: i32, k: i32, ic: i32, mc: i32, pc: i32, kc: i32, ap: usize): void {
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    const i0 = ic + ir;
    let d = ap + <usize>(ir * kc) * 4;
    if (transA != 0) {
      // op(A)[i, p] = a[p*m + i]: the panel's MR values for one p are contiguous.
      let s = a + (<usize>pc * m + i0) * 4;
      const ld = <usize>m * 4;
      if (mr == MR) {
        for (let p = 0; p < kc; p++, s += ld, d += MR * 4) v128.store(d, v128.load(s));
      } else {
        for (let p = 0; p < kc; p++, s += ld, d += MR * 4) {
          for (let t = 0; t < MR; t++) store<f32>(d + t * 4, t < mr ? load<f32>(s + t * 4) : 0);
        }
      }
      continue;
    }
    // op(A)[i, p] = a[i*k + p]: read four rows four columns at a time, transpose.
    const ld = <usize>k * 4;
    let s = a + (<usize>i0 * k + pc) * 4;
    if (mr == MR) {
      let p = 0;
      for (; p + 4 <= kc; p += 4, s += 16, d += 64) {
        const x0 = v128.load(s);
        const x1 = v128.load(s + ld);
        const x2 = v128.load(s + 2 * ld);
        const x3 = v128.load(s + 3 * ld);
        const t0 = i32x4.shuffle(x0, x1, 0, 4, 1, 5);
        const t1 = i32x4.shuffle(x0, x1, 2, 6, 3, 7);
        const t2 = i32x4.shuffle(x2, x3, 0, 4, 1, 5);
        const t3 = i32x4.shuffle(x2, x3, 2, 6, 3, 7);
        v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
        v128.store(d, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
        v128.store(d, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
        v128.store(d, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
      }
      for (; p < kc; p++, s += 4, d += 16) {
        store<f32>(d, load<f32>(s));
        store<f32>(d, load<f32>(s + ld), 4);
        store<f32>(d, load<f32>(s + 2 * ld), 8);
        store<f32>(d, load<f32>(s + 3 * ld), 12);
      }
    } else {
      for (let p = 0; p < kc; p++, s += 4, d += 16) {
        for (let t = 0; t < MR; t++) store<f32>(d + t * 4, t < mr ? load<f32>(s + <usize>t * ld) : 0);
      }
    }
  }
}

/**
 * The 4 x 8 micro-kernels: C[r, t] (+)= sum_p A[r, p] * bp[p*8 + t] for
 * r < mr, t < nr, with C at `c` (row stride `ldc` bytes). They differ only in
 * where the four values A[0:4, p] are:
 *   kernelCols: at a + p*ps + {0, 4, 8, 12}   (a packed panel, ps = 16, or
 *                                             a column run of a transposed A)
 *   kernelRows: at a + p*4 + {0, 1, 2, 3}*rs  (four rows of a row-major A)
 * Each step loads two v128 of B and broadcasts four values of A
 * (v128.load32_splat): 8 multiplies and 8 adds into eight v128 sums.
 */
@inline
function kernelCols(a: usize, ps: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const bEnd = bp + <usize>kc * 32;
  for (; bp < bEnd; a += ps, bp += 32) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
  }
  storeTile(c, ldc, mr, nr, first, tile, c00, c01, c10, c11, c20, c21, c30, c31);
}

@inline
function kernelRows(a: usize, rs: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  const rs2 = rs * 2;
  const rs3 = rs * 3;
  const bEnd = bp + <usize>kc * 32;
  for (; bp < bEnd; a += 4, bp += 32) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let x = v128.load32_splat(a);
    c00 = f32x4.add(c00, f32x4.mul(x, b0));
    c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(a + rs);
    c10 = f32x4.add(c10, f32x4.mul(x, b0));
    c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(a + rs2);
    c20 = f32x4.add(c20, f32x4.mul(x, b0));
    c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(a + rs3);
    c30 = f32x4.add(c30, f32x4.mul(x, b0));
    c31 = f32x4.add(c31, f32x4.mul(x, b1));
  }
  storeTile(c, ldc, mr, nr, first, tile, c00, c01, c10, c11, c20, c21, c30, c31);
}

/**
 * C[r, 0:nr] = (first ? 0 : C[r, 0:nr]) + tile row r, for r < mr. A full
 * 4 x 8 tile goes straight to C; edge tiles through `tile`, with whole v128
 * where the row has room.
 */
@inline
function storeTile(
  c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize,
  c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128,
): void {
  if (mr == MR && nr == NR) {
    if (first) {
      v128.store(c, c00); v128.store(c, c01, 16); c += ldc;
      v128.store(c, c10); v128.store(c, c11, 16); c += ldc;
      v128.store(c, c20); v128.store(c, c21, 16); c += ldc;
      v128.store(c, c30); v128.store(c, c31, 16);
    } else {
      v128.store(c, f32x4.add(v128.load(c), c00)); v128.store(c, f32x4.add(v128.load(c, 16), c01), 16); c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c10)); v128.store(c, f32x4.add(v128.load(c, 16), c11), 16); c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c20)); v128.store(c, f32x4.add(v128.load(c, 16), c21), 16); c += ldc;
      v128.store(c, f32x4.add(v128.load(c), c30)); v128.store(c, f32x4.add(v128.load(c, 16), c31), 16);
    }
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  storeFromTile(c, ldc, mr, nr, first, tile);
}

/**
 * One tile of C through the full 4 x 8 kernel, or through the half-width
 * one when the B panel has at most four real columns (the rest is zero
 * padding); the same sums either way. tileCols reads A as kernelCols does,
 * tileRows as kernelRows does.
 */
@inline
function tileCols(a: usize, ps: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  if (nr <= NR / 2) kernelColsHalf(a, ps, bp, kc, c, ldc, mr, nr, first, tile);
  else kernelCols(a, ps, bp, kc, c, ldc, mr, nr, first, tile);
}

@inline
function tileRows(a: usize, rs: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  if (nr <= NR / 2) kernelRowsHalf(a, rs, bp, kc, c, ldc, mr, nr, first, tile);
  else kernelRows(a, rs, bp, kc, c, ldc, mr, nr, first, tile);
}

/**
 * The half-width micro-kernels: kernelCols / kernelRows for a B panel whose
 * last four columns are zero padding (nr <= 4): one v128 of B per step,
 * four sums, half the arithmetic. Each C element gets the same sum in the
 * same order as in the full kernels.
 */
@inline
function kernelColsHalf(a: usize, ps: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const bEnd = bp + <usize>kc * 32;
  for (; bp < bEnd; a += ps, bp += 32) {
    const b = v128.load(bp);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a), b));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a, 4), b));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(a, 8), b));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(a, 12), b));
  }
  storeHalfTile(c, ldc, mr, nr, first, tile, c0, c1, c2, c3);
}

@inline
function kernelRowsHalf(a: usize, rs: usize, bp: usize, kc: i32, c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  let c0 = f32x4.splat(0), c1 = f32x4.splat(0), c2 = f32x4.splat(0), c3 = f32x4.splat(0);
  const rs2 = rs * 2;
  const rs3 = rs * 3;
  const bEnd = bp + <usize>kc * 32;
  for (; bp < bEnd; a += 4, bp += 32) {
    const b = v128.load(bp);
    c0 = f32x4.add(c0, f32x4.mul(v128.load32_splat(a), b));
    c1 = f32x4.add(c1, f32x4.mul(v128.load32_splat(a + rs), b));
    c2 = f32x4.add(c2, f32x4.mul(v128.load32_splat(a + rs2), b));
    c3 = f32x4.add(c3, f32x4.mul(v128.load32_splat(a + rs3), b));
  }
  storeHalfTile(c, ldc, mr, nr, first, tile, c0, c1, c2, c3);
}

/** storeTile for a 4 x 4 tile (nr <= 4). */
@inline
function storeHalfTile(c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize, c0: v128, c1: v128, c2: v128, c3: v128): void {
  if (mr == MR && nr == NR / 2) {
    if (first) {
      v128.store(c, c0); v128.store(c + ldc, c1); v128.store(c + 2 * ldc, c2); v128.store(c + 3 * ldc, c3);
    } else {
      v128.store(c, f32x4.add(v128.load(c), c0));
      v128.store(c + ldc, f32x4.add(v128.load(c + ldc), c1));
      v128.store(c + 2 * ldc, f32x4.add(v128.load(c + 2 * ldc), c2));
      v128.store(c + 3 * ldc, f32x4.add(v128.load(c + 3 * ldc), c3));
    }
    return;
  }
  v128.store(tile, c0); v128.store(tile, c1, 32); v128.store(tile, c2, 64); v128.store(tile, c3, 96);
  storeFromTile(c, ldc, mr, nr, first, tile);
}

/** C[r, 0:nr] = (first ? 0 : C[r, 0:nr]) + tile[r, 0:nr] for r < mr (tile rows NR floats apart). */
@inline
function storeFromTile(c: usize, ldc: usize, mr: i32, nr: i32, first: bool, tile: usize): void {
  for (let r = 0; r < mr; r++, c += ldc) {
    const t = tile + <usize>(r * NR) * 4;
    let j = 0;
    for (; j + 4 <= nr; j += 4) {
      const o = <usize>j * 4;
      const v = v128.load(t + o);
      v128.store(c + o, first ? v : f32x4.add(v128.load(c + o), v));
    }
    for (; j < nr; j++) {
      const o = <usize>j * 4;
      store<f32>(c + o, first ? load<f32>(t + o) : load<f32>(c + o) + load<f32>(t + o));
    }
  }
}
