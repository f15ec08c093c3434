/**
 * 2-D convolution kernels for WebAssembly SIMD128 (AssemblyScript; built
 * with the GEMM into one module, see wasm/kernels.ts). The same math as
 * src/tensor/kernels/conv2d.ts, where the readable reference lives:
 *
 *   cols = im2col(x)             [rows, q]      rows = n*oh*ow, q = kh*kw*cin
 *   y    = cols · K              [rows, cout]
 *   gx   = col2im(gy · K^T)      overlapping patches add up
 *   gK   = cols^T · gy           [q, cout]
 *
 * but the patch matrix is never built whole. Each function walks a range of
 * output positions (rows) in blocks of blockRows(q), builds that block's
 * patches in a small per-thread buffer `cols` (~128 KB, it stays in L2), and
 * hands the block to gemmRows right away. Two threads run the same function
 * on different row ranges; pointers are byte offsets into the shared memory.
 *
 * The geometry is a struct of i32 at `geo` (GEO_* offsets below), written by
 * the caller (src/tensor/kernels/wasm/conv2d-wasm.ts).
 */
import { gemmRows, packB } from './gemm';

const MR: i32 = 4;
/** Patch values per block: 128 KB of float32. */
const BLOCK_FLOATS: i32 = 32768;
/** The kernel gradient's blocks are at least this many rows deep (each block re-reads and re-writes all of gK). */
const MIN_DEPTH_ROWS: i32 = 256;

// Geometry struct: i32 fields.
const GEO_N = 0, GEO_H = 4, GEO_W = 8, GEO_CIN = 12, GEO_KH = 16, GEO_KW = 20, GEO_COUT = 24;
const GEO_SH = 28, GEO_SW = 32, GEO_OH = 36, GEO_OW = 40, GEO_PAD_TOP = 44, GEO_PAD_LEFT = 48;
// The forward's optional epilogue (see affineRows): pointers to float64
// scale[cout] and shift[cout] (0: none), and relu (0 or 1).
const GEO_SCALE = 52, GEO_SHIFT = 56, GEO_RELU = 60;

/** Bytes of the geometry struct. */
export function geometryBytes(): i32 {
  return 64;
}

/** Output positions per block for a patch length q (a multiple of MR). */
export function blockRows(q: i32): i32 {
  return max(MR, (BLOCK_FLOATS / q / MR) * MR);
}

/** Output positions per block of the kernel gradient (deeper: see MIN_DEPTH_ROWS). */
export function depthBlockRows(q: i32): i32 {
  return max(blockRows(q), MIN_DEPTH_ROWS);
}

/**
 * Patch rows r0 <= r < r1, row r at cols + (r - r0)*q floats:
 *   cols[r, (ky*kw + kx)*cin + ci] = x[b, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci]
 * with r = (b*oh + oy)*ow + ox, and 0 over the padding. In NHWC a kernel row
 * (kw pixels x cin channels) is one contiguous run of x when it lies inside
 * the image.
 */
export function im2colRows(x: usize, geo: usize, r0: i32, r1: i32, cols: usize): void {
  walkPatches(x, geo, r0, r1, cols, false);
}

/**
 * The adjoint of im2colRows: every patch value is added back to the pixel it
 * came from (padding values are dropped):
 *   gx[b, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci] += cols[r, (ky*kw + kx)*cin + ci]
 * Rows are added in increasing r, so each pixel's sum has a fixed order.
 */
export function col2imRows(cols: usize, geo: usize, r0: i32, r1: i32, gx: usize): void {
  walkPatches(gx, geo, r0, r1, cols, true);
}

/**
 * The walk both share, over every (output position, ky) run of a patch:
 * copy image -> cols (zeros over the padding), or, as the adjoint, add
 * cols -> image (padding values dropped). `adjoint` is a constant at each
 * inlined call, so each export compiles to its own loop.
 */
