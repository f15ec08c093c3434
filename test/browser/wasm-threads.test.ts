/**
 * The WebAssembly kernels in a real browser (issue 15 item 4): headless
 * Chromium (Debian's /usr/bin/chromium, driven by playwright-core) loads a
 * page that esbuild bundles from src/ for the browser, served from 127.0.0.1
 * once cross-origin isolated (COOP same-origin + COEP require-corp) and once
 * plainly. The page runs scenario.ts: a GEMM and four fit steps of a Conv2d +
 * BatchNorm model. The oracle is the same scenario run here in Node: the
 * hashes of C and of the trained state dict, and both losses, must be
 * identical bit for bit. Isolated: backend 'wasm', 2 threads, and the helper
 * Web Worker ran jobs (the main thread's non-blocking waits, runtime.ts
 * invariant 5); the same inside a Web Worker (`?in-worker`, where waits
 * block as in Node); plain: 'wasm' on 1 thread, no helper; a page
 * without WebAssembly: the TypeScript kernels, equal to Node's on them.
 * No console errors. Bounded timeouts; servers and browsers closed afterAll.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setBackend } from '../../src/tensor/kernels/backend.js';
import { runScenario, type ScenarioResult } from './scenario.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const HTML = '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>' +
  '<body><script type="module" src="/page.js"></script></body></html>';

/** The bundles by path: /page.js, /worker.js. */
const scripts = new Map<string, string>();
let expected: ScenarioResult;
/** The scenario on the TypeScript kernels, in Node. */
let expectedJs: ScenarioResult;
let context: BrowserContext | undefined;
let userDataDir = '';
const servers: Server[] = [];

