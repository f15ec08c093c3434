/**
 * Real headless Chromium (Debian's /usr/bin/chromium, never a download)
 * driven by playwright-core: a page served from 127.0.0.1 on a free port loads
 * a browser bundle that calls `report(result)` and hands the result back.
 * The server and the browser are closed and the profile removed, always.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';

/** The Chromium binary, or null when it is not installed (.ci/run installs it). */
export const CHROMIUM = existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** What the page reports: the training result and whether it was cross-origin isolated. */
export interface BrowserResult {
  before: number;
  after: number;
  backend: string;
  threads: number;
  crossOriginIsolated: boolean;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>normgrad</title>
<script>globalThis.report = (r) => { window.__result = { ...r, crossOriginIsolated: self.crossOriginIsolated }; };</script>
<script src="bundle.js"></script>`;

function serve(bundle: string, isolated: boolean): Promise<Server> {
  const js = readFileSync(bundle);
  const server = createServer((req, res) => {
    const headers: Record<string, string> = isolated ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } : {};
    if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (req.url === '/bundle.js') {
      res.writeHead(200, { ...headers, 'Content-Type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

/** Loads `bundle` in a fresh Chromium profile at `profile` and waits (at most 120 s) for its report. */
export async function trainInChromium(bundle: string, isolated: boolean, profile: string): Promise<BrowserResult> {
  const server = await serve(bundle, isolated);
  mkdirSync(profile, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM!, headless: true, args: FLAGS, timeout: 60_000,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { timeout: 30_000 });
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = (await page.evaluate('window.__result ?? null')) as BrowserResult | null;
      if (r !== null) return r;
      if (errors.length > 0) throw new Error(`the page failed: ${errors.join('; ')}`);
      if (Date.now() > deadline) throw new Error('the page did not report within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  } finally {
    await context.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(profile, { recursive: true, force: true });
  }
}
