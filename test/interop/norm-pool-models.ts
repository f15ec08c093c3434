/**
 * The layers that came after the first exporter (pools, LayerNorm, GroupNorm,
 * BatchNorm with renorm / virtualBatchSize, Conv2d with dilation and groups),
 * each alone and mixed in one model, with random weights (gammas around 1)
 * and, for batch norm, moving statistics from real training calls: the cases
 * the ONNX and PyTorch interop tests run.
 */
import {
  AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, GlobalAvgPool2d, GlobalMaxPool2d, GroupNorm, Layer, LayerNorm, MaxPool2d, Random, ReLU, Sequential,
  type Tensor,
} from '../../src/index.js';
import { uniform } from '../helpers.js';
import { ResidualBlock } from './residual-model.js';

/** One case: a built model with random weights, its input and one example's shape. */
export interface NormPoolCase {
  model: Layer;
  x: Tensor;
  inputShape: number[];
}

/** Random weights: gammas in [0.7, 1.3], everything else 0.5 * N(0, 1). */
export function randomizeWeights(model: Layer, seed: number): void {
  const rng = new Random(seed);
  for (const [name, t] of model.weights()) {
    t.data.forEach((_, i, a) => (a[i] = name.endsWith('gamma') ? 0.7 + 0.6 * rng.next() : 0.5 * rng.normal()));
  }
}

/** Builds `layers` on `inputShape` (batch 6, seed `seed`), randomizes the weights, runs `trainingCalls` training calls (moving statistics). */
export function makeCase(layers: Layer[] | Layer, inputShape: number[], seed: number, trainingCalls = 0): NormPoolCase {
  const model = Array.isArray(layers) ? new Sequential(layers) : layers;
  const x = uniform([6, ...inputShape], seed, -2, 2);
  model.call(x, { isTraining: false });
  randomizeWeights(model, seed + 100);
  for (let i = 0; i < trainingCalls; i++) model.call(uniform([8, ...inputShape], seed + 200 + i, -1.5 + 0.2 * i, 2), { isTraining: true });
  return { model, x, inputShape };
}

