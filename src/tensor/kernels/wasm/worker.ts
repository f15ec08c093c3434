/**
 * The helper thread's program, as the text of one plain function,
 * `helperMain(data, post)`, with no imports of ours: each host (host-node.ts,
 * host-browser.ts) prepends the lines that receive `data` (the module, the
 * shared memory, the control block and the constants below) and deliver
 * `post('ready' | 'error', value)`, and starts the text as a worker. The same
 * text so works from the sources, from dist/ and from a browser bundle.
 *
 * The thread instantiates the kernels module on the shared memory it is
 * given, reports ready, then loops: wait until the job counter moves, run the
 * export named by the job (one of JOB_FUNCTIONS) with the arguments in the
 * control block, publish the counter as done and wake the main thread.
 * A job is one 'split' share (gemmWasm) or 'pieces' that both threads claim
 * from a counter tagged with the job id (the convolutions), so a helper that
 * wakes late claims nothing. Waits poll first, then sleep in Atomics.wait.
 * runtime.ts owns the protocol (the constants are passed in, written down
 * once); why the waits poll and how the two modes claim work:
 * docs/speed.md, "The helper's waits and the two job modes".
 */

/** Control block slots (Int32Array over a SharedArrayBuffer). */
export const SLOT = {
  /** Job counter: the main thread stores n to post job n. */
  seq: 0,
  /** The last job the worker finished. */
  done: 1,
  /** 1 once the worker's instance is ready, -1 if it failed to start. */
  ready: 2,
  /** 0 if the last job ran, 1 if it threw (its message was posted as 'error'). */
  status: 3,
  /** Jobs the worker has run, for tests and stats. */
  jobs: 4,
  /** Which export the job runs: an index into JOB_FUNCTIONS. */
  fn: 5,
  /** 0: split mode, 1: pieces mode. */
  mode: 6,
  /** Pieces mode: the claim counter (job id << 16 | next piece). */
  claim: 7,
  /** Pieces mode: helpers running a piece of the current job. */
  active: 8,
  /** Pieces mode: args[range], args[range + 1] get each piece's [start, end). */
  range: 9,
  /** Pieces mode: the range [0, total) is cut into pieces of `size`. */
  total: 10,
  size: 11,
  /** Pieces mode: if out >= 0, piece i gets args[out] + i * outStride. */
  out: 12,
  outStride: 13,
  /** Pieces mode: how many (index, value) pairs follow at `overrides`. */
  overrideCount: 14,
  /** Pieces mode: args the helper replaces with its own (its scratch buffers), as index, value pairs. */
  overrides: 16,
  /** The job's arguments (up to ARG_COUNT; unused ones are ignored). */
  args: 24,
  /** Test hook: milliseconds the helper sleeps at each DELAY_POINTS step (0: off). */
  delays: 40,
} as const;

/**
 * Test hook: where the helper can be made to sleep, to widen the windows of
 * the protocol deterministically (WasmRuntime.setTestDelays). All 0 by
 * default; off, each point costs one load and a compare.
 */
export const DELAY_POINTS = ['afterJobId', 'afterArgs', 'afterClaim', 'beforeDone'] as const;

/** The most (index, value) pairs a pieces job may override on the helper. */
export const MAX_OVERRIDES = 4;

/** The module exports a job can run on the helper (wasm/gemm.ts, wasm/conv.ts). */
export const JOB_FUNCTIONS = ['gemmRows', 'convForwardRows', 'convInputGradRows', 'convKernelGradRows'] as const;

/** The most arguments a job function takes (gemmRows' 13). */
export const ARG_COUNT = 13;
export const CONTROL_INTS = SLOT.delays + DELAY_POINTS.length;

export const POLL_AFTER_JOB_MS = 0.1;
export const POLL_EXPECTING_MS = 3;
export const POLL_MAIN_MS = 2;

/** What the hosts pass to helperMain next to the module, memory and control block. */
export const WORKER_CONSTANTS = {
  slot: SLOT, functions: JOB_FUNCTIONS, argCount: ARG_COUNT, pollAfterJobMs: POLL_AFTER_JOB_MS, pollExpectingMs: POLL_EXPECTING_MS,
};

