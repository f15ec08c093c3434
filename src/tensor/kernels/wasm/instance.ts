/**
 * One instance of the kernels module on one shared WebAssembly.Memory, as the
 * calling thread sees it: the memory's layout (per-thread scratch, then the
 * workspace, then each call's operands), growing it, and running an export
 * or one piece of a job on this thread. runtime.ts adds the helper thread.
 *
 *   [0, BASE)            unused (keeps 0 off limits; the module has no data)
 *   [BASE, heapStart)    scratch: [main, helper], each scratchBytes() long
 *   [heapStart, +ws)     the workspace (gemmWorkspace), grown on demand
 *   [callStart(), ...)   one call's copies of its operands
 */
import type { JOB_FUNCTIONS } from './worker.js';

/** The module's exports (wasm/gemm.ts); pointers are byte offsets into the shared memory. */
export interface WasmExports {
  scratchBytes(): number;
  packedBBytes(k: number, n: number): number;
  packB(b: number, k: number, n: number, transB: number, dst: number): void;
  gemmRows(
    a: number, transA: number, m: number, k: number, bp: number, n: number, c: number,
    overwrite: number, r0: number, r1: number, p0: number, p1: number, scratch: number,
  ): void;
  addInto(dst: number, src: number, count: number): void;
  /** 1 when gemmRows reads A in place for these arguments, 0 when it packs A. */
  readInPlace(transA: number, m: number, n: number): number;
  // The convolutions (wasm/conv.ts); geo points at the geometry struct.
  geometryBytes(): number;
  blockRows(q: number): number;
  depthBlockRows(q: number): number;
  im2colRows(x: number, geo: number, r0: number, r1: number, cols: number): void;
  col2imRows(cols: number, geo: number, r0: number, r1: number, gx: number): void;
  convForwardRows(x: number, geo: number, r0: number, r1: number, kp: number, y: number, cols: number, scratch: number): void;
  convInputGradRows(gy: number, geo: number, r0: number, r1: number, ktp: number, gx: number, cols: number, scratch: number): void;
  convKernelGradRows(
    x: number, gy: number, geo: number, r0: number, r1: number, gk: number, overwrite: number, cols: number, gyp: number, scratch: number,
  ): void;
  // Batch norm's training passes (wasm/batch-norm.ts).
  bnChannelSums(x: number, rows: number, channels: number, mean: number, sums: number): void;
  bnNormalize(x: number, rows: number, channels: number, mean: number, scale: number, beta: number, relu: number, y: number): void;
  bnGradientSums(
    x: number, gy: number, rows: number, channels: number, mean: number, scale: number, beta: number, relu: number, sumGy: number, sumGyXc: number,
  ): void;
  bnInputGrad(x: number, gy: number, rows: number, channels: number, mean: number, k1: number, k2: number, k0: number, gx: number): void;
  // Adam's update (wasm/adam.ts): n values at w, g, m, v; c1, c2 the bias corrections 1 / (1 - b^t).
  adamRows(w: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number, shrink: number, c1: number, c2: number): void;
  // Layer/group norm (wasm/group-norm.ts), examples [n0, n1) of the [N, S, G, K] view.
  gnForward(
    x: number, n0: number, n1: number, s: number, g: number, k: number, gamma: number, beta: number, epsilon: number,
    y: number, mean: number, invStd: number,
  ): void;
  gnBackward(
    x: number, gy: number, n0: number, n1: number, s: number, g: number, k: number, gamma: number, mean: number, invStd: number,
    gGamma: number, gBeta: number, gx: number,
  ): void;
}

/**
 * The slice of the WebAssembly JS API used here. The project compiles with
 * lib ES2022 and no DOM, which leaves the WebAssembly global untyped, so it
 * is typed locally instead of declaring a global.
 */
export interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
export type WasmModule = object;
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
export const wasmApi = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** gemmRows' arguments, in order. */
export type GemmRowsArgs = Parameters<WasmExports['gemmRows']>;

/**
 * Work cut into pieces for runPieces: piece i calls fn(args) with
 * args[range], args[range + 1] = [i*size, min(total, (i+1)*size)), and, if
 * `out` is given, args[out] + i*outStride (a separate output per piece).
 */
