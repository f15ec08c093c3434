/**
 * The example's network, a small ResNet for 28x28 digits:
 *
 *   stem     conv 3x3, 8 filters -> BN -> ReLU          [28, 28, 8]
 *            max pool 2x2                                [14, 14, 8]
 *   block1   residual, 8 filters                         [14, 14, 8]
 *   block2   residual, 16 filters, projection skip       [14, 14, 16]
 *            max pool 2x2                                [7, 7, 16]
 *   block3   residual, 32 filters, projection skip       [7, 7, 32]
 *   head     global average pool -> dropout -> dense 10  [10] logits
 *
 * Global average pooling replaces a large Flatten+Dense: one number per
 * channel, so the head has 32*10+10 weights whatever the image size.
 */
import {
  BatchNorm, Conv2d, Dense, Dropout, GlobalAvgPool2d, MaxPool2d, ReLU, Sequential, heNormal,
} from '../../src/index.js';
import { ResidualBlock } from './residual-block.js';

export interface ResnetOptions {
  /** Seed of every initializer and of the dropout masks. */
  seed: number;
  /** Channels of the stem and of the three blocks (default [8, 8, 16, 32]). */
  widths?: [number, number, number, number];
  /** Dropout rate before the dense head (default 0.2). */
  dropout?: number;
  /**
   * Momentum of every batch norm's moving averages (default 0.9). Keras'
   * 0.99 averages over ~100 batches; in a run of a few hundred batches the
   * weights change faster than that, and the averages lag behind them.
   */
  momentum?: number;
}

export function buildResnet({ seed, widths = [8, 8, 16, 32], dropout = 0.2, momentum = 0.9 }: ResnetOptions): Sequential {
  const [stem, w1, w2, w3] = widths;
  return new Sequential([
    new Conv2d(stem, 3, { padding: 'same', useBias: false, kernelInitializer: heNormal({ seed }), name: 'stem' }),
    new BatchNorm({ momentum, name: 'stemBn' }),
    new ReLU(),
    new MaxPool2d(2),
    new ResidualBlock('block1', { filters: w1, seed, momentum }),
    new ResidualBlock('block2', { filters: w2, seed, momentum }),
    new MaxPool2d(2),
    new ResidualBlock('block3', { filters: w3, seed, momentum }),
    new GlobalAvgPool2d(),
    new Dropout(dropout, { seed }),
    new Dense(10, { kernelInitializer: heNormal({ seed }) }),
  ]);
}
