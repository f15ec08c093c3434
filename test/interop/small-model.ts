/**
 * The small model of the committed PyTorch fixture
 * (test/fixtures/interop/pytorch/): SAME conv with stride 2 (asymmetric pads),
 * a nested Sequential, VALID conv with a rectangular kernel, Flatten, BN on
 * vectors, all activations.
 */
import { BatchNorm, Conv2d, Dense, Flatten, ReLU, Sequential, Sigmoid, Tanh, zeros } from '../../src/index.js';

export const SMALL_INPUT_SHAPE = [8, 7, 2];

export function smallModel(): Sequential {
  const model = new Sequential([
    new Conv2d(3, 3, { padding: 'same', strides: 2, useBias: false }),
    new BatchNorm({ epsilon: 1e-5, momentum: 0.9 }),
    new ReLU(),
    new Sequential([new Conv2d(4, [2, 3], { padding: 'valid' }), new BatchNorm(), new Sigmoid()], { name: 'block' }),
    new Flatten(),
    new Dense(5),
    new BatchNorm(),
    new Tanh(),
    new Dense(3),
  ]);
  model.call(zeros([1, ...SMALL_INPUT_SHAPE]), { isTraining: false });
  return model;
}
