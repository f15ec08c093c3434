/**
 * The WebAssembly kernels' runtime: one compiled module, one shared memory, an
 * instance on the main thread and (optionally) one helper thread running
 * the same module on the same memory.
 *
 *   main thread                         helper thread (worker.ts)
 *   copy A, B (and C) into memory       Atomics.wait(seq)
 *   write job args, seq += 1, notify -> wakes, gemmRows(its share)
 *   gemmRows(own share)                 done = seq, notify
 *   Atomics.wait(done) until done = seq <-
 *   copy C out
 *
 * That is split(), used by gemmWasm. runPieces() (the convolutions) instead
 * cuts the work into pieces that both threads claim from a shared counter:
 * the main thread never waits for a helper that is slow to wake (or has no
 * core to run on), only for pieces the helper is in the middle of.
 *
 * The protocol's invariants (worker.ts is the other side):
 *   1. A helper runs a piece only after a successful compareExchange of the
 *      claim word from (id << 16 | i) to i + 1, with i < pieces, where id and
 *      pieces come from what it read of the job. This thread stores a closed
 *      claim word (0xffff: no piece under any id) BEFORE it writes the next
 *      job's description, and publishes the new claim word and then seq only
 *      after it. Every control slot is written and read with Atomics (one
 *      sequentially consistent order), so a helper that read any value of
 *      job N+1 while it holds N's id finds the claim closed or carrying
 *      N+1's id, and claims nothing: a claimed piece was read whole from its
 *      own job. (Without the close, a helper that missed job N read N+1's
 *      arguments under N's id and took the pieces N had fewer of: issue 14.)
 *   2. This thread returns from a job only when every piece is claimed and
 *      no helper is inside one (active = 0, raised before the helper reads
 *      the job), so no piece of job N writes after the caller copies out.
 *      A helper late by more than one job fails its seq check; the 15-bit
 *      id therefore only has to tell N from N+1 and never wraps in use.
 *   3. Pieces are cut from the shape alone; whoever runs a piece writes the
 *      same floats, so which thread runs it changes no bit.
 *   4. No wait is unbounded. When the helper finishes no piece or share for
 *      stallMs + 10x what one took here (or its worker has exited), this
 *      thread closes the claims, terminates the worker, runs again every
 *      piece (or the share) it did not run itself, after resetPiece / reset
 *      undo what the helper may have added, warns once and goes on with one
 *      thread. Same bits by 3.
 *      (A helper that was only starved, not dead, is terminated: V8 stops
 *      it at its next loop check, and this thread sleeps WAIT_SLICE_MS
 *      before it redoes anything; a helper still descheduled after that
 *      could land one stale store. The patience above keeps this path for
 *      dead helpers.)
 *
 * Everything is synchronous for the caller. Node lets the main thread block
 * in Atomics.wait, and the helper never touches JavaScript memory, only the
 * shared WebAssembly.Memory. The worker is unref'd: it never keeps the
 * process alive, and at exit Node terminates it even while it waits.
 * Until the helper has started (it boots asynchronously, tens of
 * milliseconds) and whenever threads are set to 1, the main thread runs both
 * shares itself; the result is the same, bit for bit.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { KERNELS_WASM_BASE64 } from './kernels-wasm-bytes.js';
import { claimPiece, closeClaims, pollFor, pollWhileActive, sleep } from './claims.js';
import { WasmInstance, wasmApi, type Job, type PieceJob, type WasmApi, type WasmMemory, type WasmModule } from './instance.js';
import {
  ARG_COUNT, CONTROL_INTS, DELAY_POINTS, JOB_FUNCTIONS, MAX_OVERRIDES, POLL_AFTER_JOB_MS, POLL_EXPECTING_MS, POLL_MAIN_MS, SLOT, WORKER_SOURCE,
} from './worker.js';

export { MAX_PAGES, type GemmRowsArgs, type Job, type PieceJob, type WasmExports } from './instance.js';

/**
 * Test hook: milliseconds to sleep at each step of the protocol, on the
 * helper (DELAY_POINTS) or on this thread after it wrote a job and before it
 * publishes it (beforePublish). For tests only; 0 or absent means no sleep.
 */
export type TestDelays = Partial<Record<(typeof DELAY_POINTS)[number] | 'beforePublish', number>>;

