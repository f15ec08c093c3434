/**
 * A helper thread that dies or stops making progress is a fallback, not a
 * hang (issue 14 item 2): the call returns, its result equals the
 * one-thread result bit for bit, one warning is emitted, and the runtime
 * goes on with one thread. The helper is terminated (helperWorker), or held
 * inside its work by the test delays (setTestDelays) so that this thread's
 * bounded wait (stallMs, lowered here to 200 ms) runs out.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { conv2dGeometry } from '../../../src/tensor/kernels/im2col.js';
import { conv2dBackwardInputWasm, conv2dForwardWasm } from '../../../src/tensor/kernels/wasm/conv2d-wasm.js';
import { wasmRuntime, HELPER_STALL_MS } from '../../../src/tensor/kernels/wasm/runtime.js';
import { gemmWasm } from '../../../src/tensor/kernels/wasm/gemm-wasm.js';
import { ready, setThreads, threads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { setWasmLimits, type WasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { rand } from './reference.js';

const g = conv2dGeometry([8, 16, 16, 2], [3, 3, 2, 4], 1, 'same');
const x = rand(8 * 16 * 16 * 2, 1);
const k = rand(3 * 3 * 2 * 4, 2);
const gy = rand(8 * 16 * 16 * 4, 3);
const [m, kk, n] = [64, 48, 40];
const a = rand(m * kk, 4);
const b = rand(kk * n, 5);
const c0 = rand(m * n, 6);

/** The helper's worker_threads Worker (the Node host's worker object). */
const helperWorker = (): Worker => wasmRuntime()!.helperWorker() as Worker;

/** C = c0 + A·B (accumulate: rows redone after a stall must start again from c0). */
function product(): Float32Array {
  const c = c0.slice();
  gemmWasm(a, b, c, m, kk, n, { accumulate: true });
  return c;
}

function oneThread<T>(f: () => T): T {
  setThreads(1);
  try {
    return f();
  } finally {
    setThreads(2);
  }
}

function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const diff = got.findIndex((v, i) => !Object.is(v, want[i]));
  if (diff >= 0) expect.fail(`element ${diff} is ${got[diff]} after the fallback, ${want[diff]} on one thread`);
}

describe.runIf(wasmAvailable())('a helper that stops is a fallback, not a hang', () => {
  let saved: WasmLimits;
  let warn: ReturnType<typeof vi.spyOn>;

  beforeEach(async () => {
    saved = setWasmLimits({ parallelFlops: 0 }); // every call takes the two-thread path
    setThreads(2);
    expect(await ready()).toBe(true); // a fresh helper after the previous test's fallback
    wasmRuntime()!.stallMs = 200;
    warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  });

  afterEach(() => {
    const rt = wasmRuntime()!;
    rt.setTestDelays({});
    rt.stallMs = HELPER_STALL_MS;
    rt.mainTakesPieces = true;
    warn.mockRestore();
    setWasmLimits(saved);
    setThreads(2);
  });

  it('after the helper is terminated, matmul and conv2d return the one-thread bits, warn once and go on with one thread', async () => {
    const want = oneThread(product);
    const wantY = oneThread(() => conv2dForwardWasm(x, k, g));
    await helperWorker().terminate();
    expectSameBits(product(), want);
    expectSameBits(conv2dForwardWasm(x, k, g), wantY);
    expectSameBits(product(), want);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/helper thread has exited/);
    expect(threads()).toBe(1);
  });

  it('a helper killed right before a call (no exit event yet): the bounded wait runs out and the call returns the same bits', () => {
    const want = oneThread(product);
    const worker = helperWorker();
    void worker.terminate(); // this thread stays busy: the exit event cannot arrive before the call
    expectSameBits(product(), want);
    expectSameBits(product(), want);
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1); // at most once (the helper may have finished the share before it died)
  });

  it('a helper stuck inside its share of an accumulating matmul: its rows are restored, redone here, and the helper is terminated', async () => {
    const want = oneThread(product);
    const rt = wasmRuntime()!;
    const worker = helperWorker();
    rt.setTestDelays({ beforeDone: 60_000 }); // the share is computed (added into C), then never reported
    expectSameBits(product(), want);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/gemmRows: the helper thread made no progress for 200 ms/);
    expect(threads()).toBe(1);
    await once(worker, 'exit');
    expectSameBits(product(), want);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('a helper stuck after adding a conv input-gradient piece into gx: the piece is reset and redone here', async () => {
    const want = oneThread(() => conv2dBackwardInputWasm(gy, k, g));
    const rt = wasmRuntime()!;
    const worker = helperWorker();
    rt.mainTakesPieces = false; // the helper takes piece 0, adds it into gx, then stalls
    rt.setTestDelays({ beforeDone: 60_000 });
    expectSameBits(conv2dBackwardInputWasm(gy, k, g), want);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0]![0])).toMatch(/convInputGradRows: the helper thread made no progress/);
    await once(worker, 'exit');
  });
});
