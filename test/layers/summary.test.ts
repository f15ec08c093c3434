/**
 * summary() and countParams(), checked against counts made by hand from the
 * architecture (not from the library's tensors).
 */
import { describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Dense, Layer, ReLU, Sequential, Tensor, add, randomNormal } from '../../src/index.js';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';

/** The lesson network by hand: conv i has 4i filters of 3x3 over the previous 4(i-1) channels (1 for the image). */
function lessonCounts(): { total: number; trainable: number; bn: number[] } {
  let total = 0;
  let trainable = 0;
  const bn: number[] = [];
  for (let i = 1; i <= 19; i++) {
    const cin = i === 1 ? 1 : 4 * (i - 1);
    const conv = 3 * 3 * cin * 4 * i;
    total += conv + 4 * 4 * i; // BN: gamma, beta (trainable), moving mean, moving variance (not)
    trainable += conv + 2 * 4 * i;
    bn.push(4 * 4 * i);
  }
  // 28 -> 14 -> 7 -> 4 -> 2 -> 1 -> 1 with SAME padding: flatten gives 76 features.
  total += 76 * 100 + 4 * 100 + 100 * 10 + 10;
  trainable += 76 * 100 + 2 * 100 + 100 * 10 + 10;
  bn.push(400);
  return { total, trainable, bn };
}

describe('the lesson network under the tree walk', () => {
  it('keeps its checkpoint names', () => {
    const model = lessonNetwork({ batchNorm: true, seed: 1 });
    model.call(randomNormal([1, 28, 28, 1], { seed: 1 }), { isTraining: false });
    const bn = (i: number): string[] => ['gamma', 'beta', 'movingMean', 'movingVariance'].map((k) => `bn${i}/${k}`);
    const want: string[] = [];
    for (let i = 1; i <= 19; i++) want.push(`conv${i}/kernel`, ...bn(i));
    want.push('dense1/kernel', ...bn(20), 'dense2/kernel', 'dense2/bias');
    expect([...model.stateDict().keys()]).toEqual(want);
  });
});

describe('summary', () => {
  it('lists the lesson network with its 20 BN layers, their counts, and totals that match a hand count', () => {
    const model = lessonNetwork({ batchNorm: true, seed: 1 });
    expect(() => model.summary()).toThrow(/is not built; call the model once, or pass \{ inputShape \}/);
    const text = model.summary({ inputShape: [28, 28, 1] });
    const hand = lessonCounts();
    const bnRows = text.split('\n').filter((l) => /^bn\d+ /.test(l));
    expect(bnRows.length).toBe(20);
    bnRows.forEach((row, i) => {
      expect(row.startsWith(`bn${i + 1} `)).toBe(true);
      expect(row.trim().split(/\s+/).at(-1)).toBe(String(hand.bn[i]));
    });
    expect(text).toMatch(/^conv1 +conv +\[\?, 28, 28, 4\] +36$/m);
    expect(text).toMatch(/^conv3 +conv +\[\?, 14, 14, 12\] +/m);
    expect(text).toMatch(/^flatten1 +flatten +\[\?, 76\] +0$/m);
    expect(text).toMatch(/^dense2 +dense +\[\?, 10\] +1010$/m);
    expect(text).toContain(`Total params: ${hand.total}`);
    expect(text).toContain(`Trainable params: ${hand.trainable}`);
    expect(text).toContain(`Non-trainable params: ${hand.total - hand.trainable}`);
    expect(model.countParams()).toBe(hand.total);
    // The dry call is an inference call: no moving statistic moved.
    for (const [name, t] of model.namedBuffers()) {
      const init = name.endsWith('movingMean') ? 0 : 1;
      expect(t.data.every((v) => v === init), name).toBe(true);
    }
  });

  it('indents a composite and counts frozen weights as non-trainable', () => {
    class Block extends Layer {
      readonly kind = 'block';
      dense = new Dense(3, { useBias: false });
      bn = new BatchNorm();
      constructor(name: string) {
        super(name);
      }
      protected forward(x: Tensor, isTraining: boolean): Tensor {
        return add(x, this.bn.call(this.dense.call(x, { isTraining }), { isTraining }));
      }
    }
    const block = new Block('res');
    const model = new Sequential([new Dense(3), new ReLU(), block]);
    model.call(randomNormal([4, 2], { seed: 3 }), { isTraining: false });
    block.trainable = false;
    const text = model.summary();
    expect(text).toMatch(/^res +block +\[\?, 3\] +21$/m); // 9 + 12
    expect(text).toMatch(/^ {2}res\/dense +dense +\[\?, 3\] +9$/m);
    expect(text).toMatch(/^ {2}res\/bn +bn +\[\?, 3\] +12$/m);
    expect(text).toMatch(/^relu1 +relu +\[\?, 3\] +0$/m); // ReLU ran fused into dense1: its shape is still known
    expect(text).toContain('Total params: 30');
    expect(text).toContain('Trainable params: 9');
    expect(text).toContain('Non-trainable params: 21');
    expect(model.countParams()).toBe(30);
    expect(() => model.summary({ inputShape: [0] })).toThrow(/inputShape must be an array of positive integers/);
    expect(() => model.summary({ shape: [2] } as never)).toThrow(/shape/);
  });
});
