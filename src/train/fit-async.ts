/**
 * fitAsync: the same training loop as fit, returning to the event loop
 * between steps so that timers, signal handlers (Ctrl-C) and I/O can run and
 * abort it.
 *
 * Why a second function rather than making fit return a Promise: fit's
 * synchronous contract (it returns the History; errors are thrown, not
 * rejected) is relied on by existing callers and tests, and a Promise would
 * break every one of them silently (an un-awaited Promise is truthy). TF.js's
 * model.fit returns a Promise; fitAsync is that shape, beside the plain one.
 *
 * Speed: returning to the event loop costs microseconds, but it is not free
 * for tiny steps, so the loop yields only once `yieldEveryMs` (default 5) have
 * passed since the last yield. A handler that runs during a yield and aborts
 * the signal stops training before the next step begins: no step starts after
 * the abort has been seen, and at most one step (the one running) finishes
 * after the abort was requested.
 */
import type { Dataset } from './batches.js';
import { trainingLoop, type FitOptions, type History, type TrainableModel } from './fit.js';

/** Options of `fitAsync`: those of `fit`, plus how often to return to the event loop. */
export interface FitAsyncOptions extends FitOptions {
  /**
   * Return to the event loop after a step once this many milliseconds have
   * passed since the last return (default 5; 0 yields after every step).
   */
  yieldEveryMs?: number;
}

// setImmediate (Node) runs right after pending I/O and timers; browsers have
// no setImmediate, and setTimeout(0) is the portable fallback.
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * Trains like `fit` (same options, same steps, same numbers, same errors, as
 * a rejected Promise) but returns to the event loop between steps, so an
 * `AbortSignal` aborted by a timer or a signal handler stops training after
 * the current step, with `stoppedBy: 'signal'`.
 *
 * @example
 * const controller = new AbortController();
 * process.once('SIGINT', () => controller.abort()); // Ctrl-C stops after the current step
 * const history = await fitAsync(model, { x, y }, {
 *   optimizer: new Adam(), loss: softmaxCrossEntropyWithLogits, epochs: 10, signal: controller.signal,
 * });
 * if (history.stoppedBy === 'signal') saveCheckpoint(model, 'model.safetensors');
 *
 * // or a time budget:
 * await fitAsync(model, data, { ...options, signal: AbortSignal.timeout(60_000) });
 */
export async function fitAsync(model: TrainableModel, data: Dataset, opts: FitAsyncOptions): Promise<History> {
  const { yieldEveryMs = 5, ...fitOptions } = opts ?? ({} as FitAsyncOptions);
  if (typeof yieldEveryMs !== 'number' || !(yieldEveryMs >= 0) || !Number.isFinite(yieldEveryMs)) {
    throw new Error(`fitAsync: yieldEveryMs must be a finite number >= 0, got ${String(yieldEveryMs)}`);
  }
  const loop = trainingLoop(model, data, fitOptions);
  let lastYield = performance.now();
  for (;;) {
    const r = loop.next();
    if (r.done) return r.value;
    if (performance.now() - lastYield >= yieldEveryMs) {
      await yieldToEventLoop();
      lastYield = performance.now();
    }
  }
}
