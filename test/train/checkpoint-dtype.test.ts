/** Checkpoints written as F16/BF16: smaller files that load back as the rounded values. */
import { describe, expect, it } from 'vitest';
import { BatchNorm, Conv2d, Dense, Flatten, ReLU, Sequential } from '../../src/index.js';
import { fromBytes, toBytes } from '../../src/train/checkpoint.js';
import { decodeSafetensors } from '../../src/train/safetensors.js';
import { float16BitsToFloat32, float32ToBfloat16Bits, float32ToFloat16Bits, bfloat16BitsToFloat32 } from '../../src/train/safetensors-dtypes.js';
import { uniform } from '../helpers.js';

function model(): Sequential {
  const m = new Sequential([new Conv2d(3, 3, { padding: 'same' }), new BatchNorm(), new ReLU(), new Flatten(), new Dense(4)]);
  m.call(uniform([2, 5, 5, 2], 1), { isTraining: true }); // builds the weights and moves the statistics
  return m;
}

describe('checkpoint dtype', () => {
  for (const [dtype, round] of [
    ['F16', (v: number) => float16BitsToFloat32(float32ToFloat16Bits(v)!)],
    ['BF16', (v: number) => bfloat16BitsToFloat32(float32ToBfloat16Bits(v)!)],
  ] as const) {
    it(`${dtype}: every model tensor is stored as ${dtype} and loads as its rounded value`, () => {
      const source = model();
      const bytes = toBytes(source, { dtype });
      expect(new Set([...decodeSafetensors(bytes).tensors.values()].map((t) => t.dtype))).toEqual(new Set([dtype]));
      expect(bytes.length).toBeLessThan(toBytes(source).length);
      const target = model();
      target.layers.forEach((l) => l.stateDict().forEach((t) => t.data.fill(7)));
      fromBytes(target, bytes);
      for (const [name, t] of source.stateDict()) {
        expect(Array.from(target.stateDict().get(name)!.data), name).toEqual(Array.from(t.data, round));
      }
    });
  }

  it('refuses a dtype other than F32, F16 and BF16', () => {
    expect(() => toBytes(model(), { dtype: 'I64' as never })).toThrow(/^toBytes: dtype must be one of 'F32', 'F16', 'BF16', got 'I64'/);
  });
});
