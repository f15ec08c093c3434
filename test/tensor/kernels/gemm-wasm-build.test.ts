/**
 * The committed WebAssembly (src/tensor/kernels/wasm/gemm.wasm and its base64
 * copy gemm-wasm-bytes.ts) is exactly what wasm/build.mjs makes from
 * wasm/kernels.ts (with wasm/gemm.ts and wasm/conv.ts): asc's output is deterministic, so an edit to the
 * AssemblyScript source without `npm run build:wasm` fails here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GEMM_WASM_BASE64 } from '../../../src/tensor/kernels/wasm/gemm-wasm-bytes.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('gemm.wasm', () => {
  it('the base64 copy the loader uses is the committed gemm.wasm', () => {
    const file = readFileSync(new URL('../../../src/tensor/kernels/wasm/gemm.wasm', import.meta.url));
    expect(Buffer.from(GEMM_WASM_BASE64, 'base64').equals(file)).toBe(true);
  });

  it('rebuilding from wasm/kernels.ts gives the committed bytes', () => {
    const r = spawnSync(process.execPath, ['wasm/build.mjs', '--check'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('matches wasm/kernels.ts');
  });
});
