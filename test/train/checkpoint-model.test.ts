/**
 * Checkpoints with a real trained BN model: saved and loaded into a freshly
 * built model, predictions are bit-identical; the moving statistics are what
 * makes them so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Adam, BatchNorm, Conv2d, Dense, Flatten, ReLU, glorotUniform, Random, Sequential, Tensor, fit, loadCheckpoint, predict, saveCheckpoint,
  softmaxCrossEntropyWithLogits, sliceRows,
} from '../../src/node.js';

const dir = mkdtempSync(join(tmpdir(), 'normgrad-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function net(seed = 0): Sequential {
  const kernelInitializer = glorotUniform({ seed });
  return new Sequential([
    new Conv2d(4, 3, { padding: 'same', useBias: false, kernelInitializer }), new BatchNorm({ momentum: 0.8 }), new ReLU(),
    new Flatten(), new Dense(3, { kernelInitializer }),
  ]);
}

function data(): { x: Tensor; y: Tensor } {
  const rng = new Random(1);
  const x = new Float32Array(48 * 5 * 5 * 2).map(() => rng.normal() + 3);
  const y = new Float32Array(48 * 3);
  for (let i = 0; i < 48; i++) y[i * 3 + (i % 3)] = 1;
  return { x: new Tensor(x, [48, 5, 5, 2]), y: new Tensor(y, [48, 3]) };
}

describe('checkpoint round trip with a trained BN model', () => {
  it('a fresh model loaded from the file predicts bit-identically', () => {
    const trained = net();
    const d = data();
    const optimizer = new Adam({ learningRate: 0.01 });
    fit(trained, d, { optimizer, loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 3, seed: 2 });
    expect(trained.stateDict().get('bn1/movingMean')!.data.some((v) => v !== 0)).toBe(true);
    const file = join(dir, 'trained.safetensors');
    saveCheckpoint(trained, file, { optimizer });

    const fresh = net(99); // other initial weights
    predict(fresh, sliceRows(d.x, 0, 2)); // build
    expect(predict(fresh, d.x).data).not.toEqual(predict(trained, d.x).data);
    loadCheckpoint(fresh, file);
    expect(predict(fresh, d.x).data).toEqual(predict(trained, d.x).data);
  });

  it('without the moving statistics the predictions would differ (they matter)', () => {
    const trained = net();
    const d = data();
    fit(trained, d, { optimizer: new Adam({ learningRate: 0.01 }), loss: softmaxCrossEntropyWithLogits, batchSize: 8, epochs: 2, seed: 3 });
    const before = predict(trained, d.x).data;
    const bn = trained.layers[1] as BatchNorm;
    bn.movingMean!.data.fill(0);
    bn.movingVariance!.data.fill(1);
    expect(predict(trained, d.x).data).not.toEqual(before);
  });
});
