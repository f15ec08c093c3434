/**
 * maxPool2d, avgPool2d, their global forms, and conv2d with dilations and
 * groups against PyTorch 1.13, values and gradients of sum(w * y), from
 * test/fixtures/torch/pooling.py (float64 on float32 inputs; TF's
 * asymmetric SAME padding applied there with an explicit F.pad, the average
 * over valid cells as sum / count). Tolerances: max pooling copies values,
 * so its y is compared exactly, its gx (sums of weights where windows
 * overlap: float32 here, float64 in torch) to atol 1e-6; avg pooling atol 1e-6; conv atol 1e-5,
 * rtol 1e-5 (float32 sums of up to 27 products in [-1, 1]).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor, avgPool2d, conv2d, globalAvgPool2d, globalMaxPool2d, maxPool2d, type Padding } from '../../src/index.js';
import { expectClose } from '../helpers.js';

interface PoolCase {
  name: string; kind: 'max' | 'avg'; shape: number[]; pool: [number, number]; strides: [number, number]; padding: Padding;
  x: number[]; w: number[]; yShape: number[]; y: number[]; gx: number[];
}
interface ConvCase {
  name: string; shape: number[]; kernelShape: number[]; strides: [number, number]; dilations: [number, number]; groups: number;
  padding: Padding; x: number[]; k: number[]; w: number[]; yShape: number[]; y: number[]; gx: number[]; gk: number[];
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/pooling.json', import.meta.url), 'utf8')) as { pooling: PoolCase[]; conv: ConvCase[] };

describe('pooling against PyTorch', () => {
  it('the fixture covers max and avg, SAME with asymmetric padding, stride > pool, 1x1 and global', () => {
    expect(fixture.pooling.length).toBe(16);
    expect(fixture.pooling.filter((c) => c.kind === 'avg').length).toBe(8);
    expect(fixture.pooling.some((c) => c.padding === 'same' && c.shape[1] === 6 && c.pool[0] === 3)).toBe(true);
  });

  it.each(fixture.pooling.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const x = new Tensor(Float32Array.from(c.x), c.shape).requireGrad();
    const op = c.kind === 'max' ? maxPool2d : avgPool2d;
    const y = op(x, c.pool, { strides: c.strides, padding: c.padding });
    expect(y.shape).toEqual(c.yShape);
    expectClose(y.data, c.y, c.kind === 'max' ? { atol: 0 } : { atol: 1e-6 });
    y.backward({ grad: Float32Array.from(c.w) });
    expectClose(x.grad!.data, c.gx, { atol: 1e-6 });
  });

  it('the global forms equal the whole-image cases', () => {
    for (const c of fixture.pooling.filter((p) => p.pool[0] === p.shape[1] && p.pool[1] === p.shape[2] && p.shape[1]! > 1)) {
      const x = new Tensor(Float32Array.from(c.x), c.shape).requireGrad();
      const y = (c.kind === 'max' ? globalMaxPool2d : globalAvgPool2d)(x);
      expect(y.shape).toEqual([c.shape[0], c.shape[3]]);
      expectClose(y.data, c.y, { atol: 1e-6 });
      y.backward({ grad: Float32Array.from(c.w) });
      expectClose(x.grad!.data, c.gx, { atol: 1e-6 });
    }
  });
});

describe('conv2d with dilations and groups against PyTorch', () => {
  it.each(fixture.conv.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const x = new Tensor(Float32Array.from(c.x), c.shape).requireGrad();
    const k = new Tensor(Float32Array.from(c.k), c.kernelShape).requireGrad();
    const y = conv2d(x, k, { strides: c.strides, dilations: c.dilations, groups: c.groups, padding: c.padding });
    expect(y.shape).toEqual(c.yShape);
    const tol = { atol: 1e-5, rtol: 1e-5 };
    expectClose(y.data, c.y, tol);
    y.backward({ grad: Float32Array.from(c.w) });
    expectClose(x.grad!.data, c.gx, tol);
    expectClose(k.grad!.data, c.gk, tol);
  });
});
