/**
 * fitAsync: the same training as fit, stoppable from a timer or a signal
 * handler. The assertions count steps, never time: "no step starts after the
 * abort was seen" is checked by counting steps finished after the abort event.
 */
import { describe, expect, it } from 'vitest';
import { Random, Tensor } from '../../src/index.js';
import { SGD } from '../../src/optim/sgd.js';
import { BatchNorm } from '../../src/layers/batch-norm.js';
import { Dense } from '../../src/layers/dense.js';
import { ReLU } from '../../src/layers/activations.js';
import { Sequential } from '../../src/layers/sequential.js';
import { fit, type FitOptions } from '../../src/train/fit.js';
import { fitAsync } from '../../src/train/fit-async.js';
import { softmaxCrossEntropyWithLogits } from '../../src/train/losses.js';

function data(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = Float32Array.from({ length: n * 2 }, () => rng.normal());
  const y = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) y[3 * i + (i % 3)] = 1;
  return { x: new Tensor(x, [n, 2]), y: new Tensor(y, [n, 3]) };
}

const net = (): Sequential => new Sequential([new Dense(4), new BatchNorm(), new ReLU(), new Dense(3)]);
const base = (): FitOptions => ({ optimizer: new SGD({ learningRate: 0.05 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, seed: 4 });

/** Runs fitAsync for up to a million steps with `signal`; returns how many steps finished before and after the abort event. */
async function stopped(signal: AbortSignal, yieldEveryMs?: number) {
  let steps = 0;
  let atAbort = -1;
  signal.addEventListener('abort', () => (atAbort = steps));
  const h = await fitAsync(net(), data(32, 1), {
    ...base(), steps: 1_000_000, signal, yieldEveryMs, callbacks: [{ onStepEnd: () => void steps++ }],
  });
  return { h, steps, atAbort };
}

describe('fitAsync', () => {
  it('trains exactly as fit: same losses and the same final state, bit for bit', async () => {
    const a = net();
    const b = net();
    const ha = fit(a, data(40, 2), { ...base(), epochs: 3 });
    const hb = await fitAsync(b, data(40, 2), { ...base(), epochs: 3, yieldEveryMs: 0 });
    expect(hb.steps.map((s) => s.loss)).toEqual(ha.steps.map((s) => s.loss));
    expect(hb.stoppedBy).toBe('completed');
    expect([...b.stateDict()].map(([n, t]) => [n, [...t.data]])).toEqual([...a.stateDict()].map(([n, t]) => [n, [...t.data]]));
  });

  it('AbortSignal.timeout stops it: no step finishes after the abort event', async () => {
    const { h, steps, atAbort } = await stopped(AbortSignal.timeout(30));
    expect(h.stoppedBy).toBe('signal');
    expect(atAbort).toBeGreaterThanOrEqual(0);
    expect(steps).toBe(atAbort);
    expect(h.steps.length).toBe(steps);
    expect(steps).toBeLessThan(1_000_000);
  }, 60_000);

  it('a SIGINT-like handler (a timer that aborts) stops it within one step', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const { h, steps, atAbort } = await stopped(controller.signal);
    expect(h.stoppedBy).toBe('signal');
    expect(steps - atAbort).toBeLessThanOrEqual(1);
    expect(steps).toBeLessThan(1_000_000);
  }, 60_000);

  it('with yieldEveryMs 0, a handler queued during step 3 stops it after exactly 3 steps', async () => {
    const controller = new AbortController();
    const h = await fitAsync(net(), data(32, 1), {
      ...base(), steps: 50, signal: controller.signal, yieldEveryMs: 0,
      callbacks: [{ onStepEnd: ({ step }) => { if (step === 3) setImmediate(() => controller.abort()); } }],
    });
    expect(h.stoppedBy).toBe('signal');
    expect(h.steps.length).toBe(3);
  });

  it('rejects bad options, as fit throws them', async () => {
    await expect(fitAsync(net(), data(8, 1), { ...base(), batchSize: 0 })).rejects.toThrow('fit: batchSize must be a positive integer, got 0');
    await expect(fitAsync(net(), data(8, 1), { ...base(), yieldEveryMs: -1 })).rejects.toThrow('fitAsync: yieldEveryMs must be a finite number >= 0, got -1');
  });
});
