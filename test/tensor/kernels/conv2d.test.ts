/**
 * conv2d kernels (im2col + gemm forward, col2im input gradient, im2col^T
 * kernel gradient) against the direct 7-loop convolution in float64, and the
 * SAME/VALID geometry against hand-worked cases. Inputs uniform in [-1, 1);
 * sums of at most a few hundred products, compared with atol 1e-5, rtol 1e-4.
 */
import { describe, expect, it } from 'vitest';
import {
  conv2dBackwardInput, conv2dBackwardKernel, conv2dForward, conv2dGeometry, type Padding,
} from '../../../src/tensor/kernels/conv2d.js';
import { backend, setBackend } from '../../../src/tensor/kernels/backend.js';
import { expectClose } from '../../helpers.js';
import { naiveConv, rand, type RefConv } from './reference.js';

const ATOL = 1e-5;
const RTOL = 1e-4;

type Case = [x: [number, number, number, number], k: [number, number, number, number], strides: number | [number, number], padding: Padding];

const CASES: Case[] = [
  [[2, 5, 5, 3], [3, 3, 3, 4], 1, 'same'], // odd input
  [[2, 6, 6, 3], [3, 3, 3, 4], 2, 'same'], // even input, stride 2
  [[1, 7, 4, 2], [2, 3, 2, 5], [2, 1], 'same'], // non-square kernel and strides
  [[1, 7, 4, 2], [2, 3, 2, 5], [1, 2], 'valid'],
  [[3, 8, 7, 1], [4, 2, 1, 3], 2, 'valid'],
  [[2, 5, 6, 2], [5, 6, 2, 3], 1, 'valid'], // 1x1 output
  [[2, 5, 6, 2], [5, 6, 2, 3], 3, 'same'],
  [[1, 4, 4, 1], [3, 3, 1, 1], 2, 'same'], // pad top/left 0, bottom/right 1
  [[2, 3, 5, 7], [1, 1, 7, 3], 1, 'same'], // pointwise: no im2col
  [[2, 3, 5, 7], [1, 1, 7, 3], 1, 'valid'],
  [[1, 5, 5, 2], [1, 1, 2, 3], 2, 'same'], // 1x1 kernel, strided
  [[1, 2, 3, 2], [5, 5, 2, 2], 1, 'same'], // kernel larger than the input
  [[1, 9, 9, 2], [2, 2, 2, 3], 3, 'valid'], // stride larger than the kernel: skipped pixels
  [[1, 6, 6, 16], [3, 3, 16, 8], 1, 'same'], // many channels
  [[1, 11, 13, 3], [3, 3, 3, 2], 2, 'same'], // odd sizes, stride 2
  [[1, 1, 1, 1], [1, 1, 1, 1], 1, 'valid'],
];

function refOf([n, h, w, cin]: Case[0], [kh, kw, , cout]: Case[1], strides: Case[2], padding: Padding): RefConv {
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  return { n, h, w, cin, kh, kw, cout, sh, sw, padding };
}

const size = (s: readonly number[]): number => s.reduce((p, d) => p * d, 1);

