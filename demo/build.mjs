/**
 * Builds the batch-norm demo into dist-demo/:
 *   mnist.bin        the `mnist` package's digits as bytes (see writeMnistAsset)
 *   main.js          the page, worker.js the training worker (esbuild bundles
 *                    of demo/*.ts, which import normgrad from src/), uPlot's CSS
 *   index.html, style.css
 * Run through tsx (`npm run demo`), so this file can import src/ TypeScript.
 */
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mnistSplit } from '../src/data/mnist.js';

const here = dirname(fileURLToPath(import.meta.url));
export const OUT_DIR = join(here, '..', 'dist-demo');

/** The split the page uses (the lesson's seed and sizes: 8000 / 1000 / 1000). */
export const SPLIT_SEED = 1;

/**
 * mnist.bin, little-endian:
 *   bytes 0-3    'NGMN'
 *   uint32 x 3   train, validation, test counts (T, V, S)
 *   (T+V+S)*784  pixels, uint8, row-major 28x28, train rows, then validation, then test
 *   T+V+S        labels, uint8, same order
 * 7.9 MB raw for 10,000 digits, against ~25 MB for the package's JSON.
 */
export function mnistAsset() {
  const { train, validation, test } = mnistSplit({ seed: SPLIT_SEED });
  const parts = [train, validation, test];
  const n = parts.reduce((s, p) => s + p.count, 0);
  const out = new Uint8Array(16 + n * 785);
  out.set([0x4e, 0x47, 0x4d, 0x4e], 0); // 'NGMN'
  const view = new DataView(out.buffer);
  parts.forEach((p, i) => view.setUint32(4 + 4 * i, p.count, true));
  let row = 0;
  for (const p of parts) {
    out.set(p.images, 16 + row * 784);
    out.set(p.labels, 16 + n * 784 + row);
    row += p.count;
  }
  return out;
}

/** Writes dist-demo/; returns its path. */
export async function buildDemo({ quiet = false } = {}) {
  const t0 = performance.now();
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(join(OUT_DIR, 'mnist.bin'), mnistAsset());
  await build({
    entryPoints: { main: join(here, 'main.ts'), worker: join(here, 'worker.ts') },
    outdir: OUT_DIR,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: false,
    logLevel: quiet ? 'error' : 'warning',
  });
  const require = createRequire(import.meta.url);
  copyFileSync(join(dirname(require.resolve('uplot/package.json')), 'dist', 'uPlot.min.css'), join(OUT_DIR, 'uPlot.min.css'));
  for (const f of ['index.html', 'style.css']) copyFileSync(join(here, f), join(OUT_DIR, f));
  if (!quiet) console.log(`demo built into ${OUT_DIR} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return OUT_DIR;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await buildDemo();
