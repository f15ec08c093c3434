/**
 * A real tiny BN network whose reported losses follow a script: the loss is
 * mse + (script[k] - mse) with the correction a constant, so its value is
 * script[k] (to float32 rounding) while its gradient is mse's and the
 * parameters and moving statistics really change every step. Training
 * batches and the validation set are told apart by their sizes (8 and 5).
 */
import { Random, Tensor, add, scalar } from '../../../src/index.js';
import { BatchNorm } from '../../../src/layers/batch-norm.js';
import { Dense } from '../../../src/layers/dense.js';
import { ReLU } from '../../../src/layers/activations.js';
import { Sequential } from '../../../src/layers/sequential.js';
import { meanSquaredError, type Loss } from '../../../src/train/losses.js';

export const TRAIN_N = 8;
export const VAL_N = 5;

function data(n: number, seed: number): { x: Tensor; y: Tensor } {
  const rng = new Random(seed);
  const x = Float32Array.from({ length: n * 3 }, () => rng.normal());
  const y = Float32Array.from({ length: n }, () => rng.normal());
  return { x: new Tensor(x, [n, 3]), y: new Tensor(y, [n, 1]) };
}

export const train = (): { x: Tensor; y: Tensor } => data(TRAIN_N, 1);
export const val = (): { x: Tensor; y: Tensor } => data(VAL_N, 2);

// momentum 0.5: the moving statistics move visibly every epoch.
export const net = (): Sequential => new Sequential([new Dense(4), new BatchNorm({ momentum: 0.5 }), new ReLU(), new Dense(1)]);

/** A loss reporting trainScript[k] on the k-th training batch and valScript[j] on the j-th validation run. */
export function scriptedLoss(trainScript: readonly number[], valScript: readonly number[] = []): Loss {
  let k = 0;
  let j = 0;
  return (y, out) => {
    const real = meanSquaredError(y, out);
    const script = y.shape[0] === VAL_N ? valScript[j++] : trainScript[k++];
    if (script === undefined) throw new Error('scriptedLoss: script exhausted');
    return add(real, scalar(script - real.item()));
  };
}

/** Copies of every stateDict entry. */
export function snapshot(model: { stateDict(): Map<string, Tensor> }): Map<string, Float32Array> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, Float32Array.from(t.data)]));
}

/** True when two snapshots hold the same names and the same bits. */
export function sameBits(a: Map<string, Float32Array>, b: Map<string, Float32Array>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (!w || !Buffer.from(v.buffer, v.byteOffset, v.byteLength).equals(Buffer.from(w.buffer, w.byteOffset, w.byteLength))) return false;
  }
  return true;
}
