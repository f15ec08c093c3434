/**
 * One engine, two hosts: the core (src/index.ts and everything it imports)
 * imports no node: module. The WebAssembly thread runtime takes Node's
 * worker_threads through process.getBuiltinModule in its Node host
 * (src/tensor/kernels/wasm/host-node.ts), never through an import.
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
  it('the core entry imports no node: module', async () => {
    expect(await nodeImporters('src/index.ts')).toEqual({});
  });

  it('the Node entry adds the file system pieces: checkpoint files, atomic writes, the MNIST loader', async () => {
    const files = Object.keys(await nodeImporters('src/node.ts')).sort();
    expect(files).toEqual([
      'src/data/mnist.ts', 'src/train/atomic-write.ts', 'src/train/checkpoint-file.ts',
    ]);
  });
});
