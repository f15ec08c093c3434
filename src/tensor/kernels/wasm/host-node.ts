/**
 * The Node host (also Bun's and Deno's Node compatibility): the helper is a
 * worker_threads Worker evaluating worker.ts's program as CommonJS.
 *
 * The modules come from process.getBuiltinModule (Node >= 20.16), not from
 * an import, so this file is safe to include in a browser bundle: there it
 * reports itself unavailable and resolves nothing.
 *
 * Node lets any thread block in Atomics.wait. The worker is unref'd: it never
 * keeps the process alive, and at exit Node terminates it even while it
 * waits. Its error messages travel on a MessagePort that the main thread
 * reads synchronously (receiveMessageOnPort) when a job reports a failure.
 */
import type { HelperInit, HelperThread, ThreadHost } from './host.js';
import { WORKER_MAIN } from './worker.js';

/** The slice of worker_threads and os used here (typed locally: no `node:` import, even for types). */
interface Port {
  postMessage(v: unknown): void;
  unref(): void;
}
interface NodeWorker {
  once(event: 'message' | 'error' | 'exit', listener: (v: unknown) => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreads {
  Worker: new (source: string, options: object) => NodeWorker;
  MessageChannel: new () => { port1: Port; port2: Port };
  receiveMessageOnPort(port: Port): { message: unknown } | undefined;
}
type GetBuiltin = (id: string) => unknown;
const getBuiltin = (globalThis as { process?: { getBuiltinModule?: GetBuiltin } }).process?.getBuiltinModule;

const PRELUDE = `'use strict';
const { workerData, parentPort } = require('worker_threads');
helperMain(workerData, (kind, v) => (kind === 'ready' ? parentPort : workerData.port).postMessage(v));
`;

function threadsModule(): WorkerThreads {
  return getBuiltin!('worker_threads') as WorkerThreads;
}

/** Helper threads on Node's worker_threads. */
export const nodeThreadHost: ThreadHost = {
  name: 'node',
  available: () => typeof getBuiltin === 'function' && getBuiltin('worker_threads') !== undefined && typeof SharedArrayBuffer === 'function',
  parallelism: () => (getBuiltin!('os') as { availableParallelism(): number }).availableParallelism(),
  canBlock: () => true,
  spawn(init: HelperInit): HelperThread {
    const { Worker, MessageChannel, receiveMessageOnPort } = threadsModule();
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    const worker = new Worker(PRELUDE + WORKER_MAIN, {
      eval: true,
      workerData: { module: init.module, memory: init.memory, control: init.control, port: port2, ...init.constants },
      transferList: [port2],
      // Not the parent's flags: --input-type=module or a loader (--import tsx)
      // would change how the CommonJS source above is read, and cost start-up time.
      execArgv: [],
      // The helper keeps no JavaScript heap to speak of.
      resourceLimits: { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 },
    });
    worker.unref();
    const ready = new Promise<boolean>((resolve) => {
      worker.once('message', (v) => resolve(v === 1));
      worker.once('error', () => resolve(false));
      worker.once('exit', () => resolve(false));
    });
    const helper = {
      worker,
      ready,
      exited: false,
      terminate: () => void worker.terminate(),
      lastError: () => {
        const m = receiveMessageOnPort(port1);
        return m === undefined ? undefined : String(m.message);
      },
    };
    worker.once('exit', () => (helper.exited = true));
    return helper;
  },
  warn(message: string, code: string): void {
    (globalThis as { process?: { emitWarning(m: string, o: { code: string }): void } }).process!.emitWarning(message, { code });
  },
};
