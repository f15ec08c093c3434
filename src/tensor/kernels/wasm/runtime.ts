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
import {
  ARG_COUNT, CONTROL_INTS, DELAY_POINTS, JOB_FUNCTIONS, MAX_OVERRIDES, POLL_AFTER_JOB_MS, POLL_EXPECTING_MS, POLL_MAIN_MS, SLOT, WORKER_SOURCE,
} from './worker.js';

/** The module's exports (wasm/gemm.ts); pointers are byte offsets into the shared memory. */
export interface WasmExports {
  scratchBytes(): number;
  packedBBytes(k: number, n: number): number;
  packB(b: number, k: number, n: number, transB: number, dst: number): void;
  gemmRows(
    a: number, transA: number, m: number, k: number, bp: number, n: number, c: number,
    overwrite: number, r0: number, r1: number, p0: number, p1: number, scratch: number,
  ): void;
  addInto(dst: number, src: number, count: number): void;
  /** 1 when gemmRows reads A in place for these arguments, 0 when it packs A. */
  readInPlace(transA: number, m: number, n: number): number;
  // The convolutions (wasm/conv.ts); geo points at the geometry struct.
  geometryBytes(): number;
  blockRows(q: number): number;
  depthBlockRows(q: number): number;
  im2colRows(x: number, geo: number, r0: number, r1: number, cols: number): void;
  col2imRows(cols: number, geo: number, r0: number, r1: number, gx: number): void;
  convForwardRows(x: number, geo: number, r0: number, r1: number, kp: number, y: number, cols: number, scratch: number): void;
  convInputGradRows(gy: number, geo: number, r0: number, r1: number, ktp: number, gx: number, cols: number, scratch: number): void;
  convKernelGradRows(
    x: number, gy: number, geo: number, r0: number, r1: number, gk: number, overwrite: number, cols: number, gyp: number, scratch: number,
  ): void;
  // Batch norm's training passes (wasm/batch-norm.ts).
  bnChannelSums(x: number, rows: number, channels: number, mean: number, sums: number): void;
  bnNormalize(x: number, rows: number, channels: number, mean: number, scale: number, beta: number, relu: number, y: number): void;
  bnGradientSums(
    x: number, gy: number, rows: number, channels: number, mean: number, scale: number, beta: number, relu: number, sumGy: number, sumGyXc: number,
  ): void;
  bnInputGrad(x: number, gy: number, rows: number, channels: number, mean: number, k1: number, k2: number, k0: number, gx: number): void;
}

/**
 * The slice of the WebAssembly JS API used here. The project compiles with
 * lib ES2022 and no DOM, which leaves the WebAssembly global untyped, so it
 * is typed locally instead of declaring a global.
 */
interface WasmMemory {
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}
type WasmModule = object;
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: object };
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
}
const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

/** gemmRows' arguments, in order. */
export type GemmRowsArgs = Parameters<WasmExports['gemmRows']>;

/**
 * Work cut into pieces for runPieces: piece i calls fn(args) with
 * args[range], args[range + 1] = [i*size, min(total, (i+1)*size)), and, if
 * `out` is given, args[out] + i*outStride (a separate output per piece).
 */
export interface PieceJob {
  fn: (typeof JOB_FUNCTIONS)[number];
  args: number[];
  range: number;
  total: number;
  size: number;
  out?: number;
  outStride?: number;
  /** Arguments the helper thread replaces with its own (its scratch buffers): [index, value] pairs. */
  helperArgs?: [number, number][];
  /**
   * For pieces that add into their output: restores piece i's output to what
   * it was before the piece ran, so this thread can run it again after a
   * helper stopped inside it. Pieces that overwrite their output need none.
   */
  resetPiece?: (i: number) => void;
}

/**
 * Test hook: milliseconds to sleep at each step of the protocol, on the
 * helper (DELAY_POINTS) or on this thread after it wrote a job and before it
 * publishes it (beforePublish). For tests only; 0 or absent means no sleep.
 */
export type TestDelays = Partial<Record<(typeof DELAY_POINTS)[number] | 'beforePublish', number>>;

/** A share of work for one thread: an export of the module and its arguments. */
export type Job = { [F in (typeof JOB_FUNCTIONS)[number]]: { fn: F; args: Parameters<WasmExports[F]> } }[(typeof JOB_FUNCTIONS)[number]];

const PAGE = 65536;
/** 1 GiB: the most the runtime grows the shared memory to. */
export const MAX_PAGES = 16384;
/** Bytes below this offset stay unused (the module has no data segment; this keeps 0 off limits). */
const BASE = 1024;

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