/** Serves the page and its bundle on 127.0.0.1 (a free port); with `isolated`, with the COOP/COEP headers. */
async function serve(isolated: boolean): Promise<string> {
  const headers: Record<string, string> = isolated
    ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
    : {};
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const [type, body] = path === '/' ? ['text/html', HTML] : scripts.has(path) ? ['text/javascript', scripts.get(path)!] : [null, 'not found'];
    res.writeHead(type === null ? 404 : 200, { 'Content-Type': type ?? 'text/plain', 'Cache-Control': 'no-store', ...headers });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}/`;
}

interface PageRun {
  isolated: boolean;
  result: ScenarioResult;
  errors: string[];
}

/** Opens `url`, waits (60 s at most) for the scenario and returns it with every console error and page error. */
async function open(url: string, withoutWasm = false): Promise<PageRun> {
  const page = await context!.newPage();
  // Before any script of the page: a browser without WebAssembly.
  if (withoutWasm) await page.addInitScript(() => delete (globalThis as { WebAssembly?: unknown }).WebAssembly);
  const errors: string[] = [];
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  page.on('pageerror', (e) => void errors.push(String(e)));
  try {
    await page.goto(url, { timeout: 30_000 });
    await page.waitForFunction(() => 'scenario' in globalThis || 'scenarioError' in globalThis, null, { timeout: 60_000 });
    const out = await page.evaluate(() => {
      const g = globalThis as unknown as { scenario?: ScenarioResult; scenarioError?: string; isolated: boolean };
      return { scenario: g.scenario, scenarioError: g.scenarioError, isolated: g.isolated };
    });
    if (out.scenarioError !== undefined) throw new Error(`the page failed: ${out.scenarioError}`);
    return { isolated: out.isolated, result: out.scenario!, errors };
  } finally {
    await page.close();
  }
}

beforeAll(async () => {
  const bundle = await build({
    entryPoints: { page: fileURLToPath(new URL('./page.ts', import.meta.url)), worker: fileURLToPath(new URL('./worker-entry.ts', import.meta.url)) },
    outdir: 'out', bundle: true, platform: 'browser', format: 'esm', target: 'es2022', write: false, metafile: true, logLevel: 'silent',
  });
  for (const f of bundle.outputFiles) scripts.set(`/${f.path.split('/').pop()}`, f.text);
  expect([...scripts.keys()].sort()).toEqual(['/page.js', '/worker.js']);
  // A node: import would have failed the browser build; check the metafile says so too.
  const imports = Object.values(bundle.metafile.inputs).flatMap((i) => i.imports.map((d) => d.path));
  expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
  expected = await runScenario();
  const previous = setBackend('js');
  try {
    expectedJs = await runScenario();
  } finally {
    setBackend(previous);
  }
  userDataDir = mkdtempSync(join(tmpdir(), 'normgrad-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await context?.close();

  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  if (userDataDir !== '') rmSync(userDataDir, { recursive: true, force: true });
}, 30_000);

describe('the WebAssembly kernels in headless Chromium', () => {
  it('Node computes the oracle on WebAssembly (the scenario is not vacuous)', () => {
    expect(expected.backend).toBe('wasm');
    expect(expectedJs.backend).toBe('js');
    expect(expected.lossAfter).toBeLessThan(expected.lossBefore);
  });

  it('cross-origin isolated: wasm on 2 threads, the helper Web Worker runs jobs, and every bit equals Node', async () => {
    const run = await open(await serve(true));
    expect(run.isolated).toBe(true);
    expect(run.result.backend).toBe('wasm');
    expect(run.result.threads).toBe(2);
    expect(run.result.helperReady).toBe(true);
    expect(run.result.helperJobs).toBeGreaterThan(0);
    expect(run.result.mayBlock).toBe(false); // the main thread: the runtime's waits spin (invariant 5)
    expect({ gemm: run.result.gemm, state: run.result.state }).toEqual({ gemm: expected.gemm, state: expected.state });
    expect([run.result.lossBefore, run.result.lossAfter]).toEqual([expected.lossBefore, expected.lossAfter]);
    expect(run.errors).toEqual([]);
  }, 120_000);

  it('cross-origin isolated, normgrad inside a Web Worker: wasm on 2 threads, blocking waits, every bit equals Node', async () => {
    const run = await open(`${await serve(true)}?in-worker`);
    expect(run.isolated).toBe(true);
    expect(run.result.backend).toBe('wasm');
    expect(run.result.threads).toBe(2);
    expect(run.result.mayBlock).toBe(true);
    expect(run.result.helperJobs).toBeGreaterThan(0);
    expect({ gemm: run.result.gemm, state: run.result.state }).toEqual({ gemm: expected.gemm, state: expected.state });
    expect([run.result.lossBefore, run.result.lossAfter]).toEqual([expected.lossBefore, expected.lossAfter]);
    expect(run.errors).toEqual([]);
  }, 120_000);

  it('not isolated: wasm on 1 thread, no helper, and every bit equals Node', async () => {
    const run = await open(await serve(false));
    expect(run.isolated).toBe(false);
    expect(run.result.backend).toBe('wasm');
    expect(run.result.threads).toBe(1);
    expect(run.result.helperJobs).toBe(0);
    expect({ gemm: run.result.gemm, state: run.result.state }).toEqual({ gemm: expected.gemm, state: expected.state });
    expect([run.result.lossBefore, run.result.lossAfter]).toEqual([expected.lossBefore, expected.lossAfter]);
    expect(run.errors).toEqual([]);
  }, 120_000);

  it('without WebAssembly (the global removed before the page runs): the TypeScript kernels on 1 thread, every bit equals Node on them', async () => {
    const run = await open(await serve(true), true);
    expect(run.result.backend).toBe('js');
    expect(run.result.threads).toBe(1);
    expect({ gemm: run.result.gemm, state: run.result.state }).toEqual({ gemm: expectedJs.gemm, state: expectedJs.state });
    expect([run.result.lossBefore, run.result.lossAfter]).toEqual([expectedJs.lossBefore, expectedJs.lossAfter]);
    expect(run.errors).toEqual([]);
  }, 120_000);
});