interface Helper {
  worker: Worker;
  ctl: Int32Array;
  port: MessagePort;
  seq: number;
  ready: Promise<boolean>;
  /** Set when the worker has exited (crashed or terminated). */
  exited: boolean;
}

/** How long this thread waits in one Atomics.wait before it checks the helper's progress. */
const WAIT_SLICE_MS = 20;
/** The default of WasmRuntime.stallMs. */
export const HELPER_STALL_MS = 3000;

/** The kernels' instance plus the helper thread, and the protocol that shares work with it. */
export class WasmRuntime extends WasmInstance {
  private helper: Helper | null = null;
  threads: 1 | 2;
  /** Tests set this false to leave every piece of a runPieces job to the helper. */
  mainTakesPieces = true;
  /** Test hook (setTestDelays): the helper's delays, and this thread's before publishing a job. */
  private readonly delays = new Int32Array(DELAY_POINTS.length);
  private beforePublishMs = 0;
  /**
   * Milliseconds without progress from the helper (no piece or share
   * finished), on top of 10 times what a piece or share took here, after
   * which this thread stops waiting for it, finishes the call itself and
   * goes on with one thread (tests lower it).
   */
  stallMs = HELPER_STALL_MS;

  constructor(api: WasmApi, module: WasmModule) {
    super(api, module);
    this.threads = availableParallelism() >= 2 ? 2 : 1;
  }

  /** True when the helper thread is running and has its instance. */
  helperReady(): boolean {
    return this.helper !== null && Atomics.load(this.helper.ctl, SLOT.ready) === 1;
  }

  /** Jobs the helper thread has completed. */
  helperJobs(): number {
    return this.helper === null ? 0 : Atomics.load(this.helper.ctl, SLOT.jobs);
  }

  /** Test hook: sets the protocol delays (see TestDelays); {} turns them all off. */
  setTestDelays(d: TestDelays): void {
    DELAY_POINTS.forEach((p, i) => (this.delays[i] = d[p] ?? 0));
    this.beforePublishMs = d.beforePublish ?? 0;
    if (this.helper !== null) this.helper.ctl.set(this.delays, SLOT.delays);
  }

  /** Test hook: the helper's Worker (to terminate it), or null when none is running. */
  helperWorker(): Worker | null {
    return this.helper?.worker ?? null;
  }

  /** Starts the helper (if threads = 2 and it is not running); resolves to whether it is ready. */
  startHelper(): Promise<boolean> {
    if (this.threads < 2) return Promise.resolve(false);
    if (this.helper === null) {
      this.helper = spawn(this.module, this.memory);
      this.helper.ctl.set(this.delays, SLOT.delays);
    }
    return this.helper.ready;
  }