describe('conv2d kernels', () => {
  CASES.forEach(([xs, ks, strides, padding], i) => {
    it(`x [${xs}] k [${ks}] strides ${JSON.stringify(strides)} ${padding}: forward and both gradients`, () => {
      const g = conv2dGeometry(xs, ks, strides, padding);
      const x = rand(size(xs), 10 + i);
      const k = rand(size(ks), 20 + i);
      const gy = rand(g.n * g.oh * g.ow * g.cout, 30 + i);
      const ref = naiveConv(x, k, refOf(xs, ks, strides, padding), gy);
      expect([g.n, g.oh, g.ow, g.cout]).toEqual(ref.shape);
      expectClose(conv2dForward(x, k, g), ref.y, { atol: ATOL, rtol: RTOL });
      expectClose(conv2dBackwardInput(gy, k, g), ref.gx, { atol: ATOL, rtol: RTOL });
      expectClose(conv2dBackwardKernel(x, gy, g), ref.gk, { atol: ATOL, rtol: RTOL });
    });
  });

  for (const chunkRows of [1, 3, 7, 1000]) {
    it(`gives the same result in chunks of ${chunkRows} output positions`, () => {
      const xs: Case[0] = [3, 5, 4, 2];
      const ks: Case[1] = [3, 2, 2, 3];
      const g = conv2dGeometry(xs, ks, [2, 1], 'same');
      const x = rand(size(xs), 1);
      const k = rand(size(ks), 2);
      const gy = rand(g.n * g.oh * g.ow * g.cout, 3);
      const ref = naiveConv(x, k, refOf(xs, ks, [2, 1], 'same'), gy);
      expectClose(conv2dForward(x, k, g, { chunkRows }), ref.y, { atol: ATOL, rtol: RTOL });
      expectClose(conv2dBackwardInput(gy, k, g, { chunkRows }), ref.gx, { atol: ATOL, rtol: RTOL });
      expectClose(conv2dBackwardKernel(x, gy, g, { chunkRows }), ref.gk, { atol: ATOL, rtol: RTOL });
    });
  }

  it('builds the patch matrix in the wasm GEMM workspace with the same bits as in a plain buffer', () => {
    if (backend() !== 'wasm') return;
    CASES.forEach(([xs, ks, strides, padding], i) => {
      const g = conv2dGeometry(xs, ks, strides, padding);
      const x = rand(size(xs), 40 + i);
      const k = rand(size(ks), 50 + i);
      const gy = rand(g.n * g.oh * g.ow * g.cout, 60 + i);
      for (const chunkRows of [undefined, 3]) {
        const plain = { chunkRows, workspace: false };
        const ws = { chunkRows, workspace: true };
        expect(conv2dForward(x, k, g, ws)).toEqual(conv2dForward(x, k, g, plain));
        expect(conv2dBackwardInput(gy, k, g, ws)).toEqual(conv2dBackwardInput(gy, k, g, plain));
        expect(conv2dBackwardKernel(x, gy, g, ws)).toEqual(conv2dBackwardKernel(x, gy, g, plain));
      }
    });
  });

  it('gives the same results on the js GEMM backend (plain patch buffer)', () => {
    const previous = setBackend('js');
    try {
      CASES.forEach(([xs, ks, strides, padding], i) => {
        const g = conv2dGeometry(xs, ks, strides, padding);
        const x = rand(size(xs), 10 + i);
        const k = rand(size(ks), 20 + i);
        const gy = rand(g.n * g.oh * g.ow * g.cout, 30 + i);
        const ref = naiveConv(x, k, refOf(xs, ks, strides, padding), gy);
        expectClose(conv2dForward(x, k, g, { chunkRows: 5 }), ref.y, { atol: ATOL, rtol: RTOL });
        expectClose(conv2dBackwardInput(gy, k, g, { chunkRows: 5 }), ref.gx, { atol: ATOL, rtol: RTOL });
        expectClose(conv2dBackwardKernel(x, gy, g, { chunkRows: 5 }), ref.gk, { atol: ATOL, rtol: RTOL });
      });
    } finally {
      setBackend(previous);
    }
  });

  it('4x4 input, 3x3 kernel of ones, stride 2 SAME: pad 0 at the top/left, 1 at the bottom/right', () => {
    // x = 1..16 row by row. out = ceil(4/2) = 2, padTotal = (2-1)*2 + 3 - 4 = 1 -> top 0, bottom 1.
    //   y[0,0] = rows 0-2, cols 0-2          = 1+2+3 + 5+6+7 + 9+10+11 = 54
    //   y[0,1] = rows 0-2, cols 2-3 (+ pad)  = 3+4 + 7+8 + 11+12       = 45
    //   y[1,0] = rows 2-3 (+ pad), cols 0-2  = 9+10+11 + 13+14+15      = 72
    //   y[1,1] = rows 2-3, cols 2-3          = 11+12 + 15+16           = 54
    // (Padding at the top/left instead would give y[0,0] = 1+2+5+6 = 14.)
    const g = conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], 2, 'same');
    expect([g.oh, g.ow, g.padTop, g.padBottom, g.padLeft, g.padRight]).toEqual([2, 2, 0, 1, 0, 1]);
    const x = Float32Array.from({ length: 16 }, (_, i) => i + 1);
    expect([...conv2dForward(x, new Float32Array(9).fill(1), g)]).toEqual([54, 45, 72, 54]);
  });

  it('is a cross-correlation: the kernel is not flipped', () => {
    // x = [[1,2,3],[4,5,6],[7,8,9]], K = [[1,0],[0,0]] picks each window's top-left: [[1,2],[4,5]].
    // A flipped kernel would pick the bottom-right: [[5,6],[8,9]].
    const g = conv2dGeometry([1, 3, 3, 1], [2, 2, 1, 1], 1, 'valid');
    const y = conv2dForward(Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), Float32Array.of(1, 0, 0, 0), g);
    expect([...y]).toEqual([1, 2, 4, 5]);
  });

  it('input gradient of the hand-worked case counts how many windows cover each pixel', () => {
    // Same geometry as above with gy = 1 everywhere: gx[iy,ix] = number of windows containing (iy,ix).
    // Rows: windows start at 0 and 2, each 3 tall -> row coverage [1,1,2,1]; same for columns.
    const g = conv2dGeometry([1, 4, 4, 1], [3, 3, 1, 1], 2, 'same');
    const gx = conv2dBackwardInput(new Float32Array(4).fill(1), new Float32Array(9).fill(1), g);
    const cover = [1, 1, 2, 1];
    expect([...gx]).toEqual(cover.flatMap((r) => cover.map((c) => r * c)));
  });
});

