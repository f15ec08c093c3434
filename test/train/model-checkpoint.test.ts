/**
 * modelCheckpoint against Keras' ModelCheckpoint (save_freq='epoch'): every
 * epoch without saveBestOnly; with it, only epochs whose monitor beats the
 * best saved so far (strictly). `{epoch}` is 1-based as in Keras. Every file
 * must load back into a fresh model bit-identical to the state at its epoch.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Adam, SGD, fit, fitAsync, loadCheckpoint, modelCheckpoint, noGrad, readSafetensors } from '../../src/node.js';
import { TRAIN_N, net, sameBits, scriptedLoss, snapshot, train, val } from './callbacks/scripted.js';

let dir: string;
beforeEach(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'normgrad-model-checkpoint-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const built = () => {
  const m = net();
  noGrad(() => m.call(train().x, { isTraining: false }));
  return m;
};
const options = (valScript: number[], epochs: number) => ({
  optimizer: new SGD({ learningRate: 0.1 }), loss: scriptedLoss(Array(epochs).fill(1), valScript),
  batchSize: TRAIN_N, epochs, shuffle: false, validationData: val(),
});

describe('modelCheckpoint', () => {
  it('with saveBestOnly writes only the improving epochs, each loading back bit-identically', () => {
    const model = net();
    const seen: Map<string, Float32Array>[] = [];
    // val_loss: 5, 3, 4, 2, 6 -> improvements at epochs 0, 1, 3 -> files 1, 2, 4 (1-based).
    const cb = modelCheckpoint(path.join(dir, 'model-{epoch}.safetensors'), { saveBestOnly: true });
    fit(model, train(), { ...options([5, 3, 4, 2, 6], 5), callbacks: [{ onEpochEnd: () => void seen.push(snapshot(model)) }, cb] });
    expect(fs.readdirSync(dir).sort()).toEqual(['model-1.safetensors', 'model-2.safetensors', 'model-4.safetensors']);
    expect(cb.saved.map((s) => s.epoch)).toEqual([0, 1, 3]);
    for (const epoch of [0, 1, 3]) {
      const fresh = built();
      expect(sameBits(snapshot(fresh), seen[epoch]!)).toBe(false);
      loadCheckpoint(fresh, path.join(dir, `model-${epoch + 1}.safetensors`));
      expect(sameBits(snapshot(fresh), seen[epoch]!)).toBe(true);
    }
  });

  it('a path without {epoch} ends holding the best epoch; without saveBestOnly every epoch is written', async () => {
    const model = net();
    const seen: Map<string, Float32Array>[] = [];
    const best = path.join(dir, 'best.safetensors');
    await fitAsync(model, train(), {
      ...options([5, 3, 4, 2, 6], 5), yieldEveryMs: 0,
      callbacks: [{ onEpochEnd: () => void seen.push(snapshot(model)) }, modelCheckpoint(best, { saveBestOnly: true }), modelCheckpoint(path.join(dir, 'every-{epoch:03d}.safetensors'))],
    });
    const fresh = built();
    loadCheckpoint(fresh, best);
    expect(sameBits(snapshot(fresh), seen[3]!)).toBe(true);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('every-')).sort()).toEqual([1, 2, 3, 4, 5].map((e) => `every-00${e}.safetensors`));
  });

  it("mode 'max' on a metric, and saveOptimizer stores the optimizer's state for resuming", () => {
    const model = net();
    const adam = new Adam({ learningRate: 0.01 });
    // A scripted "score" metric on the validation set: 0.2, 0.5, 0.4, 0.7 -> saves at epochs 0, 1, 3.
    const scores = [0.2, 0.5, 0.4, 0.7];
    let v = 0;
    const score = { name: 'score', fn: (y: { shape: readonly number[] }) => (y.shape[0] === TRAIN_N ? 0 : scores[v++]!) };
    const cb = modelCheckpoint(path.join(dir, 'm{epoch}.safetensors'), { monitor: 'val_score', mode: 'max', saveBestOnly: true, saveOptimizer: true });
    fit(model, train(), { ...options([1, 1, 1, 1], 4), optimizer: adam, metrics: [score], callbacks: [cb] });
    expect(cb.saved.map((s) => [s.epoch, s.value])).toEqual([[0, 0.2], [1, 0.5], [3, 0.7]]);
    const names = [...readSafetensors(fs.readFileSync(path.join(dir, 'm4.safetensors'))).tensors.keys()];
    expect(names.some((n) => n.startsWith('optimizer/'))).toBe(true);
    // Epoch 3 is the last, so the live Adam state is the saved one: it loads back bit-identically.
    const resumed = new Adam({ learningRate: 0.01 });
    const fresh = built();
    loadCheckpoint(fresh, path.join(dir, 'm4.safetensors'), { optimizer: resumed });
    const slots = (o: Adam, m: ReturnType<typeof net>) => {
      const byTensor = new Map([...m.stateDict()].map(([k, t]) => [t, k]));
      return new Map([...o.stateDict(byTensor)].map(([k, t]) => [k, Float32Array.from(t.data)]));
    };
    expect(slots(adam, model).size).toBeGreaterThan(1);
    expect(sameBits(slots(resumed, fresh), slots(adam, model))).toBe(true);
  });

  it('checks its path and options, naming itself', () => {
    expect(() => modelCheckpoint(path.join(dir, 'x.safetensors'), { saveBest: true } as never)).toThrow(/modelCheckpoint: unknown option 'saveBest' \(did you mean 'saveBestOnly'\?\)/);
    expect(() => modelCheckpoint(path.join(dir, 'x-{val_loss:.2f}.safetensors'))).toThrow(/modelCheckpoint: path .* has '\{val_loss:.2f\}'; the only placeholder is \{epoch\}/);
    expect(() => modelCheckpoint('')).toThrow(/modelCheckpoint: path must be a file name/);
    expect(() => modelCheckpoint('x', { monitor: 'f1', saveBestOnly: true })).toThrow(/modelCheckpoint: mode 'auto' cannot tell/);
    expect(() => fit(net(), train(), { ...options([1], 1), validationData: undefined, callbacks: [modelCheckpoint(path.join(dir, 'x'), { saveBestOnly: true })] }))
      .toThrow(/modelCheckpoint: monitor 'val_loss' needs fit's validationData/);
    const bare = { step: () => {} };
    expect(() => fit(net(), train(), { ...options([1], 1), optimizer: bare, callbacks: [modelCheckpoint(path.join(dir, 'x'), { saveOptimizer: true })] }))
      .toThrow(/modelCheckpoint: saveOptimizer needs an optimizer with stateDict/);
    expect(fs.readdirSync(dir)).toEqual([]);
    // A write that fails names saveCheckpoint and the path.
    expect(() => fit(net(), train(), { ...options([1], 1), callbacks: [modelCheckpoint(path.join(dir, 'no-such-dir', 'x'))] })).toThrow(/saveCheckpoint: cannot write/);
  });
});
