/** Scratch regions of one WebAssembly call in the shared memory, and the checks every call makes first. */
import { wasmLimits } from './limits.js';
import { wasmRuntime, type WasmRuntime } from './runtime.js';

/** Hands out 64-byte-aligned regions after the workspace; commit() grows the memory to fit them. */
export class Arena {
  private top: number;

  constructor(private readonly rt: WasmRuntime) {
    this.top = rt.callStart();
  }

  take(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / 64) * 64;
    return at;
  }

  /** The memory as floats, now large enough for every region taken. */
  commit(): Float32Array {
    return this.rt.f32(this.top);
  }
}

/** The runtime, or an error naming `op` where WebAssembly SIMD128 or shared memory is missing. */
export function requireRuntime(op: string): WasmRuntime {
  const rt = wasmRuntime();
  if (rt === null) throw new Error(`${op}: this runtime lacks WebAssembly SIMD128 or shared memory; check wasmAvailable() first`);
  return rt;
}

/**
 * Whether a normalization pass over `size` values can run here: WebAssembly
 * is there, and its three copies of the data (x, gy, and y or gx) plus 64 KiB
 * of per-channel arrays fit wasmLimits().chunkBytes.
 */
export function normalizationCopiesFit(size: number): boolean {
  const rt = wasmRuntime();
  return rt !== null && 3 * 4 * size + 65536 + rt.callStart() <= wasmLimits().chunkBytes;
}
