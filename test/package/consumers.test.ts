/**
 * The consumer matrix (issue 15): the packed tarball, used the ways people
 * use packages. Offline: see consumer-kit.ts. Each consumer trains (or runs)
 * something and checks the result, so "it resolves" is never the only check.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumer, pack, run, trainingProgram, TRAINING_NAMES, tsc, type Packed } from './consumer-kit.js';
import { CHROMIUM, trainInChromium } from './browser-kit.js';

let dir = '';
let packed: Packed;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'normgrad-consumers-'));
  packed = pack(dir);
  console.log(`tarball: ${packed.files} files, ${(packed.bytes / 1024).toFixed(0)} KiB packed`);
}, 300_000);
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

interface TrainResult { before: number; after: number; backend: string; threads: number }

function expectTrained(out: string): TrainResult {
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as TrainResult;
  expect(r.after).toBeLessThan(0.5 * r.before);
  expect(['wasm', 'js']).toContain(r.backend);
  return r;
}

const TS_NODE_APP = `import { ${TRAINING_NAMES}, saveCheckpoint, loadCheckpoint, toNdarray } from 'normgrad';
import { loadMnist } from 'normgrad/node';
import type { NdArray } from 'ndarray';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const view: NdArray<Float32Array> = toNdarray(new Tensor(new Float32Array([1, 2, 3, 4]), [2, 2]));
if (view.get(1, 0) !== 3 || typeof loadMnist !== 'function') throw new Error('toNdarray or normgrad/node is wrong');
${trainingProgram('')}
const d = mkdtempSync(join(tmpdir(), 'ckpt-'));
saveCheckpoint(model, join(d, 'm.safetensors'));
loadCheckpoint(model, join(d, 'm.safetensors'));
rmSync(d, { recursive: true });
`;

describe('TypeScript consumers type-check with skipLibCheck false, then run', () => {
  it('ESM, module NodeNext, strict', () => {
    const app = consumer(join(dir, 'ts-esm'), packed, {
      'package.json': JSON.stringify({ name: 'ts-esm', private: true, type: 'module' }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
        include: ['app.ts'],
      }),
      'app.ts': TS_NODE_APP,
    }, ['@types/node']);
    tsc(app);
    expectTrained(run(process.execPath, ['out/app.js'], app).stdout);
  }, 180_000);

  it('CommonJS (no "type": "module"), module NodeNext and the classic module commonjs', () => {
    const cjs = TS_NODE_APP.replace("import type { NdArray } from 'ndarray';", "import type { NdArray } from 'ndarray';\nconsole.error(typeof require);");
    const app = consumer(join(dir, 'ts-cjs'), packed, {
      'package.json': JSON.stringify({ name: 'ts-cjs', private: true }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
        include: ['app.ts'],
      }),
      'tsconfig.classic.json': JSON.stringify({
        compilerOptions: { module: 'CommonJS', moduleResolution: 'Node10', target: 'ES2022', strict: true, skipLibCheck: false, esModuleInterop: true, outDir: 'out-classic', types: ['node'] },
        include: ['app.ts'],
      }),
      'app.ts': cjs,
    }, ['@types/node']);
    for (const [project, out] of [['tsconfig.json', 'out'], ['tsconfig.classic.json', 'out-classic']] as const) {
      tsc(app, project);
      const r = run(process.execPath, [`${out}/app.js`], app);
      expect(r.stderr).toContain('function'); // the emitted file really is CommonJS
      expectTrained(r.stdout);
    }
  }, 180_000);

  it('the core types alone (moduleResolution Bundler, browser condition, lib DOM, no @types/node)', () => {
    const app = consumer(join(dir, 'ts-browser'), packed, {
      'package.json': JSON.stringify({ name: 'ts-browser', private: true, type: 'module' }),
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          module: 'ESNext', moduleResolution: 'Bundler', customConditions: ['browser'], target: 'ES2022', lib: ['ES2022', 'DOM'],
          strict: true, skipLibCheck: false, noEmit: true, types: [],
        },
        include: ['app.ts'],
      }),
      'app.ts': trainingProgram(`import { ${TRAINING_NAMES}, toNdarray } from 'normgrad';\nvoid toNdarray;`),
      'bad.ts': "import { saveCheckpoint } from 'normgrad';\nvoid saveCheckpoint;\n",
      'tsconfig.bad.json': JSON.stringify({ extends: './tsconfig.json', include: ['bad.ts'] }),
    });
    tsc(app);
    // The browser entry does not offer the Node-only pieces.
    expect(() => tsc(app, 'tsconfig.bad.json')).toThrow(/has no exported member 'saveCheckpoint'/);
  }, 180_000);
});

describe('plain JavaScript under Node', () => {
  it('.mjs import', () => {
    const app = consumer(join(dir, 'mjs'), packed, {
      'package.json': JSON.stringify({ name: 'mjs', private: true }),
      'app.mjs': trainingProgram(`import { ${TRAINING_NAMES}, saveCheckpoint } from 'normgrad';\nif (typeof saveCheckpoint !== 'function') throw new Error('no saveCheckpoint');`),
    });
    expectTrained(run(process.execPath, ['app.mjs'], app).stdout);
  }, 120_000);

  it('.cjs require (require(esm), Node >= 20.19), one module instance for import and require', () => {
    const app = consumer(join(dir, 'cjs'), packed, {
      'package.json': JSON.stringify({ name: 'cjs', private: true }),
      'app.cjs': trainingProgram(
        `const { ${TRAINING_NAMES}, loadCheckpoint } = require('normgrad');\nconst viaNode = require('normgrad/node');\nif (viaNode.Tensor !== Tensor || typeof loadCheckpoint !== 'function') throw new Error('two copies');`,
      ),
    });
    expectTrained(run(process.execPath, ['app.cjs'], app).stdout);
  }, 120_000);
});

describe('bundles', () => {
  let browserBundle = '';

  it('esbuild --platform=browser: no node: import, and the bundle trains', async () => {
    const app = consumer(join(dir, 'browser'), packed, {
      'package.json': JSON.stringify({ name: 'browser', private: true, type: 'module' }),
      'app.js': trainingProgram(`import { ${TRAINING_NAMES} } from 'normgrad';`, 'globalThis.report(result);'),
    });
    const result = await build({
      absWorkingDir: app, entryPoints: ['app.js'], bundle: true, platform: 'browser', format: 'iife', minify: true,
      outfile: 'bundle.js', metafile: true, logLevel: 'silent',
    });
    const inputs = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((m) => m.path));
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
    const text = readFileSync(join(app, 'bundle.js'), 'utf8');
    // Not even inside strings: the Node host loads worker_threads through process.getBuiltinModule.
    expect(text.match(/["'`]node:[a-z_]+/g) ?? []).toEqual([]);
    browserBundle = join(app, 'bundle.js');
    console.log(`browser bundle (fit, Conv2d, BatchNorm, Adam; minified): ${(text.length / 1024).toFixed(0)} KiB, ${(gzipSync(text).length / 1024).toFixed(0)} KiB gzipped`);
    // It runs as is under Node too (no Buffer, no node: module needed).
    const r = run(process.execPath, ['-e', `globalThis.report = (r) => console.log(JSON.stringify(r)); require(${JSON.stringify(browserBundle)})`], app);
    expectTrained(r.stdout);
  }, 120_000);

  it('esbuild --platform=node: bundles the Node entry and trains', async () => {
    const app = consumer(join(dir, 'node-bundle'), packed, {
      'package.json': JSON.stringify({ name: 'node-bundle', private: true, type: 'module' }),
      'app.js': trainingProgram(`import { ${TRAINING_NAMES}, toBytes, fromBytes } from 'normgrad';`, 'fromBytes(model, toBytes(model));\nconsole.log(JSON.stringify(result));'),
    });
    await build({ absWorkingDir: app, entryPoints: ['app.js'], bundle: true, platform: 'node', format: 'esm', outfile: 'bundle.mjs', logLevel: 'silent' });
    expectTrained(run(process.execPath, ['bundle.mjs'], app).stdout);
  }, 120_000);

  it('a bundle importing only Tensor keeps the module that installs Tensor.prototype.backward', async () => {
    const app = consumer(join(dir, 'tensor-only'), packed, {
      'package.json': JSON.stringify({ name: 'tensor-only', private: true, type: 'module' }),
      'app.js': "import { Tensor } from 'normgrad';\nconst x = new Tensor(new Float32Array([3]), []).requireGrad();\nx.backward();\nconsole.log(JSON.stringify(Array.from(x.grad.data)));\n",
    });
    await build({ absWorkingDir: app, entryPoints: ['app.js'], bundle: true, platform: 'browser', format: 'esm', minify: true, outfile: 'bundle.mjs', logLevel: 'silent' });
    expect(JSON.parse(run(process.execPath, ['bundle.mjs'], app).stdout)).toEqual([1]);
    // ...and tree shaking still works: the layers and fit are not in it.
    expect(statSync(join(app, 'bundle.mjs')).size).toBeLessThan(40_000);
  }, 120_000);

  describe('headless Chromium trains with the browser bundle', () => {
    for (const isolated of [false, true]) {
      it(isolated ? 'cross-origin isolated (COOP same-origin, COEP require-corp)' : 'served plainly', async () => {
        if (CHROMIUM === null) throw new Error('/usr/bin/chromium is missing: install Debian\'s chromium (.ci/run does)');
        expect(browserBundle).not.toBe('');
        const r = await trainInChromium(browserBundle, isolated, join(dir, isolated ? 'profile-isolated' : 'profile-plain'));
        console.log(`chromium ${isolated ? 'isolated' : 'plain'}: loss ${r.before.toFixed(3)} -> ${r.after.toFixed(3)}, backend ${r.backend}, threads ${r.threads}`);
        expect(r.crossOriginIsolated).toBe(isolated);
        expect(r.after).toBeLessThan(0.5 * r.before);
        // WebAssembly either way; a helper thread (a Web Worker sharing the memory) only when isolated.
        expect(r.backend).toBe('wasm');
        expect(r.threads).toBe(isolated ? 2 : 1);
      }, 180_000);
    }
  });
});
