/**
 * conv2d's forward, input gradient and kernel gradient run whole in
 * WebAssembly (wasm/conv.ts), on up to two threads. The math is that of
 * ../conv2d.ts (im2col + gemm); here no patch matrix is built whole: each
 * thread builds a small block of patches and multiplies it at once, while it
 * is still in cache.
 *
 * One call: copy the operands into the shared memory, pack the kernel once
 * (both threads read it), run the rows as pieces that this thread and the
 * helper claim as they get to them (runtime.ts, runPieces), copy the result
 * out. The pieces are cut from the shape alone, never from the thread
 * count or timing, so which thread runs a piece never changes a bit:
 *
 *   forward       PIECES row ranges: every y row is computed alone.
 *   input grad    whole images per piece: col2im adds overlapping patches
 *                 into gx, and two threads must never add into one pixel.
 *   kernel grad   up to KERNEL_GRAD_PIECES depth ranges, each into its own
 *                 partial gK_i; then gK = ((gK_0 + gK_1) + gK_2) + ...
 *
 * Problems under wasmLimits().parallelFlops stay on this thread.
 */
import type { Conv2dGeometry } from '../im2col.js';
import { wasmLimits } from './limits.js';
import { Arena } from './arena.js';
import { wasmRuntime, type WasmRuntime } from './runtime.js';

/** The geometry struct's i32 fields, in wasm/conv.ts' order (GEO_*). */
const GEOMETRY_FIELDS = ['n', 'h', 'w', 'cin', 'kh', 'kw', 'cout', 'sh', 'sw', 'oh', 'ow', 'padTop', 'padLeft'] as const;

/** Rows of gemmRows' register tile: forward pieces are a multiple of it. */
const MR = 4;
/** Pieces of the forward and the input gradient (enough to balance two threads). */
const PIECES = 8;
/** Pieces of the kernel gradient: each adds a [q, cout] partial to sum at the end. */
const KERNEL_GRAD_PIECES = 4;

/**
 * Whether the wasm kernels can take this convolution: WebAssembly is there
 * and what the largest of the three calls lays out fits in wasmLimits()'s
 * chunkBytes (256 MiB by default, well inside the 1 GiB memory). Larger ones
 * go through the chunked im2col path.
 */
export function conv2dWasmFits(g: Conv2dGeometry): boolean {
  const rt = wasmRuntime();
  if (rt === null) return false;
  const q = g.kh * g.kw * g.cin;
  const depth = Math.max(256, Math.ceil(32768 / q) + 4); // >= blockRows(q) and depthBlockRows(q)
  const floats =
    g.n * g.h * g.w * g.cin * 2 + // x, or gy and gx
    g.n * g.oh * g.ow * g.cout * 2 + // y, or gy
    q * (g.cout + 8) * (2 + KERNEL_GRAD_PIECES) + // the kernel, packed, and the gK partials
    2 * depth * (q + g.cout + 8) + // per-thread patch blocks and packed gy blocks
    4 * g.cout; // the forward's epilogue, float64 scale and shift
  return 4 * floats + 1024 + rt.callStart() <= wasmLimits().chunkBytes;
}

/**
 * What the forward applies to each output block while it is in cache (an
 * inference BatchNorm, then a ReLU): y = f32(y * scale_c + shift_c) in
 * float64, then max(y, 0) with relu; the floats of batch-norm-fast.ts' affine.
 */
export interface ConvEpilogue {
  scale: Float32Array;
  shift: Float32Array;
  relu: boolean;
}

/** y = conv2d(x, K): [n,oh,ow,cout]; then the epilogue, when given, on each block as it is computed. */
export function conv2dForwardWasm(x: Float32Array, k: Float32Array, g: Conv2dGeometry, epilogue: ConvEpilogue | null = null): Float32Array {
  const { rt, X, rows, q, parallel } = start(g, 'conv2dForwardWasm');
  const mem = new Arena(rt);
  const geo = mem.take(X.geometryBytes());
  const eo = epilogue ? mem.take(16 * g.cout) : 0; // float64 scale, then float64 shift
  const xo = mem.take(4 * x.length);
  const ko = mem.take(4 * k.length);
  const kp = mem.take(X.packedBBytes(q, g.cout));
  const yo = mem.take(4 * rows * g.cout);
  const [c0, c1] = [mem.take(4 * X.blockRows(q) * q), mem.take(4 * X.blockRows(q) * q)];
  const f = mem.commit();
  writeGeometry(rt, geo, g, epilogue ? [eo, eo + 8 * g.cout, epilogue.relu ? 1 : 0] : undefined);
  if (epilogue) {
    const e = new Float64Array(rt.memory.buffer, eo, 2 * g.cout);
    e.set(epilogue.scale);
    e.set(epilogue.shift, g.cout);
  }
  f.set(x, xo >> 2);
  f.set(k, ko >> 2);
  X.packB(ko, q, g.cout, 0, kp);

  const [s0, s1] = rt.scratch;
  rt.runPieces({
    fn: 'convForwardRows', args: [xo, geo, 0, rows, kp, yo, c0, s0], helperArgs: [[6, c1], [7, s1]],
    range: 2, total: rows, size: MR * Math.ceil(rows / PIECES / MR),
  }, parallel);
  return f.slice(yo >> 2, (yo >> 2) + rows * g.cout);
}

