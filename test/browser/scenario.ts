/**
 * The computation the browser test runs in Chromium and in Node: a GEMM and
 * a few fit steps of a small Conv2d + BatchNorm model, from fixed seeds.
 * Imports src/ directly (no node: module anywhere below), so esbuild can
 * bundle it for the page. The results are hashed bit for bit (FNV-1a over
 * the float32 bytes), so equal hashes mean identical floats.
 */
import { matmul } from '../../src/autograd/ops/matmul.js';
import { noGrad } from '../../src/autograd/graph.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Conv2d } from '../../src/layers/conv2d.js';
import { Dense } from '../../src/layers/dense.js';
import { Flatten, ReLU } from '../../src/layers/activations.js';
import { Sequential } from '../../src/layers/sequential.js';
import { SGD } from '../../src/optim/sgd.js';
import { backend, ready, threads } from '../../src/tensor/kernels/backend.js';
import { atomicsWaitAllowed } from '../../src/tensor/kernels/wasm/host.js';
import { setWasmLimits } from '../../src/tensor/kernels/wasm/limits.js';
import { wasmRuntime } from '../../src/tensor/kernels/wasm/runtime.js';
import { randomNormal } from '../../src/tensor/random.js';
import { Tensor } from '../../src/tensor/tensor.js';
import { fit } from '../../src/train/fit.js';
import { softmaxCrossEntropyWithLogits } from '../../src/train/losses.js';

export interface ScenarioResult {
  backend: string;
  threads: number;
  /** Whether this thread may block in Atomics.wait (not on a page's main thread; the runtime then spins). */
  mayBlock: boolean;
  /** Whether the helper thread had started when the work ran. */
  helperReady: boolean;
  /** Jobs (pieces or shares) the helper thread ran. */
  helperJobs: number;
  /** Hash of C = A·B, [96, 80] x [80, 64]. */
  gemm: string;
  /** Hash of every tensor of the model's state dict after the fit. */
  state: string;
  lossBefore: number;
  lossAfter: number;
}

/** FNV-1a (32-bit) over the bytes of each array in turn, as 8 hex digits. */
export function hashFloats(arrays: Float32Array[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function lossOf(model: Sequential, x: Tensor, y: Tensor): number {
  return noGrad(() => softmaxCrossEntropyWithLogits(y, model.call(x, { isTraining: false })).item());
}

/**
 * Runs the scenario on the current backend. Every call goes down the
 * two-thread path (parallelFlops 0), so with two threads the helper takes
 * part in each GEMM and convolution; with one the main thread does it all.
 */
export async function runScenario(): Promise<ScenarioResult> {
  const saved = setWasmLimits({ parallelFlops: 0 });
  try {
    await ready();
    const a = randomNormal([96, 80], { seed: 1 });
    const b = randomNormal([80, 64], { seed: 2 });
    const gemm = hashFloats([matmul(a, b).data]);

    const x = randomNormal([16, 10, 10, 2], { seed: 3 });
    const labels = new Float32Array(16 * 3);
    for (let i = 0; i < 16; i++) labels[3 * i + (i % 3)] = 1;
    const y = new Tensor(labels, [16, 3]);
    const model = new Sequential([
      new Conv2d(6, 3, { padding: 'same', useBias: false, name: 'conv' }),
      new BatchNorm({ name: 'bn' }),
      new ReLU(),
      new Flatten(),
      new Dense(3, { name: 'dense' }),
    ]);
    const lossBefore = lossOf(model, x, y);
    fit(model, { x, y }, { optimizer: new SGD({ learningRate: 0.05 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, steps: 4, seed: 7 });
    const lossAfter = lossOf(model, x, y);
    const state = model.stateDict();
    const names = [...state.keys()].sort();
    return {
      backend: backend(),
      threads: threads(),
      mayBlock: atomicsWaitAllowed(),
      helperReady: wasmRuntime()?.helperReady() ?? false,
      helperJobs: wasmRuntime()?.helperJobs() ?? 0,
      gemm,
      state: names.join(',') + ':' + hashFloats(names.map((n) => state.get(n)!.data)),
      lossBefore,
      lossAfter,
    };
  } finally {
    setWasmLimits(saved);
  }
}