@inline
function walkPatches(image: usize, geo: usize, r0: i32, r1: i32, cols: usize, adjoint: bool): void {
  const h = load<i32>(geo, GEO_H), w = load<i32>(geo, GEO_W), cin = load<i32>(geo, GEO_CIN);
  const kh = load<i32>(geo, GEO_KH), kw = load<i32>(geo, GEO_KW);
  const sh = load<i32>(geo, GEO_SH), sw = load<i32>(geo, GEO_SW);
  const oh = load<i32>(geo, GEO_OH), ow = load<i32>(geo, GEO_OW);
  const padTop = load<i32>(geo, GEO_PAD_TOP), padLeft = load<i32>(geo, GEO_PAD_LEFT);
  const runBytes = <usize>(kw * cin) * 4;
  const pixelBytes = <usize>cin * 4;
  let ox = r0 % ow;
  let t = r0 / ow;
  let oy = t % oh;
  let b = t / oh;
  let d = cols;
  for (let r = r0; r < r1; r++) {
    const ix0 = ox * sw - padLeft;
    const inside = ix0 >= 0 && ix0 + kw <= w;
    for (let ky = 0; ky < kh; ky++, d += runBytes) {
      const iy = oy * sh - padTop + ky;
      if (iy < 0 || iy >= h) {
        if (!adjoint) memory.fill(d, 0, runBytes);
        continue;
      }
      const row = image + <usize>((b * h + iy) * w) * pixelBytes;
      if (inside) {
        moveRun(row + <usize>ix0 * pixelBytes, d, runBytes, adjoint);
        continue;
      }
      for (let kx = 0; kx < kw; kx++) {
        const ix = ix0 + kx;
        const dk = d + <usize>kx * pixelBytes;
        if (ix >= 0 && ix < w) moveRun(row + <usize>ix * pixelBytes, dk, pixelBytes, adjoint);
        else if (!adjoint) memory.fill(dk, 0, pixelBytes);
      }
    }
    if (++ox == ow) {
      ox = 0;
      if (++oy == oh) { oy = 0; b++; }
    }
  }
}

/** One run between the image and cols: copied into cols, or (adjoint) added back into the image. */
@inline
function moveRun(pixels: usize, cols: usize, bytes: usize, adjoint: bool): void {
  if (adjoint) addFloats(pixels, cols, bytes);
  else copyFloats(cols, pixels, bytes);
}

/**
 * y[r0:r1] = im2col(x)[r0:r1] · K, block by block; K is packed at kp
 * (packB of the [q, cout] kernel), y is [rows, cout]. With an epilogue in
 * the geometry (GEO_SCALE != 0) each block is then mapped by affineRows
 * while it is still in cache: the inference Conv2d -> BatchNorm (-> ReLU).
 */
export function convForwardRows(x: usize, geo: usize, r0: i32, r1: i32, kp: usize, y: usize, cols: usize, scratch: usize): void {
  const q = patchLength(geo);
  const cout = load<i32>(geo, GEO_COUT);
  const step = blockRows(q);
  for (let i = r0; i < r1; i += step) {
    const mb = min(step, r1 - i);
    im2colRows(x, geo, i, i + mb, cols);
    gemmRows(cols, 0, mb, q, kp, cout, y + <usize>(i * cout) * 4, 1, 0, mb, 0, q, scratch);
    const scale = <usize>load<i32>(geo, GEO_SCALE);
    if (scale != 0) affineRows(y + <usize>(i * cout) * 4, mb, cout, scale, <usize>load<i32>(geo, GEO_SHIFT), load<i32>(geo, GEO_RELU));
  }
}

/**
 * y = f32(f64(y) * scale_c + shift_c), then (relu) y <= 0 ? 0 : y, in place
 * over rows x cout floats. scale and shift are float64 copies of float32
 * values, so f64(y) * scale_c is exact and the one rounding of the add, then
 * the one to float32, are those of the TypeScript inference batch norm
 * (src/tensor/kernels/batch-norm-fast.ts, affine): the same bits. The ReLU
 * after the rounding equals the TypeScript one before it (a value rounds to
 * <= 0 exactly when it is <= 0, or to +-0 from +-tiny: 0 either way); NaN
 * stays NaN.
 */