  /**
   * Tells a sleeping helper that a job is coming: it wakes (which takes
   * 100-300 us on a VM) while this thread copies the operands in.
   */
  wake(): void {
    if (this.threads === 2 && this.helper !== null) Atomics.notify(this.helper.ctl, SLOT.seq, 1);
  }
  /**
   * Runs every piece of `job`: on this thread and, when `parallel` and the
   * helper is ready, on the helper too, each piece claimed by whichever
   * thread gets to it first. Returns once all pieces are done. Which thread
   * runs a piece never changes its result, so the caller decides the pieces
   * (and how their results combine) from the shape alone.
   */
  runPieces(job: PieceJob, parallel: boolean): void {
    const pieces = Math.ceil(job.total / job.size);
    if (pieces > 0xfff0) throw new Error(`runPieces: ${pieces} pieces, at most ${0xfff0}`);
    if (parallel && this.threads === 2 && this.helper === null) void this.startHelper();
    if (this.helper?.exited) this.abandonHelper(job.fn);
    const h = this.helper;
    if (!parallel || pieces < 2 || this.threads < 2 || h === null || Atomics.load(h.ctl, SLOT.ready) !== 1) {
      for (let i = 0; i < pieces; i++) this.runPiece(job, i);
      return;
    }
    const ctl = h.ctl;
    const overrides = job.helperArgs ?? [];
    if (overrides.length > MAX_OVERRIDES) throw new Error(`runPieces: at most ${MAX_OVERRIDES} helper arguments, got ${overrides.length}`);
    closeClaims(h); // invariant 1: no write below can reach a helper's piece
    const put = (slot: number, v: number): void => void Atomics.store(ctl, slot, v);
    put(SLOT.mode, 1);
    put(SLOT.fn, JOB_FUNCTIONS.indexOf(job.fn));
    for (let i = 0; i < ARG_COUNT; i++) put(SLOT.args + i, job.args[i] ?? 0);
    put(SLOT.range, job.range);
    put(SLOT.total, job.total);
    put(SLOT.size, job.size);
    put(SLOT.out, job.out ?? -1);
    put(SLOT.outStride, job.outStride ?? 0);
    put(SLOT.overrideCount, overrides.length);
    overrides.forEach(([index, value], j) => {
      put(SLOT.overrides + 2 * j, index);
      put(SLOT.overrides + 2 * j + 1, value);
    });
    if (this.beforePublishMs > 0) sleep(this.beforePublishMs);
    const seq = (h.seq = (h.seq + 1) | 0);
    const id = seq & 0x7fff;
    Atomics.store(ctl, SLOT.claim, id << 16);
    Atomics.store(ctl, SLOT.seq, seq);
    Atomics.notify(ctl, SLOT.seq);
    let failure: unknown = null;
    let stalled = false;
    const ran = new Uint8Array(pieces); // the pieces this thread ran
    let longest = 0; // ms, this thread's slowest piece
    try {
      if (this.mainTakesPieces) {
        for (let i; (i = claimPiece(ctl, id, pieces)) >= 0; ran[i] = 1) {
          const t = performance.now();
          this.runPiece(job, i);
          longest = Math.max(longest, performance.now() - t);
        }
      } else {
        stalled = !this.awaitHelper(ctl, SLOT.claim, (c) => (c & 0xffff) >= pieces, 1, 0);
      }
    } catch (e) {
      failure = e;
      Atomics.store(ctl, SLOT.claim, (id << 16) | 0xffff); // no more pieces for the helper either
    }
    // Wait only for pieces the helper is running now, and not forever.
    pollWhileActive(ctl, POLL_MAIN_MS);
    stalled ||= !this.awaitHelper(ctl, SLOT.active, (a) => a === 0, WAIT_SLICE_MS, longest);
    if (stalled) {
      // Every piece this thread did not run, run again here: a piece
      // overwrites its output or is reset first, so the bits are the same.
      this.abandonHelper(job.fn);
      if (failure === null) {
        for (let i = 0; i < pieces; i++) {
          if (ran[i] === 1) continue;
          job.resetPiece?.(i);
          this.runPiece(job, i);
        }
      }
    }
    if (failure !== null) throw failure;
    if (!stalled && Atomics.load(ctl, SLOT.status) !== 0) {
      Atomics.store(ctl, SLOT.status, 0);
      const msg = receiveMessageOnPort(h.port)?.message;
      throw new Error(`${job.fn}: the helper thread failed: ${String(msg)}`);
    }
  }

  /**
   * Runs the job `theirs` on the helper thread while `mine()` runs here, and
   * returns when both are done. Without a ready helper (threads = 1, still
   * starting, or failed) both run here, `mine` first. Returns the number of
   * threads that took part. `reset` restores what `theirs` may have partly
   * written (nothing to do when it overwrites its output; null when it
   * cannot be restored), for when the helper stops in the middle of it.
   */
  split(theirs: Job, mine: () => void, reset: (() => void) | null = () => {}): 1 | 2 {
    if (this.threads === 2 && this.helper === null) void this.startHelper();
    if (this.helper?.exited) this.abandonHelper(theirs.fn);
    const h = this.helper;
    if (this.threads < 2 || h === null || Atomics.load(h.ctl, SLOT.ready) !== 1) {
      mine();
      this.run(theirs);
      return 1;
    }
    closeClaims(h); // invariant 1
    Atomics.store(h.ctl, SLOT.mode, 0);
    Atomics.store(h.ctl, SLOT.fn, JOB_FUNCTIONS.indexOf(theirs.fn));
    for (let i = 0; i < ARG_COUNT; i++) Atomics.store(h.ctl, SLOT.args + i, theirs.args[i] ?? 0);
    if (this.beforePublishMs > 0) sleep(this.beforePublishMs);
    const job = (h.seq = (h.seq + 1) | 0);
    Atomics.store(h.ctl, SLOT.claim, (job & 0x7fff) << 16); // the helper claims its share as piece 0
    Atomics.store(h.ctl, SLOT.seq, job);
    Atomics.notify(h.ctl, SLOT.seq);
    let failure: unknown = null;
    const t = performance.now();
    try {
      mine();
    } catch (e) {
      failure = e;
    }
    const took = performance.now() - t; // the helper's share is about as long
    pollFor(h.ctl, job, POLL_MAIN_MS);
    if (!this.awaitHelper(h.ctl, SLOT.done, (d) => d === job, WAIT_SLICE_MS, took)) {
      // Take the share back. Unclaimed, nothing of it was written; claimed,
      // the helper may have written part of it.
      const untouched = Atomics.compareExchange(h.ctl, SLOT.claim, (job & 0x7fff) << 16, ((job & 0x7fff) << 16) | 0xffff) === (job & 0x7fff) << 16;
      this.abandonHelper(theirs.fn);
      if (failure !== null) throw failure;
      if (!untouched) {
        if (reset === null) throw new Error(`${theirs.fn}: the helper thread stopped inside its share of a product that accumulates into the workspace; the result is lost`);
        reset();
      }
      this.run(theirs);
      return 1;
    }
    if (failure !== null) throw failure;
    if (Atomics.load(h.ctl, SLOT.status) !== 0) {
      const msg = receiveMessageOnPort(h.port)?.message;
      throw new Error(`gemmWasm: the helper thread failed: ${String(msg)}`);
    }
    return 2;
  }

