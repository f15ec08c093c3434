/**
 * The browser host: the helper is a Web Worker started from a Blob URL of
 * worker.ts's program (no file to serve next to the bundle), and given the
 * compiled WebAssembly.Module, the shared WebAssembly.Memory and the control
 * block by postMessage. That needs a cross-origin isolated context (the page
 * served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`), where SharedArrayBuffer
 * exists; elsewhere the host is unavailable and the kernels run on one thread.
 * A Content-Security-Policy must allow `worker-src blob:`.
 *
 * A page's main thread may not block in Atomics.wait (it throws there), so
 * canBlock() probes it: on the main thread the runtime's waits become bounded
 * spins and it takes back work the helper has not started (runtime.ts,
 * invariant 5); inside a Web Worker (normgrad itself running off the main
 * thread) it waits exactly as on Node.
 *
 * Browsers report no worker exit; a helper that stops is caught by the
 * runtime's bounded waits. Warnings go to console.warn.
 */
import { atomicsWaitAllowed, type HelperInit, type HelperThread, type ThreadHost } from './host.js';
import { WORKER_MAIN } from './worker.js';

/** The slice of the DOM/worker globals used here (the project compiles without the DOM lib). */
interface WebWorker {
  postMessage(v: unknown): void;
  terminate(): void;
  onmessage: ((e: { data: { kind: string; value: unknown } }) => void) | null;
  onerror: ((e: { message?: string; preventDefault?(): void }) => void) | null;
}
interface WebGlobals {
  Worker?: new (url: string, options?: { name?: string }) => WebWorker;
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL?(blob: object): string; revokeObjectURL(url: string): void };
  crossOriginIsolated?: boolean;
  navigator?: { hardwareConcurrency?: number };
  console: { warn(m: string): void };
}
const web = globalThis as unknown as WebGlobals;

const PRELUDE = `'use strict';
self.onmessage = (e) => {
  self.onmessage = null;
  helperMain(e.data, (kind, value) => self.postMessage({ kind, value }));
};
`;

/** Helper threads as Web Workers, in a cross-origin isolated page or worker. */
export const browserThreadHost: ThreadHost = {
  name: 'browser',
  available: () =>
    typeof web.Worker === 'function' && typeof web.Blob === 'function' && typeof web.URL?.createObjectURL === 'function' &&
    typeof SharedArrayBuffer === 'function' && web.crossOriginIsolated !== false,
  parallelism: () => web.navigator?.hardwareConcurrency ?? 1,
  canBlock: atomicsWaitAllowed,
  spawn(init: HelperInit): HelperThread {
    const url = web.URL!.createObjectURL!(new web.Blob!([PRELUDE + WORKER_MAIN], { type: 'text/javascript' }));
    const worker = new web.Worker!(url, { name: 'normgrad-helper' });
    let error: string | undefined;
    const helper = { worker, ready: Promise.resolve(false), exited: false, terminate: () => worker.terminate(), lastError: () => error };
    helper.ready = new Promise<boolean>((resolve) => {
      worker.onmessage = (e) => {
        if (e.data.kind === 'error') error = String(e.data.value);
        if (e.data.kind !== 'ready') return;
        web.URL!.revokeObjectURL(url);
        resolve(e.data.value === 1);
      };
      worker.onerror = (e) => {
        e.preventDefault?.(); // reported here, not as an uncaught error on the page
        error = e.message ?? 'the helper thread failed to start';
        helper.exited = true;
        resolve(false);
      };
    });
    worker.postMessage({ module: init.module, memory: init.memory, control: init.control, ...init.constants });
    return helper;
  },
  warn(message: string, code: string): void {
    web.console.warn(`${code}: ${message}`);
  },
};
