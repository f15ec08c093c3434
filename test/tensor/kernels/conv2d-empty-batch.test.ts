/**
 * conv2d on an empty batch (N = 0): the output and the input gradient are
 * empty, and the kernel gradient is a sum over no positions, so all zeros,
 * on both backends (issue 14, item 7b). The wasm kernel used to return
 * whatever an earlier call had left in the shared WebAssembly memory, so each
 * case first runs a convolution that leaves large values there.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { backward, conv2d, Tensor } from '../../../src/index.js';
import { backend, setBackend, wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { conv2dBackwardKernel, conv2dForward } from '../../../src/tensor/kernels/conv2d.js';
import { conv2dGeometry, type Padding } from '../../../src/tensor/kernels/im2col.js';
import { rand } from './reference.js';

const initial = backend();
afterEach(() => {
  setBackend(initial);
});

/** Leaves non-zero floats wherever a convolution of this size puts its operands. */
function dirtyMemory(h: number, w: number, cin: number, cout: number): void {
  const g = conv2dGeometry([4, h, w, cin], [3, 3, cin, cout], 1, 'same');
  const x = rand(4 * h * w * cin, 1).map((v) => 100 + v);
  const gy = rand(4 * h * w * cout, 2).map((v) => 100 + v);
  conv2dForward(x, rand(9 * cin * cout, 3), g);
  conv2dBackwardKernel(x, gy, g);
}

for (const which of wasmAvailable() ? (['wasm', 'js'] as const) : (['js'] as const)) {
  describe(`conv2d with an empty batch on the '${which}' backend`, () => {
    for (const [strides, padding] of [[1, 'same'], [2, 'valid'], [1, 'valid']] as [number, Padding][]) {
      it(`kernel gradient is all zeros (strides ${strides}, ${padding})`, () => {
        setBackend(which);
        dirtyMemory(6, 5, 3, 4);
        const g = conv2dGeometry([0, 6, 5, 3], [3, 3, 3, 4], strides, padding);
        const gk = conv2dBackwardKernel(new Float32Array(0), new Float32Array(0), g);
        expect(gk.length).toBe(3 * 3 * 3 * 4);
        expect(Array.from(gk)).toEqual(new Array(gk.length).fill(0));
      });
    }

    it('through the op: empty output, zero kernel gradient, empty input gradient', () => {
      setBackend(which);
      dirtyMemory(6, 5, 3, 4);
      const x = new Tensor(new Float32Array(0), [0, 6, 5, 3]).requireGrad();
      const kernel = new Tensor(rand(3 * 3 * 3 * 4, 5), [3, 3, 3, 4]).requireGrad();
      const y = conv2d(x, kernel, { padding: 'same' });
      expect(y.shape).toEqual([0, 6, 5, 4]);
      backward(y, { grad: new Float32Array(0) });
      expect(Array.from(kernel.grad!.data)).toEqual(new Array(kernel.size).fill(0));
      expect(x.grad!.size).toBe(0);
    });
  });
}
