/**
 * Pooling layers and ops: hand-worked values (TF SAME with the odd pad at
 * the bottom/right, the average over valid cells only), layer == op bit for
 * bit, Keras defaults (pool 2, strides = pool, 'valid'), gradients flowing
 * through a Sequential, NaN propagation, and every refusal naming the op or
 * layer and the shapes.
 */
import { describe, expect, it } from 'vitest';
import {
  AvgPool2d, Dense, Flatten, GlobalAvgPool2d, GlobalMaxPool2d, MaxPool2d, Sequential, Tensor,
  avgPool2d, globalAvgPool2d, globalMaxPool2d, maxPool2d, zeros,
} from '../../src/index.js';
import { expectClose, uniform } from '../helpers.js';

const INFER = { isTraining: false };

/** A [1, h, w, 1] tensor holding 1, 2, 3, ... row by row. */
function ramp(h: number, w: number): Tensor {
  return new Tensor(Float32Array.from({ length: h * w }, (_, i) => i + 1), [1, h, w, 1]);
}

describe('hand-worked values', () => {
  // ramp(3, 3) = [[1,2,3],[4,5,6],[7,8,9]]; pool 2, stride 2, SAME: out 2x2, pad 0 before and 1 after.
  it('SAME pool 2 stride 2 on 3x3: the odd pad at the bottom/right; avg over the valid cells', () => {
    expect(Array.from(maxPool2d(ramp(3, 3), 2, { padding: 'same' }).data)).toEqual([5, 6, 8, 9]);
    expectClose(avgPool2d(ramp(3, 3), 2, { padding: 'same' }).data, [(1 + 2 + 4 + 5) / 4, (3 + 6) / 2, (7 + 8) / 2, 9], { atol: 0 });
  });

  // pool 3 stride 1 SAME on 3x3: pad 1 on each side; the corner window holds 4 cells, the edge 6, the centre 9.
  it('SAME pool 3 stride 1: corner, edge and centre divisors 4, 6, 9', () => {
    const y = avgPool2d(ramp(3, 3), 3, { strides: 1, padding: 'same' }).data;
    expectClose(y, [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7], { atol: 1e-6 });
    expect(Array.from(maxPool2d(ramp(3, 3), 3, { strides: 1, padding: 'same' }).data)).toEqual([5, 6, 6, 8, 9, 9, 8, 9, 9]);
  });

  it('stride larger than the pool skips cells; VALID drops the incomplete windows', () => {
    // ramp(5, 5), pool 2, stride 3, VALID: windows at rows/cols 0 and 3.
    expect(Array.from(maxPool2d(ramp(5, 5), 2, { strides: 3 }).data)).toEqual([7, 10, 22, 25]);
  });

  it('global pooling: [n,h,w,c] -> [n,c]', () => {
    const x = uniform([2, 3, 5, 4], 3);
    const gmax = globalMaxPool2d(x);
    const gavg = globalAvgPool2d(x);
    expect(gmax.shape).toEqual([2, 4]);
    expect(gavg.shape).toEqual([2, 4]);
    for (let b = 0; b < 2; b++) for (let c = 0; c < 4; c++) {
      const cells = Array.from({ length: 15 }, (_, i) => x.data[(b * 15 + i) * 4 + c]!);
      expect(gmax.data[b * 4 + c]).toBe(Math.max(...cells));
      expectClose([gavg.data[b * 4 + c]!], [cells.reduce((a, v) => a + v, 0) / 15], { atol: 1e-7 });
    }
  });

  it('NaN propagates through a window and not into the others', () => {
    const x = ramp(2, 4);
    x.data[1] = NaN;
    expect(Array.from(maxPool2d(x, 2).data).map(Number.isNaN)).toEqual([true, false]);
    expect(Array.from(avgPool2d(x, 2).data).map(Number.isNaN)).toEqual([true, false]);
  });
});

