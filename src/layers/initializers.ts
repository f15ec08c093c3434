/**
 * Kernel initializers. Each is seeded; a layer mixes the initializer's seed
 * with its own name, so two layers with the same initializer still get
 * different (and reproducible) values.
 */
import { randomUniform, truncatedNormal as truncatedNormalTensor } from '../tensor/random.js';
import { checkNumber, checkOptions } from '../tensor/options.js';
import type { Shape } from '../tensor/shape.js';
import type { Tensor } from '../tensor/tensor.js';

/** Fan-in and fan-out of a kernel: inputs and outputs per unit (times the receptive field for conv). */
export interface Fans {
  fanIn: number;
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
