/**
 * The protocol where this thread may not block in Atomics.wait (a browser's
 * main thread: runtime.ts, invariant 5), reproduced in Node with the Node
 * host told that it may not block. Then no wait of this thread may call
 * Atomics.wait (spied: it throws on a browser's main thread), the waits are
 * bounded spins, split() takes back a share the helper has not claimed, and
 * every result equals the one-thread result bit for bit, also under the
 * protocol's test delays. The Chromium test (test/browser/) runs the same
 * path for real.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { conv2dGeometry } from '../../../src/tensor/kernels/im2col.js';
import {
  conv2dBackwardInputWasm, conv2dBackwardKernelWasm, conv2dForwardWasm,
} from '../../../src/tensor/kernels/wasm/conv2d-wasm.js';
import { gemmWasm } from '../../../src/tensor/kernels/wasm/gemm-wasm.js';
import { setThreadHost } from '../../../src/tensor/kernels/wasm/host.js';
import { nodeThreadHost } from '../../../src/tensor/kernels/wasm/host-node.js';
import { HELPER_STALL_MS, wasmRuntime, type TestDelays } from '../../../src/tensor/kernels/wasm/runtime.js';
import { ready, setThreads, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { setWasmLimits } from '../../../src/tensor/kernels/wasm/limits.js';
import { rand } from './reference.js';

// Before the runtime exists (vitest gives each test file its own modules).
setThreadHost({ ...nodeThreadHost, canBlock: () => false });

const g = conv2dGeometry([8, 16, 16, 2], [3, 3, 2, 4], 1, 'same');
const x = rand(8 * 16 * 16 * 2, 1);
const k = rand(3 * 3 * 2 * 4, 2);
const gy = rand(8 * 16 * 16 * 4, 3);
const a = rand(64 * 48, 4);
const b = rand(48 * 40, 5);
const c0 = rand(64 * 40, 6);

/** One conv layer's training step, then an accumulating GEMM (split mode). */
function step(): Float32Array[] {
  const c = c0.slice();
  gemmWasm(a, b, c, 64, 48, 40, { accumulate: true });
  return [conv2dForwardWasm(x, k, g), conv2dBackwardKernelWasm(x, gy, g), conv2dBackwardInputWasm(gy, k, g), c];
}

function expectSameBits(got: Float32Array[], want: Float32Array[]): void {
  got.forEach((v, i) => {
    const diff = v.findIndex((e, j) => !Object.is(e, want[i]![j]));
    if (diff >= 0) expect.fail(`output ${i}, element ${diff}: ${v[diff]} without blocking, ${want[i]![diff]} on one thread`);
  });
}

describe.runIf(wasmAvailable())('the protocol on a thread that may not block', () => {
  let oneThread: Float32Array[];

  beforeAll(async () => {
    setWasmLimits({ parallelFlops: 0 }); // every call takes the two-thread path
    setThreads(1);
    oneThread = step();
    setThreads(2);
    expect(await ready()).toBe(true);
  });

  afterEach(() => {
    wasmRuntime()!.setTestDelays({});
    vi.restoreAllMocks();
  });

  it('the helper takes part, this thread never calls Atomics.wait, and the bits equal one thread', () => {
    const wait = vi.spyOn(Atomics, 'wait');
    const before = wasmRuntime()!.helperJobs();
    for (let r = 0; r < 3; r++) expectSameBits(step(), oneThread);
    expect(wasmRuntime()!.helperJobs()).toBeGreaterThan(before);
    expect(wait).not.toHaveBeenCalled();
  });

  // The helper sleeps 1 s after it reads each job id, far past the 200 ms
  // patience: waiting for its GEMM share would give it up (a warning, one
  // thread); taking the unclaimed share back keeps both.
  it('a helper that wakes late: this thread runs the unclaimed share itself, no warning, still two threads', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const rt = wasmRuntime()!;
    rt.stallMs = 200;
    rt.setTestDelays({ afterJobId: 1000 });
    try {
      for (let r = 0; r < 3; r++) expectSameBits(step(), oneThread);
    } finally {
      rt.stallMs = HELPER_STALL_MS;
    }
    expect(warn).not.toHaveBeenCalled();
    expect(rt.threads).toBe(2);
  });

  const points: (keyof TestDelays)[] = ['afterArgs', 'afterClaim', 'beforeDone', 'beforePublish'];
  for (const point of points) {
    it(`a delay ${point} changes no bit`, () => {
      const wait = vi.spyOn(Atomics, 'wait');
      wasmRuntime()!.setTestDelays({ [point]: 3 });
      for (let r = 0; r < 2; r++) expectSameBits(step(), oneThread);
      expect(wait).not.toHaveBeenCalled();
    });
  }
});
