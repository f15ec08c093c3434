/**
 * The two-thread protocol (runtime.ts, worker.ts) under a hostile schedule. The
 * test hook setTestDelays makes the helper sleep at a chosen step (after it
 * read the job id, after it read the arguments, after it claimed a piece,
 * before it reports a piece done) and this thread sleep between writing a
 * job and publishing it, which is what a busy machine does at random. The
 * oracle: every result equals, bit for bit, the one-thread result (which
 * conv2d-wasm.test.ts and gemm-wasm.test.ts check against naive loops).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { conv2dGeometry, type Conv2dGeometry } from '../../../src/tensor/kernels/im2col.js';
import {
  conv2dBackwardInputWasm, conv2dBackwardKernelWasm, conv2dForwardWasm,
} from '../../../src/tensor/kernels/wasm/conv2d-wasm.js';
import { wasmRuntime, type TestDelays } from '../../../src/tensor/kernels/wasm/runtime.js';
import { gemmWasm } from '../../../src/tensor/kernels/wasm/gemm-wasm.js';
import { ready, setThreads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { setWasmLimits, type WasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { rand } from './reference.js';

/** A batch of 8 images of 16x16 (2048 rows): the kernel gradient runs as 2 pieces, the input gradient and the forward as 8. */
const g: Conv2dGeometry = conv2dGeometry([8, 16, 16, 2], [3, 3, 2, 4], 1, 'same');
const x = rand(8 * 16 * 16 * 2, 1);
const k = rand(3 * 3 * 2 * 4, 2);
const gy = rand(8 * 16 * 16 * 4, 3);
const a = rand(64 * 48, 4);
const b = rand(48 * 40, 5);

/** The calls of one conv layer's training step, in the order backward runs them, then a GEMM (split mode). */
function step(): Float32Array[] {
  const y = conv2dForwardWasm(x, k, g);
  const gk = conv2dBackwardKernelWasm(x, gy, g);
  const gx = conv2dBackwardInputWasm(gy, k, g);
  const c = new Float32Array(64 * 40);
  gemmWasm(a, b, c, 64, 48, 40);
  return [y, gk, gx, c];
}

function expectSameBits(got: Float32Array[], want: Float32Array[]): void {
  const names = ['y', 'gK', 'gx', 'C'];
  got.forEach((v, i) => {
    const diff = v.findIndex((e, j) => !Object.is(e, want[i]![j]));
    if (diff >= 0) expect.fail(`${names[i]}[${diff}] is ${v[diff]} on two threads, ${want[i]![diff]} on one`);
  });
}

describe.runIf(wasmAvailable())('two-thread protocol under delays', () => {
  let saved: WasmLimits | undefined;
  let oneThread: Float32Array[];

  beforeAll(async () => {
    setThreads(2);
    expect(await ready()).toBe(true);
    saved = setWasmLimits({ parallelFlops: 0 }); // every call takes the two-thread path
    setThreads(1);
    oneThread = step();
    setThreads(2);
    if (saved) setWasmLimits(saved);
  });

  afterEach(() => {
    wasmRuntime()!.setTestDelays({});
    setThreads(2);
    if (saved) setWasmLimits(saved);
  });

  // The race of issue 14: the helper reads job N's id, then (asleep) misses
  // job N, which this thread finishes alone; this thread writes job N+1 (8
  // pieces) and, before it publishes it, the helper wakes, reads N+1's
  // arguments under N's id and finds N's claim counter (2 pieces taken of 2)
  // still open for pieces 2..7 of N+1. Those input-gradient pieces, which add
  // into gx, then run twice.
  it('a helper that read the previous job id never runs a piece with the next job\'s arguments', () => {
    setWasmLimits({ parallelFlops: 0 });
    wasmRuntime()!.setTestDelays({ afterJobId: 30, beforePublish: 300 });
    for (let r = 0; r < 2; r++) expectSameBits(step(), oneThread);
  });

  const points: (keyof TestDelays)[] = ['afterJobId', 'afterArgs', 'afterClaim', 'beforeDone', 'beforePublish'];
  for (const point of points) {
    it(`a delay ${point} changes no bit`, () => {
      setWasmLimits({ parallelFlops: 0 });
      wasmRuntime()!.setTestDelays({ [point]: 3 });
      for (let r = 0; r < 2; r++) expectSameBits(step(), oneThread);
    });
  }
});
