/**
 * The control-word primitives of the two-thread protocol (runtime.ts states
 * its invariants; worker.ts is the helper's side of each).
 */
import { SLOT } from './worker.js';

/** Blocks this thread for `ms` (spins where it may not block: a browser's main thread). */
export function sleep(ms: number, canBlock: boolean): void {
  if (canBlock) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  else for (const end = performance.now() + ms; performance.now() < end; );
}

/**
 * Waits while ctl[slot] = v, for at most `ms`: Atomics.wait, or where this
 * thread may not block, a spin on Atomics.load.
 */
export function waitWhile(ctl: Int32Array, slot: number, v: number, ms: number, canBlock: boolean): void {
  if (canBlock) {
    Atomics.wait(ctl, slot, v, ms);
    return;
  }
  const end = performance.now() + ms;
  for (let i = 1; Atomics.load(ctl, slot) === v; i++) {
    if ((i & 255) === 0 && performance.now() > end) return;
  }
}

/**
 * Closes the claim counter of the last job (id << 16 | 0xffff: no piece left
 * under any id) before the next job's description is written over it.
 */
export function closeClaims(h: { ctl: Int32Array; seq: number }): void {
  Atomics.store(h.ctl, SLOT.claim, ((h.seq & 0x7fff) << 16) | 0xffff);
}

/** The next unclaimed piece of job `id`, or -1 when none is left. */
export function claimPiece(ctl: Int32Array, id: number, pieces: number): number {
  for (;;) {
    const c = Atomics.load(ctl, SLOT.claim);
    const i = c & 0xffff;
    if (c >>> 16 !== id || i >= pieces) return -1;
    if (Atomics.compareExchange(ctl, SLOT.claim, c, c + 1) === c) return i;
  }
}

/** Polls while the helper runs a piece, for at most `ms`. */
export function pollWhileActive(ctl: Int32Array, ms: number): void {
  const end = performance.now() + ms;
  for (let i = 1; Atomics.load(ctl, SLOT.active) !== 0; i++) {
    if ((i & 255) === 0 && performance.now() > end) return;
  }
}

/** Polls until ctl[done] = job, for at most `ms`. */
export function pollFor(ctl: Int32Array, job: number, ms: number): void {
  const end = performance.now() + ms;
  for (let i = 1; Atomics.load(ctl, SLOT.done) !== job; i++) {
    if ((i & 255) === 0 && performance.now() > end) return;
  }
}
