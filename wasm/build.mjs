// Builds the WebAssembly SIMD kernels from wasm/kernels.ts (AssemblyScript: the
// GEMM in wasm/gemm.ts, the convolutions in wasm/conv.ts and batch norm's
// training passes in wasm/batch-norm.ts) and writes the one committed artifact:
//   src/tensor/kernels/wasm/kernels-wasm-bytes.ts   the module as base64, which
//                                                   is what the runtime loads:
//                                                   no file I/O from src/ (tsx,
//                                                   vitest), dist/ or a browser
//
//   node wasm/build.mjs           rebuild and write the file
//   node wasm/build.mjs --check   rebuild in memory; exit 1 if the file differs
//
// asc's output is deterministic for a given AssemblyScript version, so --check
// (run by test/tensor/kernels/kernels-wasm-build.test.ts) keeps source and
// binary from drifting apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = 'wasm/kernels.ts';
const bytesPath = join(root, 'src/tensor/kernels/wasm/kernels-wasm-bytes.ts');

/** The asc command line, written into the generated file's header. */
export const ASC_ARGS = [
  source, '--outFile', 'kernels.wasm',
  '-O3', '--noAssert', '--runtime', 'stub', '--use', 'abort=',
  '--enable', 'simd', '--enable', 'threads',
  '--importMemory', '--noExportMemory', '--sharedMemory',
  '--initialMemory', '1', '--maximumMemory', '65536',
];

/** Compiles wasm/kernels.ts; resolves to the module's bytes. */
export async function buildKernelsWasm() {
  let binary = null;
  const stderr = [];
  const { error } = await asc.main(ASC_ARGS, {
    readFile: (name, baseDir) => {
      try { return readFileSync(join(root, baseDir, name), 'utf8'); } catch { return null; }
    },
    writeFile: (name, contents) => { if (name.endsWith('.wasm')) binary = contents; },
    listFiles: () => [],
    stderr: { write: (s) => { stderr.push(String(s)); return true; } },
  });
  if (error) throw new Error(`asc failed: ${error.message}\n${stderr.join('')}`);
  if (!binary) throw new Error('asc wrote no .wasm output');
  return new Uint8Array(binary);
}

/** The generated TypeScript module holding `bytes` as base64. */
export function bytesModule(bytes) {
  const b64 = Buffer.from(bytes).toString('base64');
  const lines = b64.match(/.{1,100}/g) ?? [''];
  return [
    `// Generated from wasm/kernels.ts by wasm/build.mjs (npm run build:wasm), do not edit.`,
    `// asc ${ASC_ARGS.join(' ')}`,
    `// ${bytes.length} bytes.`,
    `export const KERNELS_WASM_BASE64 =`,
    ...lines.map((l, i) => `  '${l}'${i === lines.length - 1 ? ';' : ' +'}`),
    '',
  ].join('\n');
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const bytes = await buildKernelsWasm();
  const text = bytesModule(bytes);
  if (process.argv.includes('--check')) {
    let committed = null;
    try { committed = readFileSync(bytesPath, 'utf8'); } catch { /* missing: out of date */ }
    if (committed !== text) {
      console.error(`out of date with ${source}: ${bytesPath}; run npm run build:wasm`);
      process.exit(1);
    }
    console.log(`kernels.wasm (${bytes.length} bytes) matches ${source}`);
  } else {
    writeFileSync(bytesPath, text);
    console.log(`wrote ${bytesPath} (${bytes.length} bytes)`);
  }
}
