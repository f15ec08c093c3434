/**
 * AdamW, clipping, RMSprop's momentum/centered and the schedules, step by step
 * against PyTorch 1.13: test/optim/fixtures/torch-reference.json, written by
 * test/optim/fixtures/torch_reference.py (each case names its torch
 * counterpart, or says where the script uses a naive loop over the Keras
 * formula instead). The recorded gradients are fed as they are; the
 * reference runs in float64 and normgrad keeps float32 weights and slots.
 *
 * Tolerances: weights |a - e| <= 5e-7 + 1e-6 |e| after every step. normgrad
 * rounds weights and slots to float32 each step; the weights start between
 * -2 and 2 (a float32 ulp of 1.2e-7 to 2.4e-7) and some pass near 0, so the
 * absolute term is about two ulps at that scale. Measured: at most 2.2e-7
 * absolute, 3.1e-7 relative where |w| > 0.1. Learning rates: 1e-12 relative
 * (both sides compute them in float64).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Adam, AdamW, cosineDecay, exponentialDecay, piecewiseConstant, RMSprop, SGD, type Optimizer, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';
import { param, setGrad } from './fixtures.js';

type Named<T> = Record<'kernel' | 'bias', T>;
interface Step { grad: Named<number[] | number[][]>; lr: number; w: Named<number[] | number[][]> }
interface ScheduleSpec { kind: 'exponentialDecay' | 'cosineDecay' | 'piecewiseConstant'; options: Record<string, unknown> }
interface OptimizerCase { name: string; options: Record<string, unknown>; schedule: ScheduleSpec | null; exclude: string[]; reference: string; steps: Step[] }
interface ScheduleCase extends ScheduleSpec { lrs: number[]; reference: string }
interface Reference { w0: Named<number[] | number[][]>; shapes: Named<number[]>; optimizers: OptimizerCase[]; schedules: ScheduleCase[] }

const ref = JSON.parse(readFileSync(new URL('./fixtures/torch-reference.json', import.meta.url), 'utf8')) as Reference;
const NAMES = ['kernel', 'bias'] as const;
const W_TOL = { atol: 5e-7, rtol: 1e-6 };

function makeSchedule(spec: ScheduleSpec): (step: number) => number {
  const make = { exponentialDecay, cosineDecay, piecewiseConstant }[spec.kind] as (o: unknown) => (step: number) => number;
  return make(spec.options);
}

function makeOptimizer(c: OptimizerCase, params: Named<Tensor>): Optimizer {
  const opts: Record<string, unknown> = { ...c.options };
  if (c.schedule !== null) opts.learningRate = makeSchedule(c.schedule);
  const kind = c.name.split(/[ ,]/)[0];
  if (kind === 'AdamW') {
    const excluded = new Set(c.exclude.map((n) => params[n as 'kernel' | 'bias']));
    if (excluded.size > 0) opts.exclude = (p: Tensor) => excluded.has(p);
    return new AdamW(opts);
  }
  if (kind === 'Adam') return new Adam(opts);
  if (kind === 'SGD') return new SGD(opts);
  if (kind === 'RMSprop') return new RMSprop(opts);
  throw new Error(`no optimizer for case '${c.name}'`);
}

describe('optimizers against PyTorch, step by step', () => {
  it('covers every case the script wrote', () => {
    expect(ref.optimizers.length).toBe(12);
    expect(ref.schedules.length).toBe(6);
  });

  it.each(ref.optimizers.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const params: Named<Tensor> = {
      kernel: param(ref.w0.kernel.flat(), ref.shapes.kernel),
      bias: param(ref.w0.bias.flat(), ref.shapes.bias),
    };
    const opt = makeOptimizer(c, params);
    c.steps.forEach((s, k) => {
      for (const n of NAMES) setGrad(params[n], s.grad[n].flat());
      expect(opt.learningRateAt(k + 1)).toBeCloseTo(s.lr, 12);
      opt.step([params.kernel, params.bias]);
      for (const n of NAMES) expectClose(params[n].data, s.w[n].flat(), W_TOL);
    });
  });
});

describe('learning-rate schedules against torch.optim.lr_scheduler', () => {
  it.each(ref.schedules.map((c) => [`${c.kind} ${JSON.stringify(c.options)}`, c] as const))('%s', (_name, c) => {
    const lr = makeSchedule(c);
    expectClose(c.lrs.map((_, k) => lr(k + 1)), c.lrs, { atol: 1e-15, rtol: 1e-12 });
  });
});
