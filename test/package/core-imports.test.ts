/**
 * One engine, two hosts: the core (src/index.ts and everything it imports)
 * imports no node: module. The one exception left is the WebAssembly thread
 * runtime, which bundlers swap for src/tensor/kernels/browser/ through the
 * package.json `browser` field until it takes its host from an adapter
 * (issue 15 item 4); when that lands, the expected map below becomes {}.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO } from './consumer-kit.js';

async function nodeImporters(entry: string): Promise<Record<string, string[]>> {
  const r = await build({ absWorkingDir: REPO, entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
  const out: Record<string, string[]> = {};
  for (const [file, input] of Object.entries(r.metafile.inputs)) {
    const node = input.imports.map((m) => m.path).filter((p) => p.startsWith('node:'));
    if (node.length > 0) out[file] = node.sort();
  }
  return out;
}

describe('node: imports', () => {
  it('the core entry reaches node: modules only through the wasm thread runtime', async () => {
    expect(await nodeImporters('src/index.ts')).toEqual({ 'src/tensor/kernels/wasm/runtime.ts': ['node:os', 'node:worker_threads'] });
  });

  it('the Node entry adds the file system pieces: checkpoint files, atomic writes, the MNIST loader', async () => {
    const files = Object.keys(await nodeImporters('src/node.ts')).sort();
    expect(files).toEqual([
      'src/data/mnist.ts', 'src/tensor/kernels/wasm/runtime.ts', 'src/train/atomic-write.ts', 'src/train/checkpoint-file.ts',
    ]);
  });
});
