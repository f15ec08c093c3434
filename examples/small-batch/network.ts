/**
 * The lesson network (examples/mnist/lesson-network.ts) with its
 * normalization layer swapped: every position where the lesson has a
 * BatchNorm gets the chosen normalization instead, so depth and widths stay:
 *   for i = 1..19: conv 3x3 with 4i filters, stride 2 when i % 3 == 0,
 *                  SAME padding, no bias -> NORM -> ReLU
 *   flatten -> dense 100 (no bias) -> NORM -> ReLU -> dense 10 (logits)
 *
 *   bn      BatchNorm({ momentum })
 *   renorm  BatchNorm({ renorm: true, momentum, renormMomentum: momentum }),
 *           clipping ramped by the caller (renormClipping below)
 *   gn      GroupNorm({ groups: min(4, C) dividing C }): 4 for every layer
 *           here (C = 4i and 100), so the first layer (4 channels) is
 *           instance norm and the last convs have 15-19 channels per group
 *   ln      LayerNorm over H, W, C for the convs (axis [1, 2, 3]: Wu & He's
 *           LN, with per-element gamma/beta as Keras') and over the 100
 *           features for the dense layer
 */
import {
  BatchNorm, Conv2d, Dense, Flatten, GroupNorm, LayerNorm, ReLU, Sequential, truncatedNormalInitializer, type Layer,
} from '../../src/index.js';
import { LESSON_CONV_LAYERS } from '../mnist/lesson-network.js';

export const NORMS = ['bn', 'renorm', 'gn', 'ln'] as const;
export type NormKind = (typeof NORMS)[number];

export const NORM_LABELS: Record<NormKind, string> = {
  bn: 'BatchNorm',
  renorm: 'BatchNorm + renorm',
  gn: 'GroupNorm',
  ln: 'LayerNorm',
};

/** Groups for GroupNorm on C channels: the largest of 4, 2, 1 that divides C. */
export function groupsFor(channels: number): number {
  return [4, 2, 1].find((g) => channels % g === 0)!;
}

export interface NormNetworkOptions {
  norm: NormKind;
  seed: number;
  /** Weight of the old value in BN's moving statistics (and renorm's). */
  momentum: number;
}

function normLayer(norm: NormKind, channels: number, conv: boolean, momentum: number): Layer {
  switch (norm) {
    case 'bn': return new BatchNorm({ momentum });
    case 'renorm': return new BatchNorm({ momentum, renorm: true, renormMomentum: momentum, renormClipping: { rMax: 1, dMax: 0 } });
    case 'gn': return new GroupNorm({ groups: groupsFor(channels) });
    case 'ln': return new LayerNorm({ axis: conv ? [1, 2, 3] : -1 });
  }
}

export function normNetwork({ norm, seed, momentum }: NormNetworkOptions): Sequential {
  const kernelInitializer = truncatedNormalInitializer({ stddev: 0.05, seed });
  const layers: Layer[] = [];
  for (let i = 1; i <= LESSON_CONV_LAYERS; i++) {
    layers.push(new Conv2d(4 * i, 3, { strides: i % 3 === 0 ? 2 : 1, padding: 'same', useBias: false, kernelInitializer }));
    layers.push(normLayer(norm, 4 * i, true, momentum), new ReLU());
  }
  layers.push(new Flatten(), new Dense(100, { useBias: false, kernelInitializer }));
  layers.push(normLayer(norm, 100, false, momentum), new ReLU(), new Dense(10, { kernelInitializer }));
  return new Sequential(layers);
}

/**
 * Renorm's clipping schedule, by the fraction t of training examples seen
 * (so it is the same at every batch size), after Ioffe (2017), who keeps
 * rMax = 1, dMax = 0 (plain BN) for the first steps and then relaxes them
 * linearly to 3 and 5: here plain BN for t < 0.1, rMax reaches 3 at t = 0.5
 * and dMax reaches 5 at t = 0.35 (the paper: 5k, 40k and 25k of its steps).
 */
export function renormClipping(t: number): { rMax: number; dMax: number } {
  const ramp = (end: number) => Math.min(1, Math.max(0, (t - 0.1) / (end - 0.1)));
  return { rMax: 1 + 2 * ramp(0.5), dMax: 5 * ramp(0.35) };
}
