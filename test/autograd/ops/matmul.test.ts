/**
 * matmul: values against the naive triple loop (atol 1e-5, rtol 1e-4 on
 * inputs in [-1, 1)), gradients by finite differences (gradcheck's defaults:
 * eps 1e-3, |analytic - numeric| <= 1e-3 + 1e-2 |numeric|), and the error
 * messages.
 */
import { describe, expect, it } from 'vitest';
import { matmul } from '../../../src/autograd/ops/matmul.js';
import { gradcheck } from '../../../src/autograd/gradcheck.js';
import { backward } from '../../../src/autograd/graph.js';
import { Tensor } from '../../../src/tensor/tensor.js';
import { expectClose } from '../../helpers.js';
import { naiveGemm, rand } from '../../tensor/kernels/reference.js';

const ATOL = 1e-5;
const RTOL = 1e-4;
const GRADCHECK = { atol: 1e-3, rtol: 1e-2 };

const t = (shape: number[], seed: number): Tensor => new Tensor(rand(shape.reduce((p, d) => p * d, 1), seed), shape);

/** Reference batched product: matrix by matrix, batch dims broadcast by hand. */
function naiveBatched(a: Tensor, b: Tensor): { data: Float64Array; shape: number[] } {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape[b.rank - 1]!;
  const ab = a.shape.slice(0, -2), bb = b.shape.slice(0, -2);
  const rank = Math.max(ab.length, bb.length);
  const pa = [...Array<number>(rank - ab.length).fill(1), ...ab];
  const pb = [...Array<number>(rank - bb.length).fill(1), ...bb];
  const batch = pa.map((d, i) => (d === 1 ? pb[i]! : d));
  const count = batch.reduce((p, d) => p * d, 1);
  const out = new Float64Array(count * m * n);
  for (let e = 0; e < count; e++) {
    const idx: number[] = [];
    for (let d = rank - 1, r = e; d >= 0; d--) {
      idx[d] = r % batch[d]!;
      r = Math.floor(r / batch[d]!);
    }
    const flat = (own: number[]) => idx.reduce((o, i, d) => o * own[d]! + (own[d] === 1 ? 0 : i), 0);
    const am = a.data.subarray(flat(pa) * m * k, (flat(pa) + 1) * m * k);
    const bm = b.data.subarray(flat(pb) * k * n, (flat(pb) + 1) * k * n);
    out.set(naiveGemm(am, bm, m, k, n, false, false), e * m * n);
  }
  return { data: out, shape: [...batch, m, n] };
}

describe('matmul', () => {
  it('a hand-worked 2x2 product', () => {
    const y = matmul(new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2]), new Tensor(Float32Array.of(5, 6, 7, 8), [2, 2]));
    expect(y.shape).toEqual([2, 2]);
    expect(y.toArray()).toEqual([[19, 22], [43, 50]]);
  });

  const SHAPES: [number[], number[]][] = [
    [[1, 1], [1, 1]],
    [[7, 13], [13, 5]],
    [[3, 4], [4, 1]],
    [[2, 3, 4], [2, 4, 5]],
    [[2, 3, 4], [4, 5]],
    [[3, 4], [2, 4, 5]],
    [[2, 1, 3, 4], [3, 4, 2]],
    [[1, 3, 2], [5, 2, 3]],
    [[0, 3, 2], [2, 4]],
  ];
  for (const [as, bs] of SHAPES) {
    it(`[${as}] x [${bs}] matches the naive loop`, () => {
      const a = t(as, 1);
      const b = t(bs, 2);
      const ref = naiveBatched(a, b);
      const y = matmul(a, b);
      expect(y.shape).toEqual(ref.shape);
      expectClose(y.data, ref.data, { atol: ATOL, rtol: RTOL });
    });
  }

  it('gradcheck, 2-D', () => {
    expect(gradcheck(matmul, [t([3, 4], 3), t([4, 5], 4)], GRADCHECK).ok).toBe(true);
    expect(gradcheck(matmul, [t([1, 7], 5), t([7, 1], 6)], GRADCHECK).ok).toBe(true);
  });

  it('gradcheck, batched with equal batch dims', () => {
    expect(gradcheck(matmul, [t([2, 3, 4], 7), t([2, 4, 2], 8)], GRADCHECK).ok).toBe(true);
  });

  it('gradcheck, broadcast batch dims (a shared matrix gets the summed gradient)', () => {
    expect(gradcheck(matmul, [t([2, 1, 3, 4], 9), t([3, 4, 2], 10)], GRADCHECK).ok).toBe(true);
    expect(gradcheck(matmul, [t([3, 4], 11), t([2, 4, 3], 12)], GRADCHECK).ok).toBe(true);
    expect(gradcheck(matmul, [t([2, 3, 4], 13), t([4, 3], 14)], GRADCHECK).ok).toBe(true);
  });

  it('dA = dY·B^T and dB = A^T·dY on a hand-worked case', () => {
    // A = [[1,2],[3,4]], B = [[5,6],[7,8]], dY = [[1,0],[0,1]]: dA = B^T = [[5,7],[6,8]], dB = A^T = [[1,3],[2,4]].
    const a = new Tensor(Float32Array.of(1, 2, 3, 4), [2, 2]).requireGrad();
    const b = new Tensor(Float32Array.of(5, 6, 7, 8), [2, 2]).requireGrad();
    backward(matmul(a, b), { grad: Float32Array.of(1, 0, 0, 1) });
    expect(a.grad!.toArray()).toEqual([[5, 7], [6, 8]]);
    expect(b.grad!.toArray()).toEqual([[1, 3], [2, 4]]);
  });

  it('computes only the gradients whose input requires one', () => {
    const pairs: [number[], number[]][] = [[[3, 4], [4, 2]], [[2, 3, 4], [2, 4, 2]], [[2, 3, 4], [4, 2]]];
    for (const [as, bs] of pairs) {
      for (const which of ['a', 'b'] as const) {
        const a = t(as, 15);
        const b = t(bs, 16);
        (which === 'a' ? a : b).requireGrad();
        const y = matmul(a, b);
        const [ga, gb] = y.gradFn!.backward(new Float32Array(y.size).fill(1));
        expect(ga === null, `[${as}] x [${bs}], grad of ${which} only`).toBe(which === 'b');
        expect(gb === null, `[${as}] x [${bs}], grad of ${which} only`).toBe(which === 'a');
      }
    }
  });

  it('names the op and the shapes on bad input', () => {
    expect(() => matmul(t([3, 4], 1), t([5, 2], 2))).toThrow('matmul: [3,4] x [5,2]: inner dimensions 4 and 5 differ');
    expect(() => matmul(t([2, 3, 4], 1), t([5, 4, 2], 2))).toThrow('matmul: [2,3,4] x [5,4,2]: batch dimensions [2] and [5] do not broadcast');
    expect(() => matmul(t([4], 1), t([4, 2], 2))).toThrow('matmul: [4] x [4,2]: both inputs need rank >= 2');
    expect(() => matmul(t([3, 4], 1), t([], 2))).toThrow('matmul: [3,4] x []: both inputs need rank >= 2');
    expect(() => matmul(t([3, 4], 1), [[1]] as unknown as Tensor)).toThrow('matmul: expected two Tensors, got Tensor and object');
  });
});
