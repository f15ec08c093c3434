/**
 * The helper thread's program, as a string that `new Worker(WORKER_SOURCE,
 * { eval: true })` runs. Plain CommonJS with no imports of ours, so the same
 * text works from the TypeScript sources (tsx, vitest) and from dist/ with
 * no file to locate next to the compiled code.
 *
 * The thread instantiates the kernels module on the shared memory it is
 * given, reports ready, then loops: wait until the job counter moves, run the
 * export named by the job (one of JOB_FUNCTIONS) with the arguments in the
 * control block, publish the counter as done and wake the main thread.
 *
 * Waiting is polling first, then Atomics.wait. A thread that sleeps in
 * Atomics.wait for more than a moment costs 100-300 us to wake on a virtual
 * machine (the idle vCPU is halted), more than many GEMMs take. So:
 *   - after a job the helper polls for POLL_AFTER_JOB_MS before sleeping
 *     (a convolution's GEMM calls come in quick succession);
 *   - the main thread wakes it early (Atomics.notify with no new job) when it
 *     starts a call, before copying the operands in, and the woken helper
 *     polls for up to POLL_EXPECTING_MS for the job: the wake-up overlaps
 *     the copies;
 *   - the main thread polls for up to POLL_MAIN_MS for the helper to finish.
 * pool.ts owns the protocol; the constants are passed in so they are written
 * down once.
 */

/** Control block slots (Int32Array over a SharedArrayBuffer). */
export const SLOT = {
  /** Job counter: the main thread stores n to post job n. */
  seq: 0,
  /** The last job the worker finished. */
  done: 1,
  /** 1 once the worker's instance is ready, -1 if it failed to start. */
  ready: 2,
  /** 0 if the last job ran, 1 if it threw (the message is on the port). */
  status: 3,
  /** Jobs the worker has run, for tests and stats. */
  jobs: 4,
  /** Which export the job runs: an index into JOB_FUNCTIONS. */
  fn: 5,
  /** The job's arguments (up to ARG_COUNT; unused ones are ignored). */
  args: 8,
} as const;

/** The module exports a job can run on the helper (wasm/gemm.ts, wasm/conv.ts). */
export const JOB_FUNCTIONS = ['gemmRows', 'convForwardRows', 'convInputGradRows', 'convKernelGradRows'] as const;

/** The most arguments a job function takes (gemmRows' 13). */
export const ARG_COUNT = 13;
export const CONTROL_INTS = SLOT.args + ARG_COUNT;

export const POLL_AFTER_JOB_MS = 0.1;
export const POLL_EXPECTING_MS = 3;
export const POLL_MAIN_MS = 2;

export const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const { module, memory, control, port, slot, functions, argCount, pollAfterJobMs, pollExpectingMs } = workerData;
const ctl = new Int32Array(control);
let fns = null;
try {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = functions.map((name) => exports[name]);
  Atomics.store(ctl, slot.ready, 1);
} catch (e) {
  port.postMessage(String(e && e.stack || e));
  Atomics.store(ctl, slot.ready, -1);
}
Atomics.notify(ctl, slot.ready);
parentPort.postMessage(Atomics.load(ctl, slot.ready));

// True once the job counter differs from seen; false after ms of polling.
function poll(seen, ms) {
  const end = performance.now() + ms;
  for (let i = 1; ; i++) {
    if (Atomics.load(ctl, slot.seq) !== seen) return true;
    if ((i & 255) === 0 && performance.now() > end) return false;
  }
}

const args = new Array(argCount);
let seen = 0;
while (fns !== null) {
  if (!poll(seen, pollAfterJobMs)) {
    Atomics.wait(ctl, slot.seq, seen);
    // Woken without a job: the main thread is preparing one.
    if (Atomics.load(ctl, slot.seq) === seen && !poll(seen, pollExpectingMs)) continue;
  }
  const job = Atomics.load(ctl, slot.seq);
  seen = job;
  for (let i = 0; i < argCount; i++) args[i] = ctl[slot.args + i];
  let status = 0;
  try {
    fns[ctl[slot.fn]](...args);
  } catch (e) {
    status = 1;
    port.postMessage(String(e && e.stack || e));
  }
  Atomics.store(ctl, slot.status, status);
  Atomics.add(ctl, slot.jobs, 1);
  Atomics.store(ctl, slot.done, job);
  Atomics.notify(ctl, slot.done);
}
`;
