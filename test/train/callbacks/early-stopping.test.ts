/**
 * earlyStopping against Keras 3's EarlyStopping (keras/src/callbacks/
 * early_stopping.py, read for these tests): at each epoch end wait += 1; an
 * improvement (min: current + minDelta < best) resets wait and never stops;
 * otherwise stop once wait >= patience and epoch > 0. The expected stopping
 * epochs below are worked by hand from that rule, next to each script.
 */
import { describe, expect, it } from 'vitest';
import { SGD, earlyStopping, fit, fitAsync } from '../../../src/index.js';
import { TRAIN_N, net, sameBits, scriptedLoss, snapshot, train, val } from './scripted.js';

const base = (loss: ReturnType<typeof scriptedLoss>, epochs = 20) =>
  ({ optimizer: new SGD({ learningRate: 0.1 }), loss, batchSize: TRAIN_N, epochs, shuffle: false });

describe('earlyStopping', () => {
  it("stops at Keras' epoch on a scripted training loss (patience 2)", () => {
    // epoch: 0    1    2    3    4    5
    // loss:  5    4    4.5  3    3.5  3.2
    // wait:  0    0    1    0    1    2 -> stop at epoch 5, best epoch 3
    const stopper = earlyStopping({ monitor: 'loss', patience: 2 });
    const h = fit(net(), train(), { ...base(scriptedLoss([5, 4, 4.5, 3, 3.5, 3.2, 1, 1, 1])), callbacks: [stopper] });
    expect(h.stoppedBy).toBe('earlyStopping');
    expect(h.epochs.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(h.steps.length).toBe(6);
    expect(stopper.bestEpoch).toBe(3);
    expect(stopper.stoppedEpoch).toBe(5);
    expect(stopper.best).toBeCloseTo(3, 5);
    // Reused in a second fit, it starts over (Keras resets in on_train_begin): stops at epoch 1 of [2, 2.5].
    const again = fit(net(), train(), { ...base(scriptedLoss([2, 2.5, 3, 4])), callbacks: [earlyStopping({ monitor: 'loss', patience: 1 }), stopper] });
    expect(again.epochs.length).toBe(2);
    expect(stopper.bestEpoch).toBe(0);
    expect(stopper.stoppedEpoch).toBe(-1); // patience 2 had not run out when the other callback stopped it
  });

  it('patience 0 stops at the first epoch without improvement; minDelta makes small gains not count', () => {
    const h0 = fit(net(), train(), { ...base(scriptedLoss([3, 2, 2.5, 1])), callbacks: [earlyStopping({ monitor: 'loss' })] });
    expect(h0.epochs.length).toBe(3);
    // minDelta's sign is ignored (Keras takes abs). 4.95 + 0.1 < 5 is false: no improvement at epoch 1, wait 1 >= patience 1.
    const small = [5, 4.95, 4.9, 4.85, 4.8];
    const hd = fit(net(), train(), { ...base(scriptedLoss(small), 5), callbacks: [earlyStopping({ monitor: 'loss', patience: 1, minDelta: -0.1 })] });
    expect(hd.stoppedBy).toBe('earlyStopping');
    expect(hd.epochs.length).toBe(2);
    // Without minDelta every epoch improves and training completes.
    const hn = fit(net(), train(), { ...base(scriptedLoss(small), 5), callbacks: [earlyStopping({ monitor: 'loss', patience: 1 })] });
    expect(hn.stoppedBy).toBe('completed');
    expect(hn.epochs.length).toBe(5);
  });

  it('a baseline never beaten stops after patience epochs even though epoch 0 "improved"', () => {
    // epoch 0: wait 1, improves on Infinity but not on baseline 1, so wait stays 1; epoch 1: wait 2 >= 2 -> stop.
    const h = fit(net(), train(), { ...base(scriptedLoss([3, 3.5, 4, 5])), callbacks: [earlyStopping({ monitor: 'loss', patience: 2, baseline: 1 })] });
    expect(h.epochs.length).toBe(2);
    expect(h.stoppedBy).toBe('earlyStopping');
  });

  it("watches val_loss in mode 'max' when asked, and startFromEpoch ignores the first epochs", () => {
    // max mode on a falling val loss: epoch 0 is best, epoch 1 does not improve -> stop at 1 (patience 0).
    const h = fit(net(), train(), {
      ...base(scriptedLoss(Array(10).fill(1), [9, 8, 7, 6])), validationData: val(),
      callbacks: [earlyStopping({ mode: 'max' })],
    });
    expect(h.epochs.length).toBe(2);
    expect(h.epochs[1]!.validation!.loss).toBeCloseTo(8, 5);
    // startFromEpoch 2: epochs 0 and 1 are not watched; epoch 2 is the first best, 3 stops.
    const h2 = fit(net(), train(), {
      ...base(scriptedLoss(Array(10).fill(1), [9, 10, 11, 12, 13])), validationData: val(),
      callbacks: [earlyStopping({ monitor: 'val_loss', startFromEpoch: 2 })],
    });
    expect(h2.epochs.length).toBe(4);
  });

  it('restoreBestWeights puts back the exact stateDict (parameters and moving statistics) of the best epoch', () => {
    const model = net();
    const seen: Map<string, Float32Array>[] = [];
    const stopper = earlyStopping({ monitor: 'val_loss', patience: 2, restoreBestWeights: true });
    const h = fit(model, train(), {
      ...base(scriptedLoss(Array(20).fill(1), [5, 4, 4.5, 3, 3.5, 3.2])), validationData: val(),
      callbacks: [{ onEpochEnd: () => void seen.push(snapshot(model)) }, stopper],
    });
    expect(h.stoppedBy).toBe('earlyStopping');
    expect(seen.length).toBe(6);
    expect(stopper.bestEpoch).toBe(3);
    // The state at the end differed from the best one (training went on), moving statistics included ...
    expect(sameBits(seen[5]!, seen[3]!)).toBe(false);
    expect(seen[5]!.get('bn1/movingMean')).not.toEqual(seen[3]!.get('bn1/movingMean'));
    // ... and the model now holds the best epoch's bits, every entry.
    expect([...model.stateDict().keys()]).toContain('bn1/movingVariance');
    expect(sameBits(snapshot(model), seen[3]!)).toBe(true);
  });

  it('restores the best epoch also when training completes without stopping (Keras 3 restores in on_train_end)', () => {
    const model = net();
    const seen: Map<string, Float32Array>[] = [];
    const h = fit(model, train(), {
      ...base(scriptedLoss([4, 2, 3, 3.5]), 4),
      callbacks: [{ onEpochEnd: () => void seen.push(snapshot(model)) }, earlyStopping({ monitor: 'loss', patience: 5, restoreBestWeights: true })],
    });
    expect(h.stoppedBy).toBe('completed');
    expect(sameBits(snapshot(model), seen[1]!)).toBe(true);
    expect(sameBits(snapshot(model), seen[3]!)).toBe(false);
  });

  it('works the same with fitAsync', async () => {
    const stopper = earlyStopping({ monitor: 'val_loss', patience: 1, restoreBestWeights: true });
    const model = net();
    const seen: Map<string, Float32Array>[] = [];
    const h = await fitAsync(model, train(), {
      ...base(scriptedLoss(Array(10).fill(1), [3, 2, 2.5, 1])), validationData: val(), yieldEveryMs: 0,
      callbacks: [{ onEpochEnd: () => void seen.push(snapshot(model)) }, stopper],
    });
    expect(h.stoppedBy).toBe('earlyStopping');
    expect(h.epochs.length).toBe(3);
    expect(sameBits(snapshot(model), seen[1]!)).toBe(true);
  });

  it('checks its options and its monitor, naming itself', () => {
    expect(() => earlyStopping({ patients: 3 } as never)).toThrow(/earlyStopping: unknown option 'patients' \(did you mean 'patience'\?\)/);
    expect(() => earlyStopping({ patience: -1 })).toThrow(/earlyStopping: patience must be an integer >= 0/);
    expect(() => earlyStopping({ mode: 'down' as never })).toThrow(/earlyStopping: mode must be one of 'min', 'max', 'auto'/);
    expect(() => earlyStopping({ monitor: 'f1' })).toThrow(/earlyStopping: mode 'auto' cannot tell whether 'f1'/);
    expect(earlyStopping({ monitor: 'val_accuracy' }).mode).toBe('max');
    expect(earlyStopping({ monitor: 'val_loss' }).mode).toBe('min');
    // val_loss with no validationData: refused before the first step.
    const model = net();
    expect(() => fit(model, train(), { ...base(scriptedLoss([1])), callbacks: [earlyStopping()] })).toThrow(/earlyStopping: monitor 'val_loss' needs fit's validationData/);
    expect(() => fit(net(), train(), { ...base(scriptedLoss([1]), 1), validationData: val(), metrics: ['accuracy'], callbacks: [earlyStopping({ monitor: 'val_acc', mode: 'max' })] }))
      .toThrow(/earlyStopping: monitor 'val_acc' is not reported by this fit \(did you mean 'val_accuracy'\?\); available: loss, accuracy, val_loss, val_accuracy/);
  });
});
