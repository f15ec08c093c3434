/**
 * A residual CNN built from a custom composite (conv-BN-ReLU-conv-BN, plus the
 * skip, then ReLU), with Dropout, GELU and Softmax, trained a few steps in
 * normgrad: the model the interop tests export to ONNX and PyTorch.
 */
import {
  Adam, BatchNorm, Conv2d, Dense, Dropout, Flatten, GELU, Layer, ReLU, Sequential, Softmax, Tensor,
  add, backward, meanSquaredError, relu,
} from '../../src/index.js';
import { uniform } from '../helpers.js';

/** conv-BN-ReLU-conv-BN, plus the input (the skip), then ReLU: its own forward, no converter of its own. */
export class ResidualBlock extends Layer {
  readonly kind = 'residual';
  conv1: Conv2d;
  bn1: BatchNorm;
  conv2: Conv2d;
  bn2: BatchNorm;
  constructor(filters: number, name: string) {
    super(name);
    this.conv1 = new Conv2d(filters, 3, { padding: 'same', useBias: false });
    this.bn1 = new BatchNorm();
    this.conv2 = new Conv2d(filters, 3, { padding: 'same', useBias: false });
    this.bn2 = new BatchNorm();
  }
  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const o = { isTraining };
    const y = relu(this.bn1.call(this.conv1.call(x, o), o));
    return relu(add(x, this.bn2.call(this.conv2.call(y, o), o)));
  }
}

export const RESIDUAL_INPUT_SHAPE = [8, 7, 2];

/** The residual CNN, untrained (built on a probe). */
export function residualCnn(): Sequential {
  const model = new Sequential([
    new Conv2d(4, 3, { padding: 'same', strides: 2, useBias: false }), new BatchNorm({ momentum: 0.5 }), new ReLU(),
    new ResidualBlock(4, 'block1'),
    new ResidualBlock(4, 'block2'),
    new Dropout(0.25, { seed: 3 }),
    new Flatten(), new Dense(8), new GELU(),
    new Dense(3), new Softmax(),
  ]);
  model.call(uniform([1, ...RESIDUAL_INPUT_SHAPE], 0), { isTraining: false });
  return model;
}

/** The residual CNN after `steps` Adam steps on a toy target (mean squared error on the softmax output). */
export function trainedResidualCnn(steps = 5): { model: Sequential; x: Tensor } {
  const model = residualCnn();
  const x = uniform([16, ...RESIDUAL_INPUT_SHAPE], 11, 0, 1);
  const y = new Tensor(new Float32Array(16 * 3), [16, 3]);
  for (let i = 0; i < 16; i++) y.data[i * 3 + (i % 3)] = 1;
  const opt = new Adam({ learningRate: 0.02 });
  for (let s = 0; s < steps; s++) {
    backward(meanSquaredError(y, model.call(x, { isTraining: true })));
    opt.step(model.parameters());
    opt.zeroGrad(model.parameters());
  }
  return { model, x };
}
