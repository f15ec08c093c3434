/**
 * The committed WebAssembly (the base64 module in
 * src/tensor/kernels/wasm/kernels-wasm-bytes.ts, the only copy the runtime
 * loads) is exactly what wasm/build.mjs makes from wasm/kernels.ts (with
 * wasm/gemm.ts, wasm/conv.ts and wasm/batch-norm.ts): asc's output is
 * deterministic, so an edit to the AssemblyScript source without
 * `npm run build:wasm` fails here.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KERNELS_WASM_BASE64 } from '../../../src/tensor/kernels/wasm/kernels-wasm-bytes.js';
import { wasmRuntime, type WasmExports } from '../../../src/tensor/kernels/wasm/runtime.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('kernels.wasm', () => {
  it('the base64 copy decodes to a WebAssembly module', () => {
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    expect([...bytes.subarray(0, 4)]).toEqual([0x00, 0x61, 0x73, 0x6d]); // "\0asm"
  });

  it('WasmExports names every function the module exports, and nothing else', () => {
    // A key missing here, or one the interface lacks, fails the type check.
    const named = {
      scratchBytes: true, packedBBytes: true, packB: true, gemmRows: true, addInto: true, readInPlace: true,
      geometryBytes: true, blockRows: true, depthBlockRows: true, im2colRows: true, col2imRows: true,
      convForwardRows: true, convInputGradRows: true, convKernelGradRows: true,
      bnChannelSums: true, bnNormalize: true, bnGradientSums: true, bnInputGrad: true, adamRows: true,
      gnForward: true, gnBackward: true,
    } satisfies Record<keyof WasmExports, true>;
    const rt = wasmRuntime();
    if (rt === null) return; // no WebAssembly SIMD here: nothing to compare
    expect(Object.keys(rt.exports).sort()).toEqual(Object.keys(named).sort());
  });

  it('rebuilding from wasm/kernels.ts gives the committed bytes', () => {
    const r = spawnSync(process.execPath, ['wasm/build.mjs', '--check'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('matches wasm/kernels.ts');
  });
});
