/**
 * batch-norm-reference.ts is the oracle: here it is checked against golden
 * values and a float64 loop of the closed form, and then the fast TypeScript
 * kernels (batch-norm-fast*.ts) and the WebAssembly ones (wasm/batch-norm-wasm.ts)
 * are checked against it on awkward shapes (1 channel, primes, leftovers past
 * a group of four, rows ending mid-block), with and without gamma/beta and a
 * fused ReLU. The fast kernels sum in blocks and never store xHat, so they
 * agree to a few float32 ulps, not to the bit:
 * atol 1e-5, rtol 1e-4 on values of order 1-10.
 */
import { describe, expect, it } from 'vitest';
import { wasmAvailable } from '../../../src/tensor/kernels/backend.js';
import { trainingBackward as fastBackward } from '../../../src/tensor/kernels/batch-norm-fast-backward.js';
import { trainingForward as fastForward } from '../../../src/tensor/kernels/batch-norm-fast.js';
import * as ref from '../../../src/tensor/kernels/batch-norm-reference.js';
import { trainingBackwardWasm, trainingForwardWasm } from '../../../src/tensor/kernels/wasm/batch-norm-wasm.js';
import { expectClose } from '../../helpers.js';
import { rand } from './reference.js';

const TOL = { atol: 1e-5, rtol: 1e-4 };
const CASES: [rows: number, channels: number][] = [[2, 1], [7, 3], [13, 4], [1000, 5], [31, 8], [523, 13], [3, 76]];

describe('the reference kernels', () => {
  it('channelMoments: golden values (two passes, biased variance)', () => {
    const { mean, variance } = ref.channelMoments(Float32Array.of(1, 10, 3, 20), 2);
    expect([...mean]).toEqual([2, 15]);
    expect([...variance]).toEqual([1, 25]);
  });

  it('trainingBackward matches a float64 loop of the closed form', () => {
    const [m, channels] = [11, 3];
    const x = rand(m * channels, 1).map((v) => 5 + v);
    const gy = rand(m * channels, 2);
    const gamma = Float32Array.of(0.5, 1.5, -2);
    const { mean, invStd } = ref.trainingForward(x, channels, gamma, null, 1e-3);
    const want = new Float64Array(m * channels);
    for (let c = 0; c < channels; c++) {
      let mu = 0, v = 0, sg = 0, sgh = 0;
      for (let i = 0; i < m; i++) mu += x[i * channels + c]! / m;
      for (let i = 0; i < m; i++) v += (x[i * channels + c]! - mu) ** 2 / m;
      const s = 1 / Math.sqrt(v + 1e-3);
      expect(mean[c]).toBeCloseTo(mu, 5);
      expect(invStd[c]).toBeCloseTo(s, 4);
      for (let i = 0; i < m; i++) {
        sg += gamma[c]! * gy[i * channels + c]!;
        sgh += gamma[c]! * gy[i * channels + c]! * (x[i * channels + c]! - mu) * s;
      }
      for (let i = 0; i < m; i++) {
        const h = (x[i * channels + c]! - mu) * s;
        want[i * channels + c] = (s / m) * (m * gamma[c]! * gy[i * channels + c]! - sg - h * sgh);
      }
    }
    expectClose(ref.trainingBackward(x, gy, mean, invStd, gamma, null).gx, want, TOL);
  });
});

const paths = [
  ['fast TypeScript', fastForward, fastBackward],
  ...(wasmAvailable() ? [['WebAssembly', trainingForwardWasm, trainingBackwardWasm] as const] : []),
] as const;

for (const [name, forward, backward] of paths) {
  describe(`${name} batch norm against the reference`, () => {
    CASES.forEach(([rows, channels], k) => {
      for (const affine of [true, false]) {
        for (const relu of [false, true]) {
          it(`[${rows}, ${channels}] ${affine ? 'gamma/beta' : 'no gamma/beta'}${relu ? ', fused ReLU' : ''}`, () => {
            const x = rand(rows * channels, 50 + k).map((v) => 3 + 2 * v); // mean far from 0
            const gy = rand(rows * channels, 60 + k);
            const gamma = affine ? rand(channels, 70 + k).map((v) => 1 + v / 2) : null;
            const beta = affine ? rand(channels, 80 + k) : null;
            const want = ref.trainingForward(x, channels, gamma, beta, 1e-3, relu);
            const got = forward(x, channels, gamma, beta, 1e-3, relu);
            for (const key of ['mean', 'variance', 'invStd', 'y'] as const) expectClose(got[key], want[key], TOL);
            const wantGrads = ref.trainingBackward(x, gy, want.mean, want.invStd, gamma, beta, relu);
            const grads = backward(x, gy.slice(), want.mean, want.invStd, gamma, true, { relu, beta });
            expectClose(grads.gx!, wantGrads.gx, TOL);
            expectClose(grads.gGamma, wantGrads.gGamma, TOL);
            expectClose(grads.gBeta, wantGrads.gBeta, TOL);
          });
        }
      }
    });
  });
}
