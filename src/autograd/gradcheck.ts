/**
 * Finite-difference gradient checking.
 *
 * The output y = fn(inputs) is reduced to a scalar with a fixed random
 * weighting L = sum(w * y), w uniform in [-1, 1]. A plain sum(y) would be
 * blind to a backward that returns zeros for outputs whose sum is constant
 * (softmax, batch norm). Each input element is then nudged both ways:
 *   dL/dx_i ~ (L(x_i + eps) - L(x_i - eps)) / (2 eps)
 * and compared with the analytic gradient from `backward`.
 */
import { checkFunction, checkTensorList } from '../tensor/check.js';
import { formatShape } from '../tensor/shape.js';
import { Random } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { backward, noGrad } from './graph.js';

/** Options of `gradcheck`: step, tolerances, the weighting's seed, and whether to throw. */
export interface GradcheckOptions {
  /** Step for central differences (default 1e-3). */
  eps?: number;
  /** An element passes if |analytic - numeric| <= atol + rtol * |numeric|: the absolute part (default 1e-3). */
  atol?: number;
  /** The relative part of the same test (default 1e-2). */
  rtol?: number;
  /** Seed of the output weighting (default 0). */
  seed?: number;
  /** Throw on failure (default true); otherwise just return the report. */
  raise?: boolean;
}

/** How one input of a `gradcheck` fared. */
export interface GradcheckInputReport {
  /** Largest |analytic - numeric| over the input's elements. */
  maxAbsError: number;
  /** Largest |analytic - numeric| / max(|numeric|, 1e-3). */
  maxRelError: number;
  /** Elements outside the tolerance. */
  failures: number;
}

/** What `gradcheck` found: `ok` when every element of every input is within tolerance. */
export interface GradcheckReport {
  /** true when no input has a failing element. */
  ok: boolean;
  /** One report per input, in order. */
  inputs: GradcheckInputReport[];
}

/**
 * Checks `fn`'s gradients with respect to every input (float32 data, float64
 * accumulation of L). Inputs are marked `requiresGrad` and their `grad` is
 * reset. Throws, naming the worst error per input, unless `raise: false`.
 *
 * @example
 * gradcheck((a, b) => mul(a, b), [tensor([1, 2, 3]), tensor([4, 5, 6])]).ok; // true
 * gradcheck((x) => batchNormTraining(x, null, null, 1e-3).y, [randomNormal([6, 3], { seed: 1 })]);
 * // a wrong backward throws: "gradcheck failed (atol 0.001, rtol 0.01, eps 0.001): input 0 [6,3]: ..."
 */
export function gradcheck(fn: (...xs: Tensor[]) => Tensor, inputs: readonly Tensor[], opts: GradcheckOptions = {}): GradcheckReport {
  checkFunction('gradcheck', fn, 'fn');
  checkTensorList('gradcheck', inputs, 'inputs');
  const { eps = 1e-3, atol = 1e-3, rtol = 1e-2, seed = 0, raise = true } = opts;
  for (const x of inputs) {
    x.requiresGrad = true;
    x.grad = null;
  }
  const y = fn(...inputs);
  const rng = new Random(seed);
  const w = new Float64Array(y.size);
  for (let i = 0; i < w.length; i++) w[i] = 2 * rng.next() - 1;
  backward(y, { grad: Float32Array.from(w) });

  const weighted = (): number =>
    noGrad(() => {
      const out = fn(...inputs).data;
      let s = 0;
      for (let i = 0; i < out.length; i++) s += w[i]! * out[i]!;
      return s;
    });

  const reports = inputs.map((x): GradcheckInputReport => {
    const analytic = x.grad?.data ?? new Float32Array(x.size);
    let maxAbsError = 0;
    let maxRelError = 0;
    let failures = 0;
    for (let i = 0; i < x.size; i++) {
      const original = x.data[i]!;
      x.data[i] = original + eps;
      const up = weighted();
      x.data[i] = original - eps;
      const down = weighted();
      x.data[i] = original;
      // The step actually taken in float32 may differ slightly from 2*eps.
      const h = Math.fround(original + eps) - Math.fround(original - eps);
      const numeric = (up - down) / h;
      const err = Math.abs(analytic[i]! - numeric);
      maxAbsError = Math.max(maxAbsError, err);
      maxRelError = Math.max(maxRelError, err / Math.max(Math.abs(numeric), 1e-3));
      if (!(err <= atol + rtol * Math.abs(numeric))) failures++; // NaN on either side fails too
    }
    return { maxAbsError, maxRelError, failures };
  });

  const ok = reports.every((r) => r.failures === 0);
  if (!ok && raise) {
    const lines = reports.map(
      (r, i) => `input ${i} ${formatShape(inputs[i]!.shape)}: ${r.failures} bad, max abs error ${r.maxAbsError.toExponential(2)}, max rel error ${r.maxRelError.toExponential(2)}`,
    );
    throw new Error(`gradcheck failed (atol ${atol}, rtol ${rtol}, eps ${eps}):\n${lines.join('\n')}`);
  }
  return { ok, inputs: reports };
}
