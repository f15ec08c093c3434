/**
 * The demo's model and one training step, free of DOM and worker code so the
 * worker and a Node timing script share it.
 *
 * The network is the lesson's (examples/mnist/lesson-network.ts): 19 conv 3x3
 * layers, stride 2 when i % 3 == 0, SAME padding, each followed by a
 * normalization and ReLU, then dense 100 -> norm -> ReLU -> dense 10. Layer i
 * has `width * i` filters (the lesson: width 4); a smaller width keeps the
 * depth, which is what makes the network without normalization stall, and
 * makes a live page fast enough on one thread.
 */
import {
  Adam, BatchNorm, Conv2d, Dense, Flatten, GroupNorm, ReLU, Sequential, Tensor, noGrad, softmax, softmaxCrossEntropyWithLogits,
  truncatedNormalInitializer, type Layer,
} from '../src/index.js';

/** 'bn': batch norm; 'none': biases instead; 'gn': group norm. */
export type Norm = 'bn' | 'none' | 'gn';

export interface LessonOptions {
  norm: Norm;
  /** Filters per layer = width * i (the lesson: 4). */
  width: number;
  seed: number;
  /** BatchNorm momentum (weight of the old value; Keras default 0.99). */
  momentum: number;
  /** GroupNorm groups (default 2: every layer's 2*i channels split in two). */
  groups?: number;
}

export const CONV_LAYERS = 19;

export function lessonModel({ norm, width, seed, momentum, groups = 2 }: LessonOptions): Sequential {
  const kernelInitializer = truncatedNormalInitializer({ stddev: 0.05, seed });
  const normLayer = (): Layer[] =>
    norm === 'bn' ? [new BatchNorm({ momentum })] : norm === 'gn' ? [new GroupNorm({ groups })] : [];
  const layers: Layer[] = [];
  for (let i = 1; i <= CONV_LAYERS; i++) {
    layers.push(new Conv2d(width * i, 3, { strides: i % 3 === 0 ? 2 : 1, padding: 'same', useBias: norm === 'none', kernelInitializer }));
    layers.push(...normLayer(), new ReLU());
  }
  layers.push(new Flatten(), new Dense(100, { useBias: norm === 'none', kernelInitializer }), ...normLayer(), new ReLU());
  layers.push(new Dense(10, { kernelInitializer }));
  return new Sequential(layers);
}

/** x: [B,28,28,1] in [0,1] from bytes; y one-hot [B,10]. */
export function batchTensors(images: Uint8Array, labels: Uint8Array, rows: ArrayLike<number>): { x: Tensor; y: Tensor; labels: Uint8Array } {
  const B = rows.length;
  const x = new Float32Array(B * 784);
  const y = new Float32Array(B * 10);
  const out = new Uint8Array(B);
  for (let b = 0; b < B; b++) {
    const r = rows[b]!;
    for (let p = 0; p < 784; p++) x[b * 784 + p] = images[r * 784 + p]! / 255;
    out[b] = labels[r]!;
    y[b * 10 + labels[r]!] = 1;
  }
  return { x: new Tensor(x, [B, 28, 28, 1]), y: new Tensor(y, [B, 10]), labels: out };
}

function argmaxAccuracy(logits: Tensor, labels: Uint8Array): number {
  const K = logits.shape[1]!;
  let right = 0;
  for (let b = 0; b < labels.length; b++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (logits.data[b * K + k]! > logits.data[b * K + best]!) best = k;
    if (best === labels[b]) right++;
  }
  return right / labels.length;
}

/** One Adam step on the batch statistics; returns the loss and the batch's accuracy (training mode). */
export function trainStep(model: Sequential, optimizer: Adam, x: Tensor, y: Tensor, labels: Uint8Array): { loss: number; accuracy: number } {
  const params = model.parameters();
  for (const p of params) p.grad = null;
  const out = model.call(x, { isTraining: true });
  const loss = softmaxCrossEntropyWithLogits(y, out);
  const value = loss.item();
  loss.backward();
  optimizer.step(params);
  return { loss: value, accuracy: argmaxAccuracy(out, labels) };
}

/** Inference-mode accuracy (moving statistics), in chunks of `chunk`. */
export function inferenceAccuracy(model: Sequential, images: Uint8Array, labels: Uint8Array, count: number, chunk = 100): number {
  let right = 0;
  noGrad(() => {
    for (let s = 0; s < count; s += chunk) {
      const rows = Array.from({ length: Math.min(chunk, count - s) }, (_, i) => s + i);
      const b = batchTensors(images, labels, rows);
      right += argmaxAccuracy(model.call(b.x, { isTraining: false }), b.labels) * rows.length;
    }
  });
  return right / count;
}

/** Class probabilities of one 28x28 image (bytes or [0,1] floats), inference mode. */
export function classify(model: Sequential, pixels: Float32Array): Float32Array {
  return noGrad(() => softmax(model.call(new Tensor(Float32Array.from(pixels), [1, 28, 28, 1]), { isTraining: false })).data.slice());
}
