/**
 * The helper thread's life, below the protocol (runtime.ts): started on the
 * host (host.ts) when threads = 2, woken ahead of a job, given up on when it
 * stops (closed claims, terminated, one warning, one thread from then on),
 * and the test hooks that reach into it.
 */
import { closeClaims, sleep } from './claims.js';
import { atomicsWaitAllowed, threadHost, type HelperThread, type ThreadHost } from './host.js';
import { WasmInstance, type WasmApi, type WasmModule } from './instance.js';
import { CONTROL_INTS, DELAY_POINTS, SLOT, WORKER_CONSTANTS } from './worker.js';

/**
 * Test hook: milliseconds to sleep at each step of the protocol, on the
 * helper (DELAY_POINTS) or on this thread after it wrote a job and before it
 * publishes it (beforePublish). For tests only; 0 or absent means no sleep.
 */
export type TestDelays = Partial<Record<(typeof DELAY_POINTS)[number] | 'beforePublish', number>>;

/** A started helper: the host's thread, the control block, and the last job posted to it. */
export interface Helper {
  thread: HelperThread;
  ctl: Int32Array;
  seq: number;
}

/** How long this thread waits in one Atomics.wait before it checks the helper's progress. */
export const WAIT_SLICE_MS = 20;
/** The default of WasmRuntime.stallMs. */
export const HELPER_STALL_MS = 3000;

/** The kernels' instance plus, where the host allows one, a helper thread on the same memory. */
export class HelperThreads extends WasmInstance {
  protected helper: Helper | null = null;
  /** Where helpers come from; null: none can start here (threads stays 1). */
  protected readonly host: ThreadHost | null = threadHost();
  /** Whether this thread may block in Atomics.wait; when not, waits spin (runtime.ts, invariant 5). */
  protected readonly canBlock: boolean;
  private wanted: 1 | 2;
  /** Tests set this false to leave every piece of a runPieces job to the helper. */
  mainTakesPieces = true;
  /** Test hook (setTestDelays): the helper's delays, and this thread's before publishing a job. */
  private readonly delays = new Int32Array(DELAY_POINTS.length);
  protected beforePublishMs = 0;
  /**
   * Milliseconds without progress from the helper (no piece or share
   * finished), on top of 10 times what a piece or share took here, after
   * which this thread stops waiting for it, finishes the call itself and
   * goes on with one thread (tests lower it).
   */
  stallMs = HELPER_STALL_MS;

  constructor(api: WasmApi, module: WasmModule) {
    super(api, module);
    this.canBlock = this.host?.canBlock() ?? atomicsWaitAllowed();
    this.wanted = this.host !== null && this.host.parallelism() >= 2 ? 2 : 1;
  }

  /** Threads the kernels may use: 2 only where the host can start a helper. */
  get threads(): 1 | 2 {
    return this.wanted;
  }

  set threads(n: 1 | 2) {
    this.wanted = this.host === null ? 1 : n;
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

  /** Test hook: the host's worker object of the helper (to terminate it), or null when none is running. */
  helperWorker(): unknown {
    return this.helper?.thread.worker ?? null;
  }

  /** Starts the helper (if threads = 2 and it is not running); resolves to whether it is ready. */
  startHelper(): Promise<boolean> {
    if (this.threads < 2 || this.host === null) return Promise.resolve(false);
    if (this.helper === null) {
      const control = new SharedArrayBuffer(CONTROL_INTS * 4);
      const thread = this.host.spawn({ module: this.module, memory: this.memory, control, constants: WORKER_CONSTANTS });
      this.helper = { thread, ctl: new Int32Array(control), seq: 0 };
      this.helper.ctl.set(this.delays, SLOT.delays);
    }
    return this.helper.thread.ready;
  }

  /**
   * Tells a sleeping helper that a job is coming: it wakes (which takes
   * 100-300 us on a VM) while this thread copies the operands in.
   */
  wake(): void {
    if (this.threads === 2 && this.helper !== null) Atomics.notify(this.helper.ctl, SLOT.seq, 1);
  }

  /** Sleeps `ms` on this thread (spins where it may not block). */
  protected sleep(ms: number): void {
    sleep(ms, this.canBlock);
  }

  /**
   * Gives up on the helper: closes its claims, terminates it and goes on
   * with one thread (setThreads(2) starts a new helper), warning once.
   */
  protected abandonHelper(op: string): void {
    const h = this.helper!;
    closeClaims(h);
    h.thread.terminate();
    this.sleep(WAIT_SLICE_MS); // a running helper stops at its next loop check, well within this
    this.helper = null;
    this.threads = 1;
    this.host!.warn(
      `${op}: the helper thread ${h.thread.exited ? 'has exited' : `made no progress for ${this.stallMs} ms`}; ` +
        'this thread finished the call and normgrad goes on with one thread (same results, slower)',
      'NORMGRAD_HELPER_STOPPED',
    );
  }
}