describe('conv2dGeometry', () => {
  const axis = (h: number, k: number, s: number, p: Padding) => {
    const g = conv2dGeometry([1, h, 1, 1], [k, 1, 1, 1], [s, 1], p);
    return [g.oh, g.padTop, g.padBottom];
  };

  it('SAME: out = ceil(in/stride), the odd pad pixel at the bottom', () => {
    expect(axis(4, 3, 2, 'same')).toEqual([2, 0, 1]);
    expect(axis(5, 3, 2, 'same')).toEqual([3, 1, 1]);
    expect(axis(6, 3, 1, 'same')).toEqual([6, 1, 1]);
    expect(axis(6, 4, 1, 'same')).toEqual([6, 1, 2]);
    expect(axis(7, 1, 3, 'same')).toEqual([3, 0, 0]);
    expect(axis(2, 5, 1, 'same')).toEqual([2, 2, 2]);
    expect(axis(28, 3, 2, 'same')).toEqual([14, 0, 1]);
  });

  it('VALID: out = ceil((in - k + 1)/stride), no padding', () => {
    expect(axis(7, 3, 2, 'valid')).toEqual([3, 0, 0]);
    expect(axis(5, 5, 1, 'valid')).toEqual([1, 0, 0]);
    expect(axis(8, 4, 2, 'valid')).toEqual([3, 0, 0]);
    expect(axis(28, 3, 1, 'valid')).toEqual([26, 0, 0]);
  });

  it('width follows the same rules, and a number stride applies to both axes', () => {
    const g = conv2dGeometry([2, 9, 6, 3], [3, 4, 3, 8], 2, 'same');
    expect([g.n, g.oh, g.ow, g.cout, g.sh, g.sw]).toEqual([2, 5, 3, 8, 2, 2]);
    expect([g.padTop, g.padBottom, g.padLeft, g.padRight]).toEqual([1, 1, 1, 1]);
  });

  it('names the op and the shapes when the input is too small', () => {
    expect(() => conv2dGeometry([1, 2, 5, 1], [3, 3, 1, 1], 1, 'valid')).toThrow(
      "conv2d: with 'valid' padding the input height must be at least the kernel height, but input [1,2,5,1] has 2 and kernel [3,3,1,1] has 3",
    );
    expect(() => conv2dGeometry([1, 5, 0, 1], [1, 1, 1, 1], 1, 'same')).toThrow('conv2d: input [1,5,0,1] has width 0, so the output would be empty');
    expect(() => conv2dGeometry([1, 5, 5, 1], [0, 1, 1, 1], 1, 'same')).toThrow('conv2d: kernel [0,1,1,1] has an empty window (0x1)');
  });
});
