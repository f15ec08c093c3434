/** Messages between the page (main.ts) and the training worker (worker.ts). */

export interface RunSettings {
  /** Stop after this many batches (Infinity: until stopped). */
  batches: number;
  batchSize: number;
  /** Adam's learning rate. */
  learningRate: number;
  /** BatchNorm momentum for this run. */
  momentum: number;
  /** 'lesson': BN against no normalization; 'small': batch 4, BN against GroupNorm. */
  mode: 'lesson' | 'small';
  /** Filters per conv layer = width * i. */
  width: number;
}

export type ToWorker =
  | { type: 'start'; settings: RunSettings }
  | { type: 'stop' }
  | { type: 'recompute' }
  | { type: 'classify'; id: number; pixels: Float32Array }
  | { type: 'testDigit'; index: number };

export interface ModelPoint {
  loss: number;
  /** Accuracy on this training batch, in training mode. */
  accuracy: number;
}

/** Batch statistics (of this step) and moving averages (after it) of one BN layer, first CHANNELS channels. */
export interface LayerPoint {
  batchMean: number[];
  batchVariance: number[];
  movingMean: number[];
  movingVariance: number[];
}

export type FromWorker =
  | { type: 'ready'; backend: string; threads: number; isolated: boolean; bnLayers: number; counts: [number, number, number] }
  | { type: 'started'; settings: RunSettings; labels: [string, string] }
  | { type: 'step'; step: number; a: ModelPoint; b: ModelPoint; /** One per BN layer of model a, in model order. */
  layers: LayerPoint[]; ms: number }
  | { type: 'validation'; step: number; a: number; b: number }
  | { type: 'recomputed'; step: number; before: number; after: number; batches: number }
  | { type: 'classified'; id: number; a: number[]; b: number[] }
  | { type: 'testDigit'; index: number; label: number; pixels: Float32Array }
  | { type: 'done'; step: number; seconds: number }
  | { type: 'error'; message: string };

export const CHANNELS = 4;
/** Validation images evaluated (inference mode) every VALIDATION_EVERY steps. */
export const VALIDATION_SIZE = 300;
export const VALIDATION_EVERY = 10;