function affineRows(y: usize, rows: i32, cout: i32, scale: usize, shift: usize, relu: i32): void {
  const quads = cout & ~3;
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = y + <usize>(r * cout) * 4;
    for (let c = 0; c < quads; c += 4) {
      const p = row + <usize>c * 4;
      const v = v128.load(p);
      const lo = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(v), v128.load(scale + <usize>c * 8)), v128.load(shift + <usize>c * 8));
      const vh = v128.shuffle<f32>(v, v, 2, 3, 0, 1);
      const hi = f64x2.add(f64x2.mul(f64x2.promote_low_f32x4(vh), v128.load(scale + <usize>c * 8, 16)), v128.load(shift + <usize>c * 8, 16));
      let out = v128.shuffle<f32>(f32x4.demote_f64x2_zero(lo), f32x4.demote_f64x2_zero(hi), 0, 1, 4, 5);
      if (relu) out = v128.andnot(out, f32x4.le(out, zero));
      v128.store(p, out);
    }
    for (let c = quads; c < cout; c++) {
      const p = row + <usize>c * 4;
      const v = <f32>(<f64>load<f32>(p) * load<f64>(scale + <usize>c * 8) + load<f64>(shift + <usize>c * 8));
      store<f32>(p, relu && v <= 0 ? 0 : v);
    }
  }
}

/**
 * gx += col2im(gy[r0:r1] · K^T), block by block; K^T is packed at ktp
 * (packB of the kernel with transB). gx must start at zero; two threads may
 * share gx only if their rows belong to different images.
 */
export function convInputGradRows(gy: usize, geo: usize, r0: i32, r1: i32, ktp: usize, gx: usize, cols: usize, scratch: usize): void {
  const q = patchLength(geo);
  const cout = load<i32>(geo, GEO_COUT);
  const step = blockRows(q);
  for (let i = r0; i < r1; i += step) {
    const mb = min(step, r1 - i);
    gemmRows(gy + <usize>(i * cout) * 4, 0, mb, cout, ktp, q, cols, 1, 0, mb, 0, cout, scratch);
    col2imRows(cols, geo, i, i + mb, gx);
  }
}

/**
 * gk (+)= im2col(x)[r0:r1]^T · gy[r0:r1], block by block (each block's gy
 * rows packed at gyp); gk is [q, cout], overwritten first when `overwrite`.
 * Each gk element sums its block partials in block order: the result depends
 * on r0, r1 and the block size only.
 */
export function convKernelGradRows(
  x: usize, gy: usize, geo: usize, r0: i32, r1: i32, gk: usize, overwrite: i32, cols: usize, gyp: usize, scratch: usize,
): void {
  const q = patchLength(geo);
  const cout = load<i32>(geo, GEO_COUT);
  const step = depthBlockRows(q);
  for (let i = r0; i < r1; i += step) {
    const mb = min(step, r1 - i);
    im2colRows(x, geo, i, i + mb, cols);
    packB(gy + <usize>(i * cout) * 4, mb, cout, 0, gyp);
    gemmRows(cols, 1, q, mb, gyp, cout, gk, i == r0 ? overwrite : 0, 0, q, 0, mb, scratch);
  }
}

@inline
function patchLength(geo: usize): i32 {
  return load<i32>(geo, GEO_KH) * load<i32>(geo, GEO_KW) * load<i32>(geo, GEO_CIN);
}

/** dst[0:bytes] = src[0:bytes], 16 bytes at a time, then the float tail. */
@inline
function copyFloats(dst: usize, src: usize, bytes: usize): void {
  let o: usize = 0;
  for (; o + 16 <= bytes; o += 16) v128.store(dst + o, v128.load(src + o));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(src + o));
}

/** dst[0:bytes] += src[0:bytes] as float32, four at a time. */
@inline
function addFloats(dst: usize, src: usize, bytes: usize): void {
  let o: usize = 0;
  for (; o + 16 <= bytes; o += 16) v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
}