describe('layers', () => {
  const x = uniform([2, 9, 7, 3], 5);

  it('equal their ops bit for bit, with Keras defaults (pool 2, strides = pool, valid)', () => {
    expect(new MaxPool2d().call(x, INFER).data).toEqual(maxPool2d(x, 2, { strides: 2, padding: 'valid' }).data);
    expect(new MaxPool2d().call(x, INFER).shape).toEqual([2, 4, 3, 3]);
    expect(new AvgPool2d(3, { strides: 2, padding: 'same' }).call(x, INFER).data).toEqual(avgPool2d(x, 3, { strides: 2, padding: 'same' }).data);
    expect(new AvgPool2d({ poolSize: [2, 3], strides: 1 }).call(x, INFER).data).toEqual(avgPool2d(x, [2, 3], { strides: 1 }).data);
    expect(new GlobalMaxPool2d().call(x, INFER).data).toEqual(globalMaxPool2d(x).data);
    expect(new GlobalAvgPool2d().call(x, INFER).data).toEqual(globalAvgPool2d(x).data);
    const layer = new MaxPool2d([3, 2], { padding: 'same' });
    expect([layer.poolSize, layer.strides, layer.padding]).toEqual([[3, 2], [3, 2], 'same']);
  });

  it('have no parameters, are built from the start, and pass gradients in a Sequential', () => {
    const model = new Sequential([new MaxPool2d(), new AvgPool2d({ poolSize: 2, padding: 'same' }), new Flatten(), new Dense(2)]);
    expect(model.layers.map((l) => l.kind)).toEqual(['maxPool', 'avgPool', 'flatten', 'dense']);
    const input = uniform([2, 9, 7, 3], 6).requireGrad();
    const y = model.call(input, { isTraining: true });
    y.backward({ grad: Float32Array.from({ length: y.size }, (_, i) => i - 1.5) });
    expect(model.parameters().length).toBe(2); // the Dense kernel and bias only
    expect(input.grad!.data.some((v) => v !== 0)).toBe(true);
    const gm = new GlobalMaxPool2d();
    expect(gm.isBuilt).toBe(true);
    expect(gm.parameters()).toEqual([]);
  });
});

describe('bad input names the op or layer and the shapes', () => {
  it('a pool that does not fit, a wrong rank, bad options', () => {
    expect(() => maxPool2d(zeros([1, 2, 2, 1]), 3)).toThrow('maxPool2d: pool 3x3 with VALID padding does not fit input 2x2 (input [1,2,2,1])');
    expect(() => new AvgPool2d(3, { name: 'pool1' }).call(zeros([1, 2, 5, 1]), INFER)).toThrow('pool1: pool 3x3 with VALID padding does not fit input 2x5');
    expect(() => avgPool2d(zeros([2, 3, 4]), 2)).toThrow('avgPool2d: input [2,3,4] must have rank 4');
    expect(() => new MaxPool2d().call(zeros([2, 4]), INFER)).toThrow('maxPool: expected input of rank 4, got [2,4]');
    expect(() => globalAvgPool2d(zeros([3]))).toThrow('globalAvgPool2d: input [3] must have rank 4');
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), 2, { stride: 2 } as object)).toThrow("maxPool2d: unknown option 'stride' (did you mean 'strides'?)");
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), 0)).toThrow('maxPool2d: poolSize must be a positive integer or a [height, width] pair of them, got 0');
    expect(() => avgPool2d(zeros([1, 4, 4, 1]), 2, { padding: 'full' as 'same' })).toThrow("avgPool2d: unknown padding 'full'");
    expect(() => maxPool2d(zeros([1, 4, 4, 1]), 2, { strides: [1, 0] })).toThrow('maxPool2d: strides must be a positive integer or a pair of them, got [1,0]');
    expect(() => maxPool2d(zeros([1, 0, 4, 1]), 2)).toThrow('maxPool2d: input [1,0,4,1] has height 0');
    expect(() => new MaxPool2d(2, { pool: 3 } as object)).toThrow("MaxPool2d: unknown option 'pool' (did you mean 'poolSize'?)");
    expect(() => new AvgPool2d(2, { poolSize: 3 })).toThrow('AvgPool2d: poolSize given twice');
    expect(() => new AvgPool2d({ poolSize: 3 }, { strides: 1 })).toThrow('AvgPool2d: options given twice; pass new AvgPool2d(poolSize, options) or new AvgPool2d(options)');
    expect(() => new MaxPool2d(2, { padding: 'full' as 'same' })).toThrow("MaxPool2d: padding must be one of 'same', 'valid'");
    expect(() => new MaxPool2d(2, { strides: 1.5 })).toThrow('MaxPool2d: strides must be a positive integer or a pair of them, got 1.5');
    expect(() => new MaxPool2d([2, 2, 2] as unknown as number)).toThrow('MaxPool2d: poolSize must be a positive integer or a [height, width] pair of them, got [2,2,2]');
    expect(() => new GlobalMaxPool2d({ keepDims: true } as object)).toThrow("GlobalMaxPool2d: unknown option 'keepDims'");
    expect(() => maxPool2d([1, 2] as unknown as Tensor, 2)).toThrow('maxPool2d: expected an input Tensor, got [1,2]');
  });

  it('an empty batch pools to an empty batch', () => {
    expect(maxPool2d(zeros([0, 4, 4, 2]), 2).shape).toEqual([0, 2, 2, 2]);
  });
});