export interface PieceJob {
  fn: (typeof JOB_FUNCTIONS)[number];
  args: number[];
  range: number;
  total: number;
  size: number;
  out?: number;
  outStride?: number;
  /** Arguments the helper thread replaces with its own (its scratch buffers): [index, value] pairs. */
  helperArgs?: [number, number][];
  /**
   * For pieces that add into their output: restores piece i's output to what
   * it was before the piece ran, so this thread can run it again after a
   * helper stopped inside it. Pieces that overwrite their output need none.
   */
  resetPiece?: (i: number) => void;
}

/** A share of work for one thread: an export of the module and its arguments. */
export type Job = { [F in (typeof JOB_FUNCTIONS)[number]]: { fn: F; args: Parameters<WasmExports[F]> } }[(typeof JOB_FUNCTIONS)[number]];

const PAGE = 65536;
/** 1 GiB: the most the runtime grows the shared memory to. */
export const MAX_PAGES = 16384;
/** Bytes below this offset stay unused (the module has no data segment; this keeps 0 off limits). */
const BASE = 1024;

/** The module instantiated on a new shared memory; the memory layout above. */
export class WasmInstance {
  readonly exports: WasmExports;
  readonly memory: WasmMemory;
  /** Per-thread scratch (packed A block + one tile): [main, helper]. */
  readonly scratch: readonly [number, number];
  /** Where the workspace starts; a call's operands follow it. */
  readonly heapStart: number;
  private workspaceBytes = 0;
  private view: Float32Array;
  /** Every SharedArrayBuffer object the memory has handed out (one per size it has had). */
  private readonly buffers = new WeakSet<object>();

  constructor(api: WasmApi, protected readonly module: WasmModule) {
    this.memory = new api.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.exports = new api.Instance(module, { env: { memory: this.memory } }).exports as unknown as WasmExports;
    const s = align(this.exports.scratchBytes());
    this.scratch = [BASE, BASE + s];
    this.heapStart = BASE + 2 * s;
    this.view = new Float32Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
  }

  /** The memory as floats, at least `bytes` long (grows the memory if needed). */
  f32(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const pages = Math.ceil((bytes - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new Error(`gemmWasm: the operands need ${mb(bytes)} of WebAssembly memory, more than the ${mb(MAX_PAGES * PAGE)} limit`);
      }
      this.memory.grow(pages);
    }
    if (this.view.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.view = new Float32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
    }
    return this.view;
  }

  /** The workspace as `length` floats (see gemmWorkspace). */
  workspace(length: number): Float32Array {
    const bytes = Math.ceil((4 * length) / 64) * 64;
    if (bytes > this.workspaceBytes) {
      this.f32(this.heapStart + bytes);
      this.workspaceBytes = bytes;
    }
    this.buffers.add(this.memory.buffer);
    return new Float32Array(this.memory.buffer, this.heapStart, length);
  }

  /** The byte offset of `x[0:length]` if it lies inside the workspace, else null. */
  inWorkspace(x: Float32Array, length: number): number | null {
    if (this.workspaceBytes === 0 || !this.buffers.has(x.buffer)) return null;
    const at = x.byteOffset;
    return at >= this.heapStart && at + 4 * length <= this.heapStart + this.workspaceBytes ? at : null;
  }

  /** First byte a call may use for its own copies. */
  callStart(): number {
    return this.heapStart + this.workspaceBytes;
  }

  /** Runs a job on this thread. */
  run(job: Job): void {
    (this.exports[job.fn] as (...args: number[]) => void)(...job.args);
  }

  /** Runs piece i of a PieceJob on this thread. */
  runPiece(job: PieceJob, i: number): void {
    const args = job.args.slice();
    args[job.range] = i * job.size;
    args[job.range + 1] = Math.min(job.total, (i + 1) * job.size);
    if (job.out !== undefined) args[job.out] = job.args[job.out]! + i * (job.outStride ?? 0);
    (this.exports[job.fn] as (...a: number[]) => void)(...args);
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
