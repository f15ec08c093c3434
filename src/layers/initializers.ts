/**
 * Kernel initializers. Each is seeded; a layer mixes the initializer's seed
 * with its own name, so two layers with the same initializer still get
 * different (and reproducible) values.
 */
import { full } from '../tensor/create.js';
import { erf } from '../tensor/kernels/erf.js';
import { checkNumber, checkOptions } from '../tensor/options.js';
import { randomUniform, truncatedNormal as truncatedNormalTensor } from '../tensor/random.js';
import { formatShape, type Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Fan-in and fan-out of a kernel: inputs and outputs per unit (times the receptive field for conv). */
export interface Fans {
  /** Inputs per output unit (times the receptive field for conv). */
  fanIn: number;
  /** Outputs per input unit (times the receptive field for conv). */
  fanOut: number;
}

/** Makes a kernel of `shape` from its fans and a per-layer seed. */
export type Initializer = (shape: Shape, fans: Fans, seed: number) => Tensor;

/**
 * Glorot (Xavier) uniform, Keras' default: U(-limit, limit) with
 *   limit = sqrt(6 / (fanIn + fanOut)).
 */
export function glorotUniform(opts: { seed?: number } = {}): Initializer {
  checkOptions('glorotUniform', opts, ['seed']);
  if (opts.seed !== undefined) checkNumber('glorotUniform', 'seed', opts.seed);
  return (shape, { fanIn, fanOut }, layerSeed) => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return randomUniform(shape, { seed: mixSeeds(opts.seed ?? 0, layerSeed), minval: -limit, maxval: limit });
  };
}

/** TensorFlow's truncated normal: N(0, stddev^2), redrawn beyond 2 stddev. */
export function truncatedNormal(opts: { stddev?: number; mean?: number; seed?: number } = {}): Initializer {
  checkOptions('truncatedNormal', opts, ['stddev', 'mean', 'seed']);
  for (const key of ['mean', 'seed'] as const) if (opts[key] !== undefined) checkNumber('truncatedNormal', key, opts[key]);
  if (opts.stddev !== undefined) checkNumber('truncatedNormal', 'stddev', opts.stddev, 0);
  return (shape, _fans, layerSeed) =>
    truncatedNormalTensor(shape, { seed: mixSeeds(opts.seed ?? 0, layerSeed), stddev: opts.stddev ?? 0.05, mean: opts.mean ?? 0 });
}

/**
 * The standard deviation of N(0, 1) truncated to [-2, 2] (TensorFlow's
 * truncated normal), 0.8796256610342398, Keras' constant:
 *   var = 1 - 2a phi(a) / (Phi(a) - Phi(-a)) = 1 - 4 phi(2) / erf(sqrt 2),  a = 2
 */
export const TRUNCATED_NORMAL_STDDEV = Math.sqrt(1 - (4 * Math.exp(-2)) / Math.sqrt(2 * Math.PI) / erf(Math.SQRT2));

/** The `{ seed }` option of a random initializer, checked. */
function seedOf(owner: string, opts: { seed?: number } | undefined): number {
  checkOptions(owner, opts, ['seed']);
  return opts?.seed === undefined ? 0 : checkNumber(owner, 'seed', opts.seed);
}

/** Throws unless the fan is positive (a kernel with a 0-sized axis has none). */
function positiveFan(owner: string, fan: number, shape: Shape): number {
  if (!(fan > 0)) throw new Error(`${owner}: kernel ${formatShape(shape)} has a fan of ${fan}`);
  return fan;
}

/**
 * Keras' variance scaling with a truncated normal: N(0, s^2) redrawn beyond
 * 2 s, with s = sqrt(scale / fan) / 0.8796..., so that the values drawn have
 * variance scale / fan after the truncation (as Keras since TF 2.0).
 */
function truncatedScaled(owner: string, opts: { seed?: number } | undefined, scale: number, fan: (f: Fans) => number): Initializer {
  const seed = seedOf(owner, opts);
  return (shape, fans, layerSeed) => {
    const stddev = Math.sqrt(scale / positiveFan(owner, fan(fans), shape)) / TRUNCATED_NORMAL_STDDEV;
    return truncatedNormalTensor(shape, { seed: mixSeeds(seed, layerSeed), stddev });
  };
}

/**
 * He (Kaiming) normal, Keras' `HeNormal`: a truncated normal (redrawn beyond
 * 2 stddev) whose values have variance 2 / fanIn, for ReLU networks. This is
 * Keras' form, not PyTorch's `kaiming_normal_` (untruncated, stddev
 * sqrt(2 / fanIn)); both give weights of variance 2 / fanIn.
 */
export function heNormal(opts: { seed?: number } = {}): Initializer {
  return truncatedScaled('heNormal', opts, 2, (f) => f.fanIn);
}

/** He uniform, as Keras and PyTorch's `kaiming_uniform_`: U(-limit, limit), limit = sqrt(6 / fanIn) (variance 2 / fanIn). */
export function heUniform(opts: { seed?: number } = {}): Initializer {
  const seed = seedOf('heUniform', opts);
  return (shape, { fanIn }, layerSeed) => {
    const limit = Math.sqrt(6 / positiveFan('heUniform', fanIn, shape));
    return randomUniform(shape, { seed: mixSeeds(seed, layerSeed), minval: -limit, maxval: limit });
  };
}

/**
 * Glorot (Xavier) normal, Keras' `GlorotNormal`: a truncated normal whose
 * values have variance 2 / (fanIn + fanOut) (PyTorch's `xavier_normal_` is
 * untruncated with that variance).
 */
export function glorotNormal(opts: { seed?: number } = {}): Initializer {
  return truncatedScaled('glorotNormal', opts, 2, (f) => f.fanIn + f.fanOut);
}

/** Every value `value` (a finite number). */
export function constant(value: number): Initializer {
  checkNumber('constant', 'value', value);
  return (shape) => full(shape, value);
}

/** Every value 0 (exported from the package as `zerosInitializer`). */
export function zeros(): Initializer {
  return constant(0);
}

/** Every value 1 (exported from the package as `onesInitializer`). */
export function ones(): Initializer {
  return constant(1);
}

/** FNV-1a hash of a string: a stable per-layer seed from its name. */
export function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

function mixSeeds(a: number, b: number): number {
  return (Math.imul(a >>> 0, 0x9e3779b1) ^ b) >>> 0;
}

/** Fans of a dense kernel [in, out] or conv kernel [kh, kw, in, out]. */
export function fansOf(shape: Shape): Fans {
  const receptive = shape.slice(0, -2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[shape.length - 2]! * receptive, fanOut: shape[shape.length - 1]! * receptive };
}
