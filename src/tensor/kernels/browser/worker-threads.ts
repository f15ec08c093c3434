/**
 * The browser's stand-in for `node:worker_threads`, swapped in by the
 * package.json `browser` field (bundlers read it; Node never loads this file).
 *
 * With os.ts reporting one core, wasm/runtime.ts never starts its helper
 * thread in a browser; if asked to (setThreads(2), ready()), the Worker here
 * refuses with a clear error instead of a bundler's missing-module failure.
 */
const NO_THREADS = 'normgrad: WebAssembly helper threads are not available in browsers yet; kernels run on the calling thread';

/** Node's Worker: not available here. */
export class Worker {
  constructor() {
    throw new Error(NO_THREADS);
  }
}

/** Node's MessageChannel: not available here. */
export class MessageChannel {
  constructor() {
    throw new Error(NO_THREADS);
  }
}

/** Node's port type, as far as the runtime names it. */
export type MessagePort = object;

/** Node's receiveMessageOnPort: there is never a message (no helper thread ever started). */
export function receiveMessageOnPort(): undefined {
  return undefined;
}
