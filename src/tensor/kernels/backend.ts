/**
 * The one place that decides how kernels run. Every kernel with a fast path
 * (gemm, conv2d, batch norm, layer/group norm) asks
 * `backend()` and picks its WebAssembly or TypeScript version; nothing above
 * src/tensor/kernels/ knows WebAssembly exists. Kernels without a fast path
 * run their TypeScript reference on both backends: pooling (pool2d.ts) and
 * the dilated or grouped convolution (conv2d-grouped.ts, whose GEMMs still
 * follow the backend).
 *
 *   'wasm'  WebAssembly SIMD128 kernels (src/tensor/kernels/wasm/), on up to
 *           `threads()` threads; the default where the runtime supports it.
 *   'js'    the plain TypeScript kernels, everywhere.
 *
 * Both backends compute the same math and are tested against the same
 * references; they may differ in the last bits (wasm's GEMM sums in float32,
 * the TypeScript GEMM in float64). The thread count never changes a bit.
 */
import { wasmRuntime } from './wasm/runtime.js';

/** Which implementation the kernels run: WebAssembly SIMD ('wasm') or plain TypeScript ('js'). */
export type Backend = 'wasm' | 'js';

let current: Backend | undefined;

/** True when this runtime has WebAssembly SIMD128 and shared memory (checked once, by validating and compiling the module). */
export function wasmAvailable(): boolean {
  return wasmRuntime() !== null;
}

/**
 * Selects the backend every kernel runs on; returns the previous one.
 *
 * @example
 * const previous = setBackend('js'); // plain TypeScript from here on
 * setBackend(previous);
 */
export function setBackend(next: Backend): Backend {
  return select('setBackend', next);
}

/** The backend the kernels currently run on ('wasm' by default where available, else 'js'). */
export function backend(): Backend {
  current ??= wasmAvailable() ? 'wasm' : 'js';
  return current;
}

/**
 * Threads the WebAssembly kernels may use: 1, or 2 (the default on machines
 * with 2+ cores). Results are the same bits either way. Stays 1 where no
 * helper thread can start: a browser page that is not cross-origin isolated.
 */
export function setThreads(n: 1 | 2): void {
  selectThreads('setThreads', n);
}

/** Threads the WebAssembly kernels currently may use (1 without WebAssembly). */
export function threads(): 1 | 2 {
  return wasmRuntime()?.threads ?? 1;
}

/**
 * Starts the helper thread now rather than at the first large call (whose
 * work then runs on the main thread alone); resolves to true once it can take
 * work, false with threads = 1 or without WebAssembly support.
 */
export function ready(): Promise<boolean> {
  return wasmRuntime()?.startHelper() ?? Promise.resolve(false);
}

/** Which implementation `gemm` runs. @deprecated Use `Backend`. */
export type GemmBackend = Backend;

/** @deprecated Use `setBackend`, which sets the backend of every kernel (it always did). */
export function setGemmBackend(next: GemmBackend): GemmBackend {
  return select('setGemmBackend', next);
}

/** @deprecated Use `backend`. */
export function gemmBackend(): GemmBackend {
  return backend();
}

/** @deprecated Use `setThreads`. */
export function setGemmThreads(n: 1 | 2): void {
  selectThreads('setGemmThreads', n);
}

/** @deprecated Use `threads`. */
export function gemmThreads(): 1 | 2 {
  return threads();
}

/** @deprecated Use `ready`. */
export function gemmWasmReady(): Promise<boolean> {
  return ready();
}

function select(op: string, next: Backend): Backend {
  if (next !== 'wasm' && next !== 'js') throw new Error(`${op}: expected 'wasm' or 'js', got '${String(next)}'`);
  if (next === 'wasm' && !wasmAvailable()) throw new Error(`${op}: this runtime lacks WebAssembly SIMD128 or shared memory`);
  const previous = backend();
  current = next;
  return previous;
}

function selectThreads(op: string, n: 1 | 2): void {
  if (n !== 1 && n !== 2) throw new Error(`${op}: n must be 1 or 2, got ${String(n)}`);
  const rt = wasmRuntime();
  if (rt) rt.threads = n;
}
