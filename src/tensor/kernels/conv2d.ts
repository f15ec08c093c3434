/**
 * 2-D convolution (TensorFlow's conv2d: a cross-correlation) as a matrix
 * multiply. x is NHWC [n,h,w,cin], the kernel HWIO [kh,kw,cin,cout], so the
 * kernel is already a row-major [q, cout] matrix with q = kh*kw*cin, and y
 * [n,oh,ow,cout] is a [rows, cout] matrix with rows = n*oh*ow:
 *
 *   cols = im2col(x)             [rows, q]
 *   y    = cols · K              [rows, cout]
 *   gK   = cols^T · gy           [q, cout]
 *   gx   = col2im(gy · K^T)      overlapping patches add up
 *
 * This file is the readable reference, and the path every backend can take:
 * the rows are processed in chunks so the patch matrix stays about 4 MB, in
 * one reused buffer. With the WebAssembly GEMM that buffer is its workspace
 * (gemmWorkspace): the patch matrix is built, or the gy·K^T product written,
 * right where the GEMM reads or writes it, saving a 4 MB copy per chunk. A
 * 1x1 kernel with stride 1 needs no im2col at all: the patch matrix is x
 * itself.
 *
 * Kernel taps that only ever read padding are cut off first (conv2d-taps.ts).
 * With the 'wasm' backend (backend.ts) the three kernels run whole in WebAssembly
 * instead (wasm/conv2d-wasm.ts): the same math, im2col and col2im in SIMD on
 * both threads, a cache-sized block of patches at a time.
 */
import { backend } from './backend.js';
import { affine } from './batch-norm-fast.js';
import { gemm } from './gemm.js';
import { liveTaps, sliceKernel, trimmedGeometry, unsliceKernelGrad } from './conv2d-taps.js';
import { col2im, im2col, type Conv2dGeometry } from './im2col.js';
import {
  conv2dBackwardInputWasm, conv2dBackwardKernelWasm, conv2dForwardWasm, conv2dWasmFits, type ConvEpilogue,
} from './wasm/conv2d-wasm.js';
import { gemmWorkspace } from './wasm/gemm-wasm.js';

export { conv2dGeometry, im2col, col2im, type Conv2dGeometry, type Padding } from './im2col.js';
export type { ConvEpilogue } from './wasm/conv2d-wasm.js';

export interface Conv2dKernelOptions {
  /**
   * 'auto' (default): the WebAssembly convolution kernels when the
   * backend is 'wasm' and the operands fit its memory, else im2col here and
   * gemm. 'im2col': always the latter (tests compare the two).
   */
  method?: 'auto' | 'im2col';
  /** Output positions per im2col chunk (default: as many as fit in 2^20 floats). */
  chunkRows?: number;
  /**
   * Build the patch matrix inside the WebAssembly GEMM's workspace (default
   * true; only used with the 'wasm' backend). false uses a plain buffer,
   * which gemm then copies: the same numbers, slower (tests compare the two).
   */
  workspace?: boolean;
}

const CHUNK_FLOATS = 1 << 20;

let workspace = new Float32Array(0);

/**
 * The patch buffer, grown on demand: the WebAssembly GEMM's workspace when
 * that backend runs (gemm uses it in place), else a module-level array.
 * Callers never hold it across calls.
 */
function scratch(size: number, opts: Conv2dKernelOptions): Float32Array {
  if (backend() === 'wasm' && opts.workspace !== false) return gemmWorkspace(size);
  if (workspace.length < size) workspace = new Float32Array(size);
  return workspace;
}

function useWasm(g: Conv2dGeometry, opts: Conv2dKernelOptions): boolean {
  return (opts.method ?? 'auto') === 'auto' && opts.chunkRows === undefined && backend() === 'wasm' && conv2dWasmFits(g);
}

function isPointwise(g: Conv2dGeometry): boolean {
  return g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1;
}

function chunkRows(g: Conv2dGeometry, opts: Conv2dKernelOptions): number {
  const rows = g.n * g.oh * g.ow;
  const q = g.kh * g.kw * g.cin;
  const chunk = opts.chunkRows ?? Math.floor(CHUNK_FLOATS / Math.max(q, 1));
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`conv2d: chunkRows must be a positive integer, got ${String(chunk)}`);
  return Math.max(1, Math.min(chunk, rows));
}

