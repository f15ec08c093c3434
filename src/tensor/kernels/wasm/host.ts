/**
 * What the thread runtime needs from the platform it runs on, and the one
 * place that picks it. A host starts a helper thread running worker.ts's
 * program on the kernels module and the shared memory, reports how many
 * cores there are, whether this thread may block in Atomics.wait, and where
 * a warning goes. Everything else (the memory, the protocol, the fallback)
 * is the same code on every host.
 *
 *   host-node.ts     Node (and Bun, Deno): worker_threads, reached through
 *                    process.getBuiltinModule, so no file here imports a
 *                    `node:` module and a browser bundle resolves nothing
 *   host-browser.ts  a page or a Web Worker that is cross-origin isolated
 *                    (COOP/COEP: SharedArrayBuffer exists): a Web Worker
 *                    started from a Blob URL of the same program
 *   neither          no helper: WebAssembly on one thread (a page that is
 *                    not isolated), or the TypeScript kernels when there is
 *                    no WebAssembly at all (backend.ts)
 *
 * The choice is made once, on first use, by feature detection (Node first);
 * setThreadHost overrides it before the runtime starts.
 */
import { browserThreadHost } from './host-browser.js';
import { nodeThreadHost } from './host-node.js';
import type { WasmMemory, WasmModule } from './instance.js';

/** What a helper thread is given: the module, the memory, the control block and the protocol's constants. */
export interface HelperInit {
  module: WasmModule;
  memory: WasmMemory;
  control: SharedArrayBuffer;
  /** worker.ts's constants (slots, functions, poll times), passed to its program as they are. */
  constants: object;
}

/** A running helper thread, as the runtime sees it. */
export interface HelperThread {
  /** Resolves to true once the helper has instantiated the module, false if it failed or exited. */
  readonly ready: Promise<boolean>;
  /** True once the host knows the helper has exited (crashed or was terminated). */
  readonly exited: boolean;
  /** Stops the helper (it stops at its next loop check). */
  terminate(): void;
  /** The helper's last error message, if one has arrived. */
  lastError(): string | undefined;
  /** The host's own worker object (tests terminate it to kill the helper). */
  readonly worker: unknown;
}

/** A platform's way to run a helper thread. */
export interface ThreadHost {
  readonly name: 'node' | 'browser';
  /** True when this host can start a helper here. */
  available(): boolean;
  /** Logical cores (how many threads can run at once). */
  parallelism(): number;
  /** Whether this thread may block in Atomics.wait (a browser's main thread may not). */
  canBlock(): boolean;
  spawn(init: HelperInit): HelperThread;
  /** Tells the user, once per event, that the runtime fell back to one thread. */
  warn(message: string, code: string): void;
}

let chosen: ThreadHost | null | undefined;

/** The host the runtime uses: the one set with setThreadHost, else the first available of Node, browser; null for none. */
export function threadHost(): ThreadHost | null {
  chosen ??= [nodeThreadHost, browserThreadHost].find((h) => h.available()) ?? null;
  return chosen;
}

/** Overrides the detected host (null: no helper thread). Takes effect for a runtime created afterwards. */
export function setThreadHost(host: ThreadHost | null): void {
  chosen = host;
}

/** True when this thread may block in Atomics.wait: it throws a TypeError on a browser's main thread. */
export function atomicsWaitAllowed(): boolean {
  try {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