/** The helper's program: `function helperMain(data, post)`; it returns only if the module failed to instantiate. */
export const WORKER_MAIN = `
function helperMain(data, post) {
'use strict';
const { module, memory, control, slot, functions, argCount, pollAfterJobMs, pollExpectingMs } = data;
const ctl = new Int32Array(control);
const nap = new Int32Array(new SharedArrayBuffer(4));
// Test hook: sleeps ctl[delays + point] ms (DELAY_POINTS), if set.
function pause(point) {
  const ms = ctl[slot.delays + point];
  if (ms > 0) Atomics.wait(nap, 0, 0, ms);
}
let fns = null;
try {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports;
  fns = functions.map((name) => exports[name]);
  Atomics.store(ctl, slot.ready, 1);
} catch (e) {
  post('error', String(e && e.stack || e));
  Atomics.store(ctl, slot.ready, -1);
}
Atomics.notify(ctl, slot.ready);
post('ready', Atomics.load(ctl, slot.ready));

// True once the job counter differs from seen; false after ms of polling.
function poll(seen, ms) {
  const end = performance.now() + ms;
  for (let i = 1; ; i++) {
    if (Atomics.load(ctl, slot.seq) !== seen) return true;
    if ((i & 255) === 0 && performance.now() > end) return false;
  }
}

// The next unclaimed piece of job id, or -1 when there is none (or another job is posted).
function claim(id, pieces) {
  for (;;) {
    const c = Atomics.load(ctl, slot.claim);
    const i = c & 0xffff;
    if ((c >>> 16) !== id || i >= pieces) return -1;
    if (Atomics.compareExchange(ctl, slot.claim, c, c + 1) === c) return i;
  }
}

// Claims and runs pieces of job id until none is left. Runs with active
// raised (the main thread waits for it to drop before it posts another job),
// after the job counter was checked to still be this job.
function runPieces(id) {
  const fn = fns[Atomics.load(ctl, slot.fn)];
  const range = Atomics.load(ctl, slot.range), total = Atomics.load(ctl, slot.total), size = Atomics.load(ctl, slot.size);
  const out = Atomics.load(ctl, slot.out), outStride = Atomics.load(ctl, slot.outStride), outBase = out >= 0 ? args[out] : 0;
  for (let j = 0; j < Atomics.load(ctl, slot.overrideCount); j++) args[Atomics.load(ctl, slot.overrides + 2 * j)] = Atomics.load(ctl, slot.overrides + 2 * j + 1);
  try {
    for (let i; (i = claim(id, Math.ceil(total / size))) >= 0;) {
      args[range] = i * size;
      args[range + 1] = Math.min(total, (i + 1) * size);
      if (out >= 0) args[out] = outBase + i * outStride;
      pause(2);
      fn(...args);
      pause(3);
      Atomics.add(ctl, slot.jobs, 1);
    }
  } catch (e) {
    post('error', String(e && e.stack || e));
    Atomics.store(ctl, slot.status, 1);
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
  pause(0);
  if (Atomics.load(ctl, slot.mode) === 1) {
    // Raise active first (the main thread then waits for us before it
    // returns), then read the job. The main thread may have finished this job
    // without us and be writing the next one: the claim word, closed before
    // that write (runtime.ts, invariant 1), then refuses every piece.
    Atomics.add(ctl, slot.active, 1);
    for (let i = 0; i < argCount; i++) args[i] = Atomics.load(ctl, slot.args + i);
    pause(1);
    if (Atomics.load(ctl, slot.seq) === job) runPieces(job & 0x7fff);
    Atomics.sub(ctl, slot.active, 1);
    Atomics.notify(ctl, slot.active);
    continue;
  }
  for (let i = 0; i < argCount; i++) args[i] = Atomics.load(ctl, slot.args + i);
  pause(1);
  // A split share is piece 0 of a one-piece job: a stale read (the main
  // thread already posting a newer job) fails to claim it.
  if (claim(job & 0x7fff, 1) < 0) continue;
  pause(2);
  let status = 0;
  try {
    fns[Atomics.load(ctl, slot.fn)](...args);
  } catch (e) {
    status = 1;
    post('error', String(e && e.stack || e));
  }
  pause(3);
  Atomics.store(ctl, slot.status, status);
  Atomics.add(ctl, slot.jobs, 1);
  Atomics.store(ctl, slot.done, job);
  Atomics.notify(ctl, slot.done);
}
}
`;
