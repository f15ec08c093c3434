/** Size limits shared by the WebAssembly kernels (gemm, the convolutions, batch norm). */

/** Tuning limits (tests lower them to reach the threaded and chunked paths with small inputs). */
export interface WasmLimits {
  /** Problems below this many flops (2*m*n*k for a GEMM) run on one thread (default 2e6). */
  parallelFlops: number;
  /** Operands above this many bytes are processed in row chunks, or by the TypeScript kernels (default 256 MiB). */
  chunkBytes: number;
}

const limits: WasmLimits = { parallelFlops: 2e6, chunkBytes: 256 * 2 ** 20 };

/** The limits in force. */
export function wasmLimits(): Readonly<WasmLimits> {
  return limits;
}

/** Sets some limits; returns the previous values (to restore them). */
export function setWasmLimits(next: Partial<WasmLimits>): WasmLimits {
  const prev = { ...limits };
  Object.assign(limits, next);
  return prev;
}
