/**
 * The batch-norm demo end to end, in real headless Chromium (Debian's
 * /usr/bin/chromium, driven by playwright-core): `npm run demo`'s server is
 * started on a free port, the page trains both models for 150 batches in its
 * worker (?autostart=1&batches=150), and the numbers it publishes on
 * <main id="lesson"> must show the lesson: BN learns, no-BN stalls. Then the
 * drawing pad classifies a test digit, and a stroke drawn with the mouse.
 * Set DEMO_SCREENSHOT=docs/images/demo.png to write the 1280x800 screenshot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mnistSplit } from '../../src/data/mnist.js';
import { parseAsset } from '../../demo/asset.js';

// The page's globals, for the functions page.evaluate runs there (this file compiles without the DOM lib).
declare const document: { getElementById(id: string): { dataset: Record<string, string> } | null; querySelectorAll(q: string): { length: number } };
declare const window: { __lesson: { drawTestDigit(i: number): Promise<number>; classifyPad(): Promise<{ a: number[]; b: number[] } | null> } };
declare const crossOriginIsolated: boolean;

const CHROMIUM = '/usr/bin/chromium';
const BATCHES = 150;
const TRAIN_TIMEOUT = 6 * 60_000;

let server: ChildProcess;
let url: string;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
const errors: string[] = [];

function startServer(): Promise<string> {
  server = spawn('npx', ['tsx', 'demo/serve.mjs', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`demo server did not start:\n${out}`)), 120_000);
    const take = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(out);
      if (m) { clearTimeout(timer); resolve(m[0]); }
    };
    server.stdout!.on('data', take);
    server.stderr!.on('data', take);
    server.on('exit', (code) => reject(new Error(`demo server exited with ${code}:\n${out}`)));
  });
}

const lessonData = (): Promise<Record<string, string>> =>
  page.evaluate(() => ({ ...document.getElementById('lesson')!.dataset }) as Record<string, string>);

beforeAll(async () => {
  url = await startServer();
  userDataDir = mkdtempSync(join(tmpdir(), 'normgrad-demo-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
}, 180_000);

afterAll(async () => {
  await context?.close();
  if (server?.pid) server.kill();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

describe('the batch-norm demo in Chromium', () => {
  test('the server sends COOP/COEP, so the page is cross-origin isolated', async () => {
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect((await fetch(new URL('missing.js', url))).status).toBe(404);
    expect((await fetch(new URL('../package.json', url))).status).toBe(404);
  });

  test('mnist.bin holds the split of mnistSplit({ seed: 1 }) byte for byte', async () => {
    const data = parseAsset(await (await fetch(new URL('mnist.bin', url))).arrayBuffer());
    const { train, validation, test: testSplit } = mnistSplit({ seed: 1 });
    expect([data.train, data.validation, data.test]).toEqual([train.count, validation.count, testSplit.count]);
    const n = train.count + validation.count;
    expect(Buffer.from(data.images.subarray(0, train.count * 784)).equals(Buffer.from(train.images))).toBe(true);
    expect(Buffer.from(data.images.subarray(n * 784)).equals(Buffer.from(testSplit.images))).toBe(true);
    expect(Buffer.from(data.labels.subarray(train.count, n)).equals(Buffer.from(validation.labels))).toBe(true);
  });

  test(`after ${BATCHES} batches BN has learned and no-BN has not`, async () => {
    await page.goto(`${url}?autostart=1&batches=${BATCHES}`);
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    await page.waitForFunction(() => document.getElementById('lesson')!.dataset.state === 'done', null, { timeout: TRAIN_TIMEOUT, polling: 1000 });
    const d = await lessonData();
    console.log(`demo: ${BATCHES} batches in ${d.seconds} s on ${d.backend} x${d.threads}; BN train ${d.trainAccuracy} val ${d.valAccuracy}; no-BN train ${d.trainAccuracyNobn} val ${d.valAccuracyNobn}`);
    expect(Number(d.step)).toBe(BATCHES);
    expect(Number(d.trainAccuracy)).toBeGreaterThanOrEqual(0.8);
    expect(Number(d.trainAccuracyNobn)).toBeLessThanOrEqual(0.3);
    expect(Number(d.valAccuracyNobn)).toBeLessThanOrEqual(0.3);
    // The page is cross-origin isolated: WebAssembly with a helper Web Worker.
    expect(d.backend).toBe('wasm');
    expect(Number(d.threads)).toBe(2);
    expect(errors).toEqual([]);
  }, TRAIN_TIMEOUT + 60_000);

  test('recomputing the statistics makes inference mode work, and the pad classifies a test digit alone', async () => {
    // After 150 steps with momentum 0.99 the moving averages still carry 0.99^150 = 22% of their
    // initial values: inference mode is far behind training. Recomputing them closes the gap.
    const before = Number((await lessonData()).valAccuracy);
    await page.click('#recompute');
    await page.waitForFunction(() => /→/.test((document.getElementById('recompute-result') as unknown as { textContent: string }).textContent), null, { timeout: 60_000 });
    const after = Number((await lessonData()).valAccuracy);
    console.log(`demo: recomputed statistics: BN validation ${before} -> ${after}`);
    expect(after).toBeGreaterThanOrEqual(0.6);
    expect(after).toBeGreaterThan(before);
    const label = await page.evaluate(() => window.__lesson.drawTestDigit(0));
    const probs = (await page.evaluate(() => window.__lesson.classifyPad()))!;
    for (const p of [probs.a, probs.b]) {
      expect(p).toHaveLength(10);
      expect(Math.abs(p.reduce((s, v) => s + v, 0) - 1)).toBeLessThan(1e-4);
    }
    expect(probs.a.indexOf(Math.max(...probs.a))).toBe(label);
    // A stroke drawn with the mouse goes the same way and fills the probability bars.
    await page.click('#clear');
    const box = (await page.locator('#pad').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height * 0.8, { steps: 10 });
    await page.mouse.up();
    await page.waitForFunction(() => document.querySelectorAll('#probs .bar').length === 20, null, { timeout: 30_000 });
    if (process.env.DEMO_SCREENSHOT) {
      await page.evaluate(() => window.__lesson.drawTestDigit(3));
      await page.evaluate(() => window.__lesson.classifyPad());
      await page.screenshot({ path: process.env.DEMO_SCREENSHOT });
    }
    expect(errors).toEqual([]);
  }, 120_000);
});
