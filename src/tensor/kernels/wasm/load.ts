/**
 * Loading the kernels module: decode the base64 copy (kernels-wasm-bytes.ts),
 * validate and compile it. atob, not Buffer, so it loads in browsers too.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm-bytes.js';
import { wasmApi, type WasmApi, type WasmModule } from './instance.js';

/** The bytes of a base64 string. */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The compiled kernels module and the API to instantiate it, or null where
 * WebAssembly is missing or lacks what the module uses. Validating the module
 * itself checks exactly those features: SIMD128 (v128 loads, f32x4
 * arithmetic) and an imported shared memory.
 */
export function compileKernels(): { api: WasmApi; module: WasmModule } | null {
  if (wasmApi === undefined) return null;
  const bytes = decodeBase64(KERNELS_WASM_BASE64);
  if (!wasmApi.validate(bytes)) return null;
  return { api: wasmApi, module: new wasmApi.Module(bytes) };
}