export class WasmRuntime {
  readonly exports: WasmExports;
  readonly memory: WasmMemory;
  /** Per-thread scratch (packed A block + one tile): [main, helper]. */
  readonly scratch: readonly [number, number];
  /** Where the workspace starts; a call's operands follow it. */
  readonly heapStart: number;
  private workspaceBytes = 0;
  private view: Float32Array;
  /** Every SharedArrayBuffer object the memory has handed out (one per size it has had). */
  private readonly buffers = new WeakSet<object>();
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

  constructor(api: WasmApi, private readonly module: WasmModule) {
    this.memory = new api.Memory({ initial: 16, maximum: MAX_PAGES, shared: true });
    this.exports = new api.Instance(module, { env: { memory: this.memory } }).exports as unknown as WasmExports;
    const s = align(this.exports.scratchBytes());
    this.scratch = [BASE, BASE + s];
    this.heapStart = BASE + 2 * s;
    this.view = new Float32Array(this.memory.buffer);
    this.buffers.add(this.memory.buffer);
    this.threads = availableParallelism() >= 2 ? 2 : 1;
  }

  /** The memory as floats, at least `bytes` long (grows the memory if needed). */
  f32(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) {
      const pages = Math.ceil((bytes - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new Error(`gemmWasm: the operands need ${mb(bytes)} of WebAssembly memory, more than the ${mb(MAX_PAGES * PAGE)} limit`);
      }
      this.memory.grow(pages);
    }
    if (this.view.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.view = new Float32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
    }
    return this.view;
  }

  /** The workspace as `length` floats (see gemmWorkspace). */
  workspace(length: number): Float32Array {
    const bytes = Math.ceil((4 * length) / 64) * 64;
    if (bytes > this.workspaceBytes) {
      this.f32(this.heapStart + bytes);
      this.workspaceBytes = bytes;
    }
    this.buffers.add(this.memory.buffer);
    return new Float32Array(this.memory.buffer, this.heapStart, length);
  }

  /** The byte offset of `x[0:length]` if it lies inside the workspace, else null. */
  inWorkspace(x: Float32Array, length: number): number | null {
    if (this.workspaceBytes === 0 || !this.buffers.has(x.buffer)) return null;
    const at = x.byteOffset;
    return at >= this.heapStart && at + 4 * length <= this.heapStart + this.workspaceBytes ? at : null;
  }

  /** First byte a call may use for its own copies. */
  callStart(): number {
    return this.heapStart + this.workspaceBytes;
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

  /** Runs a job on this thread. */
  run(job: Job): void {
    (this.exports[job.fn] as (...args: number[]) => void)(...job.args);
  }

  /** Runs piece i of a PieceJob on this thread. */
  runPiece(job: PieceJob, i: number): void {
    const args = job.args.slice();
    args[job.range] = i * job.size;
    args[job.range + 1] = Math.min(job.total, (i + 1) * job.size);
    if (job.out !== undefined) args[job.out] = job.args[job.out]! + i * (job.outStride ?? 0);
    (this.exports[job.fn] as (...a: number[]) => void)(...args);
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

/** Blocks this thread for `ms` (test delays). */
function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Closes the claim counter of the last job (id << 16 | 0xffff: no piece left
 * under any id) before the next job's description is written over it.
 */
function closeClaims(h: Helper): void {
  Atomics.store(h.ctl, SLOT.claim, ((h.seq & 0x7fff) << 16) | 0xffff);
}

/** The next unclaimed piece of job `id`, or -1 when none is left. */
function claimPiece(ctl: Int32Array, id: number, pieces: number): number {
  for (;;) {
    const c = Atomics.load(ctl, SLOT.claim);
    const i = c & 0xffff;
    if (c >>> 16 !== id || i >= pieces) return -1;
    if (Atomics.compareExchange(ctl, SLOT.claim, c, c + 1) === c) return i;
  }
}

/** Polls while the helper runs a piece, for at most `ms`. */
function pollWhileActive(ctl: Int32Array, ms: number): void {
  const end = performance.now() + ms;
  for (let i = 1; Atomics.load(ctl, SLOT.active) !== 0; i++) {
    if ((i & 255) === 0 && performance.now() > end) return;
  }
}

/** Polls until ctl[done] = job, for at most `ms`. */
function pollFor(ctl: Int32Array, job: number, ms: number): void {
  const end = performance.now() + ms;
  for (let i = 1; Atomics.load(ctl, SLOT.done) !== job; i++) {
    if ((i & 255) === 0 && performance.now() > end) return;
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

function align(bytes: number): number {
  return Math.ceil(bytes / 64) * 64;
}

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
