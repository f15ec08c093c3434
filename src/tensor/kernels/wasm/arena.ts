/** Scratch regions of one WebAssembly call in the shared memory. */
import type { WasmRuntime } from './runtime.js';

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
