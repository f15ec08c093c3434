/**
 * Sequential's inference fusion of [Conv2d, BatchNorm(, ReLU)]
 * (src/layers/conv-batch-norm-step.ts) against the layers called one by one
 * (the unfused path: conv2d, then batchNormInference, then relu, each its
 * own op). The predictions must be the same floats (Object.is), on the
 * lesson network and on awkward small stacks, on every backend and thread
 * count; training calls must not take the fused op.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import * as fusedOp from '../../src/autograd/ops/conv2d-batch-norm.js';
import {
  BatchNorm, Conv2d, Flatten, Dense, ReLU, Sequential, noGrad, randomUniform, ready, setBackend, setThreads, wasmAvailable,
  type Backend, type Layer, type Tensor,
} from '../../src/index.js';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';
import { Random } from '../../src/tensor/random.js';

vi.mock('../../src/autograd/ops/conv2d-batch-norm.js', async (original) => {
  const m = await original<typeof import('../../src/autograd/ops/conv2d-batch-norm.js')>();
  return { ...m, conv2dBatchNormInference: vi.fn(m.conv2dBatchNormInference) };
});
const fusedCalls = (): number => vi.mocked(fusedOp.conv2dBatchNormInference).mock.calls.length;

/** Gives every BN random statistics and affine weights (a fresh BN is nearly the identity). */
function randomizeBatchNorms(layers: readonly Layer[], seed: number): void {
  const rng = new Random(seed);
  for (const l of layers) {
    if (!(l instanceof BatchNorm)) continue;
    for (let c = 0; c < l.channels!; c++) {
      l.movingMean!.data[c] = rng.next() - 0.5;
      l.movingVariance!.data[c] = 0.1 + 2 * rng.next();
      l.gamma!.data[c] = 2 * rng.next() - 0.5;
      l.beta!.data[c] = rng.next() - 0.5;
    }
  }
}

/** Each layer called on its own: no plan, no fusion. */
function layerByLayer(layers: readonly Layer[], x: Tensor): Tensor {
  let y = x;
  for (const l of layers) y = l.call(y, { isTraining: false });
  return y;
}

function expectSameFloats(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`element ${i}: ${got[i]}, expected ${want[i]}`);
}

const runs: [Backend, 1 | 2][] = [['js', 1], ...(wasmAvailable() ? ([['wasm', 1], ['wasm', 2]] as [Backend, 1 | 2][]) : [])];

describe('inference Conv2d -> BatchNorm -> ReLU fusion in Sequential', () => {
  let previous: Backend;
  beforeAll(async () => {
    previous = setBackend('js');
    setBackend(previous);
    if (wasmAvailable()) await ready();
  });
  afterEach(() => {
    setBackend(previous);
    setThreads(2);
  });

  for (const [b, threads] of runs) {
    it(`lesson network, ${b} on ${threads} thread(s): predictions are the floats of the unfused layers`, () => {
      setBackend(b);
      setThreads(threads);
      const model = lessonNetwork({ batchNorm: true, seed: 3 });
      const x = randomUniform([5, 28, 28, 1], { seed: 4 });
      model.call(x, { isTraining: true }); // builds the weights (training: never fused)
      randomizeBatchNorms(model.layers, 5);
      const before = fusedCalls();
      const fused = noGrad(() => model.call(x, { isTraining: false }));
      expect(fusedCalls() - before).toBe(19); // every conv block took the fused op
      const apart = noGrad(() => layerByLayer(model.layers, x));
      expectSameFloats(fused.data, apart.data);
      // With gradients possible the op falls back to the recorded ops: same floats still.
      expectSameFloats(model.call(x, { isTraining: false }).data, apart.data);
    });

    it(`awkward stacks, ${b} on ${threads} thread(s): odd channels, cin = 1, strides, BN with its own relu, no center/scale`, () => {
      setBackend(b);
      setThreads(threads);
      const model = new Sequential([
        new Conv2d(5, 3, { strides: 2, padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
        new Conv2d(7, [2, 3], { padding: 'valid', useBias: false }), new BatchNorm({ activation: 'relu' }),
        new Conv2d(3, 1, { useBias: false }), new BatchNorm({ center: false, scale: false }),
        new Conv2d(6, 3, { padding: 'same', useBias: true }), new BatchNorm(), new ReLU(), // a bias: not fused
        new Flatten(), new Dense(4),
      ]);
      const x = randomUniform([3, 9, 11, 1], { seed: 6, minval: -1, maxval: 1 });
      model.call(x, { isTraining: true });
      randomizeBatchNorms(model.layers.filter((l) => !(l instanceof BatchNorm) || l.gamma !== null), 7);
      const before = fusedCalls();
      const fused = noGrad(() => model.call(x, { isTraining: false }));
      expect(fusedCalls() - before).toBe(3);
      expectSameFloats(fused.data, noGrad(() => layerByLayer(model.layers, x)).data);
    });
  }

  it('training calls and calls with a statistics observer run the layers apart', () => {
    const model = lessonNetwork({ batchNorm: true, seed: 3 });
    const x = randomUniform([2, 28, 28, 1], { seed: 4 });
    const before = fusedCalls();
    model.call(x, { isTraining: true });
    noGrad(() => model.call(x, { isTraining: true }));
    expect(fusedCalls()).toBe(before);
    const bn = model.layers.find((l): l is BatchNorm => l instanceof BatchNorm)!;
    let seen = 0;
    bn.statisticsObserver = () => seen++;
    noGrad(() => model.call(x, { isTraining: false }));
    expect(seen).toBe(1);
    expect(fusedCalls() - before).toBe(18); // the observed block ran apart
  });
});
