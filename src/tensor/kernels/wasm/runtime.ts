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
 *   5. Where this thread may not block in Atomics.wait (a browser's main
 *      thread; host.ts tells), every wait above is a bounded spin on
 *      Atomics.load instead, and split() takes back a share the helper has
 *      not claimed by the time its own is done (closing the claim word, so
 *      the helper cannot claim it any more) and runs it here: it never spins
 *      while a helper wakes. Same bits by 3.
 *
 * Everything is synchronous for the caller. The helper never touches
 * JavaScript memory, only the shared WebAssembly.Memory. Until the helper
 * has started (it boots asynchronously, tens of milliseconds) and whenever
 * threads are set to 1, the main thread runs both shares itself; the result
 * is the same, bit for bit. helper.ts starts and stops the helper on the host.
 */
import { claimPiece, closeClaims, pollFor, pollWhileActive, waitWhile } from './claims.js';
import { HelperThreads, WAIT_SLICE_MS } from './helper.js';
import type { Job, PieceJob } from './instance.js';
import { compileKernels } from './load.js';
import { ARG_COUNT, JOB_FUNCTIONS, MAX_OVERRIDES, POLL_MAIN_MS, SLOT } from './worker.js';

export { MAX_PAGES, type GemmRowsArgs, type Job, type PieceJob, type WasmExports } from './instance.js';
export { HELPER_STALL_MS, type TestDelays } from './helper.js';

/** The kernels' instance, its helper thread, and the protocol that shares work between them. */
export class WasmRuntime extends HelperThreads {
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
    if (this.helper?.thread.exited) this.abandonHelper(job.fn);
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
    if (this.beforePublishMs > 0) this.sleep(this.beforePublishMs);
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
      throw new Error(`${job.fn}: the helper thread failed: ${String(h.thread.lastError())}`);
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
    if (this.helper?.thread.exited) this.abandonHelper(theirs.fn);
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
    if (this.beforePublishMs > 0) this.sleep(this.beforePublishMs);
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
    const open = (job & 0x7fff) << 16;
    if (!this.canBlock && Atomics.compareExchange(h.ctl, SLOT.claim, open, open | 0xffff) === open) {
      // Invariant 5: the helper has not started its share; run it here.
      if (failure !== null) throw failure;
      this.run(theirs);
      return 1;
    }
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
      throw new Error(`gemmWasm: the helper thread failed: ${String(h.thread.lastError())}`);
    }
    return 2;
  }

  /**
   * Waits until ok(ctl[slot]), in Atomics.wait slices of `slice` ms (spins
   * where this thread may not block: invariant 5); true
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
      waitWhile(ctl, slot, v, Math.min(slice, this.stallMs), this.canBlock);
      const p = Atomics.load(ctl, SLOT.jobs);
      const now = performance.now();
      if (p !== progress) [progress, since] = [p, now];
      else if (now - since >= patience) return ok(Atomics.load(ctl, slot));
    }
  }
}

let runtime: WasmRuntime | null | undefined;

/** The runtime, created on first use; null where WebAssembly SIMD or shared memory is missing. */
export function wasmRuntime(): WasmRuntime | null {
  if (runtime === undefined) runtime = create();
  return runtime;
}

function create(): WasmRuntime | null {
  try {
    const kernels = compileKernels();
    return kernels === null ? null : new WasmRuntime(kernels.api, kernels.module);
  } catch {
    return null;
  }
}