/** [label, make] for each layer alone (the pools' SAME cases have asymmetric pads). */
export const SINGLE_CASES: [string, () => NormPoolCase][] = [
  ['MaxPool2d 2 VALID (odd size, floor)', () => makeCase([new MaxPool2d(2)], [7, 5, 3], 1)],
  ['MaxPool2d 3 stride 2 SAME (pads 1/1 and 0/1)', () => makeCase([new MaxPool2d(3, { strides: 2, padding: 'same' })], [7, 6, 2], 2)],
  ['MaxPool2d [2, 3] strides [1, 2] SAME', () => makeCase([new MaxPool2d([2, 3], { strides: [1, 2], padding: 'same' })], [5, 5, 2], 3)],
  ['AvgPool2d 2 VALID', () => makeCase([new AvgPool2d(2)], [7, 5, 3], 4)],
  ['AvgPool2d 3 stride 2 SAME (valid cells only)', () => makeCase([new AvgPool2d(3, { strides: 2, padding: 'same' })], [7, 6, 2], 5)],
  ['AvgPool2d 2 stride 1 SAME (pad bottom/right only)', () => makeCase([new AvgPool2d(2, { strides: 1, padding: 'same' })], [5, 4, 3], 6)],
  ['AvgPool2d [3, 2] strides [2, 1] SAME', () => makeCase([new AvgPool2d([3, 2], { strides: [2, 1], padding: 'same' })], [6, 5, 2], 7)],
  ['GlobalMaxPool2d', () => makeCase([new GlobalMaxPool2d()], [5, 4, 3], 8)],
  ['GlobalAvgPool2d', () => makeCase([new GlobalAvgPool2d()], [5, 4, 3], 9)],
  ['LayerNorm axis -1 on vectors', () => makeCase([new LayerNorm()], [7], 10)],
  ['LayerNorm axis -1 on images after a conv', () => makeCase([new Conv2d(4, 3, { padding: 'same' }), new LayerNorm({ epsilon: 1e-5 })], [5, 4, 2], 11)],
  ['LayerNorm axis [1, 2, 3] on images', () => makeCase([new LayerNorm({ axis: [1, 2, 3] })], [4, 3, 5], 12)],
  ['LayerNorm axis [-2, -1] on sequences, no beta', () => makeCase([new LayerNorm({ axis: [-2, -1], center: false })], [4, 5], 13)],
  ['LayerNorm no gamma', () => makeCase([new LayerNorm({ scale: false })], [6], 14)],
  ['GroupNorm 2 groups on images after a conv', () => makeCase([new Conv2d(6, 3, { padding: 'same' }), new GroupNorm({ groups: 2 })], [5, 4, 2], 15)],
  ['GroupNorm -1 (instance norm) on images', () => makeCase([new GroupNorm({ groups: -1, epsilon: 1e-5 })], [4, 5, 3], 16)],
  ['GroupNorm 1 group on images, no beta', () => makeCase([new GroupNorm({ groups: 1, center: false })], [4, 3, 4], 17)],
  ['GroupNorm 3 groups on vectors', () => makeCase([new GroupNorm({ groups: 3 })], [6], 18)],
  ['GroupNorm 2 groups on sequences, no gamma', () => makeCase([new GroupNorm({ groups: 2, scale: false })], [5, 4], 19)],
  ['BatchNorm renorm (clipped), after 4 training calls', () => makeCase([new Conv2d(3, 3), new BatchNorm({ renorm: true, renormClipping: { rMax: 3, dMax: 5 }, momentum: 0.5 })], [6, 5, 2], 20, 4)],
  ['BatchNorm renorm biased variance on vectors, after 4 training calls', () => makeCase([new Dense(5), new BatchNorm({ renorm: true, movingVariance: 'biased', momentum: 0.6 })], [4], 21, 4)],
  ['BatchNorm virtualBatchSize 2, after 4 training calls', () => makeCase([new Conv2d(3, 3), new BatchNorm({ virtualBatchSize: 2, momentum: 0.5 })], [6, 5, 2], 22, 4)],
  ['Conv2d dilation 2 SAME', () => makeCase([new Conv2d(4, 3, { dilationRate: 2, padding: 'same' })], [7, 6, 2], 23)],
  ['Conv2d dilation [2, 1] stride 2 VALID', () => makeCase([new Conv2d(3, [3, 2], { dilationRate: [2, 1], strides: 2 })], [9, 7, 2], 24)],
  ['Conv2d groups 2 SAME', () => makeCase([new Conv2d(6, 3, { groups: 2, padding: 'same' })], [5, 5, 4], 25)],
  ['Conv2d depthwise (groups = in) dilation 2 stride 2 SAME, relu', () => makeCase([new Conv2d(6, 3, { groups: 3, dilationRate: 2, strides: 2, padding: 'same', activation: 'relu' })], [8, 7, 3], 26)],
];

export const MIXED_INPUT_SHAPE = [12, 11, 3];

/**
 * Conv with groups and dilation, GroupNorm, max pool (SAME, asymmetric),
 * a residual composite (conv-BN-ReLU-conv-BN + skip), LayerNorm over the
 * channels, avg pool (SAME, valid cells), renorm BN, global average pool,
 * dense; BN statistics from 4 training calls.
 */
export function mixedModel(seed = 30): NormPoolCase {
  return makeCase([
    new Conv2d(6, 3, { padding: 'same', dilationRate: 2 }),
    new Conv2d(6, 3, { padding: 'same', groups: 3 }),
    new GroupNorm({ groups: 3 }), new ReLU(),
    new MaxPool2d(3, { strides: 2, padding: 'same' }),
    new ResidualBlock(6, 'block'),
    new LayerNorm({ epsilon: 1e-5 }),
    new AvgPool2d(2, { strides: 2, padding: 'same' }),
    new BatchNorm({ renorm: true, momentum: 0.5 }),
    new Conv2d(4, 1, { groups: 2, activation: 'relu' }),
    new GlobalAvgPool2d(),
    new Dense(3),
  ], MIXED_INPUT_SHAPE, seed, 4);
}

/** A second mix: GroupNorm as instance norm, LayerNorm over [H, W, C] and on vectors, Flatten (NHWC order) after a pool. */
export function mixedModelFlatten(seed = 31): NormPoolCase {
  return makeCase([
    new Conv2d(4, 3, { groups: 1, dilationRate: [1, 2], padding: 'same' }), new GroupNorm({ groups: -1 }),
    new MaxPool2d(2, { padding: 'same' }), new LayerNorm({ axis: [1, 2, 3] }), new ResidualBlock(4, 'res'),
    new AvgPool2d(3, { strides: 2, padding: 'same' }), new Flatten(), new Dense(5), new LayerNorm(),
  ], [9, 9, 2], seed, 4);
}
