/**
 * layerNormalization and groupNormalization against PyTorch 1.13
 * (F.layer_norm; F.group_norm on the NCHW permutation of NHWC input), values
 * and the gradients of sum(w * y) for x, gamma and beta, from
 * test/fixtures/torch/norms.py (float64 on float32 inputs).
 * Tolerance: atol 1e-6, rtol 1e-6 (the kernel works in float64 and rounds
 * y and the gradients to float32 once; measured max |diff| 2.4e-7 on y and
 * 1.8e-6 on gx, the latter in the mean-100, std-0.01 case where gx ~ 1e2).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Tensor, backward, groupNormalization, layerNormalization } from '../../src/index.js';
import { expectClose } from '../helpers.js';

interface Case {
  name: string;
  shape: number[];
  x: number[];
  w: number[];
  y: number[];
  gx: number[];
  gamma?: number[];
  beta?: number[];
  gGamma?: number[];
  gBeta?: number[];
  epsilon: number;
  axis?: number[];
  groups?: number;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/torch/norms.json', import.meta.url), 'utf8')) as {
  layerNorm: Case[];
  groupNorm: Case[];
};

const TOL = { atol: 1e-6, rtol: 1e-6 };

function run(c: Case, op: (x: Tensor, g: Tensor | null, b: Tensor | null) => Tensor): void {
  const x = new Tensor(Float32Array.from(c.x), c.shape).requireGrad();
  const affineShape = c.groups === undefined ? c.shape.slice(c.shape.length - c.axis!.length) : [c.shape[c.shape.length - 1]!];
  const gamma = c.gamma ? new Tensor(Float32Array.from(c.gamma), affineShape).requireGrad() : null;
  const beta = c.beta ? new Tensor(Float32Array.from(c.beta), affineShape).requireGrad() : null;
  const y = op(x, gamma, beta);
  expect(y.shape).toEqual(c.shape);
  expectClose(y.data, c.y, TOL);
  backward(y, { grad: Float32Array.from(c.w) });
  expectClose(x.grad!.data, c.gx, TOL);
  if (gamma) expectClose(gamma.grad!.data, c.gGamma!, TOL);
  if (beta) expectClose(beta.grad!.data, c.gBeta!, TOL);
}

describe('layerNormalization matches F.layer_norm', () => {
  for (const c of fixture.layerNorm) {
    it(c.name, () => run(c, (x, g, b) => layerNormalization(x, g, b, { axis: c.axis!.length === 1 ? c.axis![0]! : c.axis!, epsilon: c.epsilon })));
  }
});

describe('groupNormalization matches F.group_norm (NHWC permuted to NCHW)', () => {
  for (const c of fixture.groupNorm) {
    it(c.name, () => run(c, (x, g, b) => groupNormalization(x, g, b, { groups: c.groups!, epsilon: c.epsilon })));
  }
});