  /**
   * Waits until ok(ctl[slot]), in Atomics.wait slices of `slice` ms; true
   * then, false once the helper has finished no piece or share for stallMs
   * plus 10 times `work` (what one piece or share took on this thread): it
   * died, or has had no core to run on for that long.
   */
  private awaitHelper(ctl: Int32Array, slot: number, ok: (v: number) => boolean, slice: number, work: number): boolean {
    const patience = this.stallMs + 10 * work;
    let progress = Atomics.load(ctl, SLOT.jobs);
    let since = performance.now();
    for (;;) {
      const v = Atomics.load(ctl, slot);
      if (ok(v)) return true;
      Atomics.wait(ctl, slot, v, Math.min(slice, this.stallMs));
      const p = Atomics.load(ctl, SLOT.jobs);
      const now = performance.now();
      if (p !== progress) [progress, since] = [p, now];
      else if (now - since >= patience) return ok(Atomics.load(ctl, slot));
    }
  }

  /**
   * Gives up on the helper: closes its claims, terminates it and goes on
   * with one thread (setGemmThreads(2) starts a new helper), warning once.
   */
  private abandonHelper(op: string): void {
    const h = this.helper!;
    closeClaims(h);
    void h.worker.terminate();
    sleep(WAIT_SLICE_MS); // a running helper stops at its next loop check, well within this
    this.helper = null;
    this.threads = 1;
    process.emitWarning(
      `${op}: the helper thread ${h.exited ? 'has exited' : `made no progress for ${this.stallMs} ms`}; ` +
        'this thread finished the call and normgrad goes on with one thread (same results, slower)',
      { code: 'NORMGRAD_HELPER_STOPPED' },
    );
  }
}

function spawn(module: WasmModule, memory: WasmMemory): Helper {
  const control = new SharedArrayBuffer(CONTROL_INTS * 4);
  const { port1, port2 } = new MessageChannel();
  port1.unref();
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      module, memory, control, port: port2, slot: SLOT, functions: JOB_FUNCTIONS, argCount: ARG_COUNT,
      pollAfterJobMs: POLL_AFTER_JOB_MS, pollExpectingMs: POLL_EXPECTING_MS,
    },
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
  const helper: Helper = { worker, ctl: new Int32Array(control), port: port1, seq: 0, ready, exited: false };
  worker.once('exit', () => (helper.exited = true));
  return helper;
}

let runtime: WasmRuntime | null | undefined;

/** The runtime, created on first use; null where WebAssembly SIMD or shared memory is missing. */
export function wasmRuntime(): WasmRuntime | null {
  if (runtime === undefined) runtime = create();
  return runtime;
}

function create(): WasmRuntime | null {
  try {
    if (wasmApi === undefined || typeof SharedArrayBuffer !== 'function') return null;
    const bytes = Buffer.from(KERNELS_WASM_BASE64, 'base64');
    // Validating the module itself checks exactly the features it uses:
    // SIMD128 (v128 loads, f32x4 arithmetic) and an imported shared memory.
    if (!wasmApi.validate(bytes)) return null;
    return new WasmRuntime(wasmApi, new wasmApi.Module(bytes));
  } catch {
    return null;
  }
}

