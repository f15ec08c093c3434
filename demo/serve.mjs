/**
 * `npm run demo [-- --port N]`: builds the demo and serves dist-demo/ on
 * http://127.0.0.1:N/ (default 8080; 0 picks a free port). Every response
 * carries COOP same-origin and COEP require-corp, so the page is
 * cross-origin isolated (SharedArrayBuffer, WebAssembly threads).
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildDemo, OUT_DIR } from './build.mjs';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.bin': 'application/octet-stream', '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Serves `root` on 127.0.0.1:port; resolves to { url, close() }. */
export function serveDemo({ port = 8080, root = OUT_DIR } = {}) {
  const server = createServer((req, res) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    };
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let size = -1;
    try {
      if (file.startsWith(root + sep)) size = statSync(file).isFile() ? statSync(file).size : -1;
    } catch { /* missing: 404 below */ }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end();
    } else if (size < 0) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end(`not found: ${path}`);
    } else {
      res.writeHead(200, { ...headers, 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': size });
      if (req.method === 'HEAD') res.end();
      else createReadStream(file).pipe(res);
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: actual } = server.address();
      resolve({ url: `http://127.0.0.1:${actual}/`, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  let port;
  try {
    const { values } = parseArgs({ options: { port: { type: 'string' } } });
    port = values.port === undefined ? 8080 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port needs an integer 0-65535, got '${values.port}'`);
  } catch (e) {
    console.error(`demo: ${e.message}\nusage: npm run demo [-- --port N]`);
    process.exit(2);
  }
  await buildDemo();
  try {
    const { url } = await serveDemo({ port });
    console.log(`batch-norm demo: ${url}  (Ctrl-C to stop)`);
  } catch (e) {
    console.error(`demo: cannot listen on 127.0.0.1:${port}: ${e.message}`);
    process.exit(1);
  }
}