/** dL/dx = col2im(gy · K^T): [n,h,w,cin]. */
export function conv2dBackwardInputWasm(gy: Float32Array, k: Float32Array, g: Conv2dGeometry): Float32Array {
  const { rt, X, rows, q, parallel } = start(g, 'conv2dBackwardInputWasm');
  const mem = new Arena(rt);
  const geo = mem.take(X.geometryBytes());
  const gyo = mem.take(4 * gy.length);
  const ko = mem.take(4 * k.length);
  const ktp = mem.take(X.packedBBytes(g.cout, q));
  const gxLength = g.n * g.h * g.w * g.cin;
  const gxo = mem.take(4 * gxLength);
  const [c0, c1] = [mem.take(4 * X.blockRows(q) * q), mem.take(4 * X.blockRows(q) * q)];
  const f = mem.commit();
  writeGeometry(rt, geo, g);
  f.set(gy, gyo >> 2);
  f.set(k, ko >> 2);
  f.fill(0, gxo >> 2, (gxo >> 2) + gxLength);
  X.packB(ko, g.cout, q, 1, ktp); // op(B) = K^T [cout, q]

  // Whole images per piece: two pieces never add into one pixel of gx.
  const image = g.oh * g.ow;
  const perPiece = Math.ceil(g.n / PIECES);
  const gxImage = g.h * g.w * g.cin;
  const [s0, s1] = rt.scratch;
  rt.runPieces({
    fn: 'convInputGradRows', args: [gyo, geo, 0, rows, ktp, gxo, c0, s0], helperArgs: [[6, c1], [7, s1]],
    range: 2, total: rows, size: image * perPiece,
    // Piece i adds into images [i*perPiece, (i+1)*perPiece) of gx alone.
    resetPiece: (i) => rt.f32(0).fill(0, (gxo >> 2) + i * perPiece * gxImage, (gxo >> 2) + Math.min(g.n, (i + 1) * perPiece) * gxImage),
  }, parallel);
  return f.slice(gxo >> 2, (gxo >> 2) + gxLength);
}

/** dL/dK = im2col(x)^T · gy: [kh,kw,cin,cout]. */
export function conv2dBackwardKernelWasm(x: Float32Array, gy: Float32Array, g: Conv2dGeometry): Float32Array {
  const { rt, X, rows, q, parallel } = start(g, 'conv2dBackwardKernelWasm');
  // No output positions (an empty batch): a sum over nothing. The pieces
  // below would be cut to size 0 and leave the partials unwritten.
  if (rows === 0) return new Float32Array(q * g.cout);
  const depth = X.depthBlockRows(q);
  const mem = new Arena(rt);
  const geo = mem.take(X.geometryBytes());
  const xo = mem.take(4 * x.length);
  const gyo = mem.take(4 * gy.length);
  // Pieces of whole depth blocks, each summing into its own partial.
  const blocks = Math.ceil(rows / depth);
  const size = depth * Math.ceil(blocks / KERNEL_GRAD_PIECES);
  const pieces = Math.ceil(rows / size);
  const partial = 4 * q * g.cout;
  const gko = mem.take(pieces * partial);
  const [c0, c1] = [mem.take(4 * depth * q), mem.take(4 * depth * q)];
  const [p0, p1] = [mem.take(X.packedBBytes(depth, g.cout)), mem.take(X.packedBBytes(depth, g.cout))];
  const f = mem.commit();
  writeGeometry(rt, geo, g);
  f.set(x, xo >> 2);
  f.set(gy, gyo >> 2);

  const [s0, s1] = rt.scratch;
  rt.runPieces({
    fn: 'convKernelGradRows', args: [xo, gyo, geo, 0, rows, gko, 1, c0, p0, s0], helperArgs: [[7, c1], [8, p1], [9, s1]],
    range: 3, total: rows, size, out: 5, outStride: partial,
  }, parallel);
  for (let i = 1; i < pieces; i++) X.addInto(gko, gko + i * partial, q * g.cout);
  return f.slice(gko >> 2, (gko >> 2) + q * g.cout);
}

let calls = 0;

/** How many convolution kernels have run here (for tests: which path conv2d took). */
export function conv2dWasmCalls(): number {
  return calls;
}

function start(g: Conv2dGeometry, op: string) {
  calls++;
  const rt = wasmRuntime();
  if (rt === null) throw new Error(`${op}: this runtime lacks WebAssembly SIMD128 or shared memory; check wasmAvailable() first`);
  const rows = g.n * g.oh * g.ow;
  const q = g.kh * g.kw * g.cin;
  const parallel = rt.threads === 2 && 2 * rows * q * g.cout >= wasmLimits().parallelFlops;
  if (parallel) rt.wake(); // the helper wakes while the operands are copied in
  return { rt, X: rt.exports, rows, q, parallel };
}

/** The geometry, then the forward's epilogue fields [scale, shift, relu] (byte offsets; 0s: none). */
function writeGeometry(rt: WasmRuntime, at: number, g: Conv2dGeometry, epilogue: [number, number, number] = [0, 0, 0]): void {
  const view = new Int32Array(rt.memory.buffer, at, GEOMETRY_FIELDS.length + 3);
  for (let i = 0; i < GEOMETRY_FIELDS.length; i++) view[i] = g[GEOMETRY_FIELDS[i]!];
  view.set(epilogue, GEOMETRY_FIELDS.length);
}