/** y[r, co] = sum_q cols[r, q] K[q, co]: the forward convolution, y [n,oh,ow,cout]. */
export function conv2dForward(x: Float32Array, k: Float32Array, g: Conv2dGeometry, opts: Conv2dKernelOptions = {}): Float32Array {
  const live = liveTaps(g);
  if (live) return conv2dForward(x, sliceKernel(k, g, live), trimmedGeometry(g, live), opts);
  if (useWasm(g, opts)) return conv2dForwardWasm(x, k, g);
  const rows = g.n * g.oh * g.ow;
  const q = g.kh * g.kw * g.cin;
  const y = new Float32Array(rows * g.cout);
  if (isPointwise(g)) {
    gemm(x, k, y, rows, q, g.cout);
    return y;
  }
  const chunk = chunkRows(g, opts);
  const cols = scratch(chunk * q, opts);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    im2col(x, g, r0, r1, cols);
    gemm(cols, k, y.subarray(r0 * g.cout, r1 * g.cout), r1 - r0, q, g.cout);
  }
  return y;
}

/**
 * y = affine(conv2d(x, K), scale, shift) (then max(y, 0) with relu): the
 * inference Conv2d -> BatchNorm (-> ReLU) in one call. The reference is the
 * two kernels in turn, conv2dForward then batch-norm-fast.ts' affine in
 * place; the WebAssembly forward applies the same float64 map to each block
 * of y while it is in cache (wasm/conv.ts, affineRows). Both give exactly
 * the floats of the two kernels run apart.
 */
export function conv2dForwardAffine(
  x: Float32Array, k: Float32Array, g: Conv2dGeometry, epilogue: ConvEpilogue, opts: Conv2dKernelOptions = {},
): Float32Array {
  const live = liveTaps(g);
  if (live) return conv2dForwardAffine(x, sliceKernel(k, g, live), trimmedGeometry(g, live), epilogue, opts);
  if (useWasm(g, opts)) return conv2dForwardWasm(x, k, g, epilogue);
  const y = conv2dForward(x, k, g, opts);
  return affine(y, epilogue.scale, epilogue.shift, { relu: epilogue.relu, into: y });
}

/** gx = col2im(gy · K^T): dL/dx [n,h,w,cin] from dL/dy. */
export function conv2dBackwardInput(gy: Float32Array, k: Float32Array, g: Conv2dGeometry, opts: Conv2dKernelOptions = {}): Float32Array {
  const live = liveTaps(g);
  if (live) return conv2dBackwardInput(gy, sliceKernel(k, g, live), trimmedGeometry(g, live), opts);
  if (useWasm(g, opts)) return conv2dBackwardInputWasm(gy, k, g);
  const rows = g.n * g.oh * g.ow;
  const q = g.kh * g.kw * g.cin;
  const gx = new Float32Array(g.n * g.h * g.w * g.cin);
  if (isPointwise(g)) {
    gemm(gy, k, gx, rows, g.cout, q, { transB: true });
    return gx;
  }
  const chunk = chunkRows(g, opts);
  const gcols = scratch(chunk * q, opts);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    gemm(gy.subarray(r0 * g.cout, r1 * g.cout), k, gcols, r1 - r0, g.cout, q, { transB: true });
    col2im(gcols, g, r0, r1, gx);
  }
  return gx;
}

/** gK = cols^T · gy, summed over the chunks: dL/dkernel [kh,kw,cin,cout] from dL/dy. */
export function conv2dBackwardKernel(x: Float32Array, gy: Float32Array, g: Conv2dGeometry, opts: Conv2dKernelOptions = {}): Float32Array {
  const live = liveTaps(g);
  if (live) return unsliceKernelGrad(conv2dBackwardKernel(x, gy, trimmedGeometry(g, live), opts), g, live);
  if (useWasm(g, opts)) return conv2dBackwardKernelWasm(x, gy, g);
  const rows = g.n * g.oh * g.ow;
  const q = g.kh * g.kw * g.cin;
  const gk = new Float32Array(q * g.cout);
  if (isPointwise(g)) {
    gemm(x, gy, gk, q, rows, g.cout, { transA: true });
    return gk;
  }
  const chunk = chunkRows(g, opts);
  const cols = scratch(chunk * q, opts);
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const r1 = Math.min(rows, r0 + chunk);
    im2col(x, g, r0, r1, cols);
    gemm(cols, gy.subarray(r0 * g.cout, r1 * g.cout), gk, q, r1 - r0, g.cout, { transA: true, accumulate: true });
  }
  return gk;
}
