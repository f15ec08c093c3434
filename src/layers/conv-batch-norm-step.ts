/**
 * Sequential's inference fusion of [Conv2d, BatchNorm(, ReLU)]: in an
 * inference call the three run as one op, conv2dBatchNormInference (the
 * convolution's output blocks go through the BN's affine map and the ReLU
 * while in cache), with exactly the floats of the layers run apart. Every
 * other call (training, before the first call has built the weights, a
 * statistics observer set, a bias or groups or dilation on the convolution,
 * an input the convolution would reject) runs the layers as before, so
 * training and every error message are unchanged.
 */
import { conv2dBatchNormInference } from '../autograd/ops/conv2d-batch-norm.js';
import type { Tensor } from '../tensor/tensor.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import type { CallOptions, Layer } from './layer.js';
import { recordOutputShape } from './summary.js';

/** One step of a Sequential's run plan. */
export type Step = (x: Tensor, opts: CallOptions) => Tensor;

/**
 * Whether layers[i], layers[i + 1] are a Conv2d and a BatchNorm that can fuse
 * (both of exactly those classes, the convolution without an activation of
 * its own, the BN with none or 'relu'); the call-time conditions are checked
 * by the step itself.
 */
export function convBatchNormPair(layers: readonly Layer[], i: number): boolean {
  const conv = layers[i];
  const bn = layers[i + 1];
  return isExactly(conv, Conv2d) && isExactly(bn, BatchNorm) && (conv as Conv2d).activation === 'linear'
    && ((bn as BatchNorm).activation === 'linear' || (bn as BatchNorm).activation === 'relu');
}

/**
 * The step for conv, bn and (when not null) the ReLU layer after them.
 * `unfused` is the plan's ordinary run of the same layers.
 */
export function convBatchNormStep(conv: Conv2d, bn: BatchNorm, relu: Layer | null, unfused: Step): Step {
  const withRelu = relu !== null || bn.activation === 'relu';
  return (x, opts) => {
    if (opts.isTraining || !fusible(conv, bn, x)) return unfused(x, opts);
    const norm = { mean: bn.movingMean!, variance: bn.movingVariance!, gamma: bn.gamma, beta: bn.beta, epsilon: bn.epsilon };
    const y = conv2dBatchNormInference(x, conv.kernel!, { strides: conv.strides, padding: conv.padding }, norm, withRelu);
    recordOutputShape(conv, y);
    recordOutputShape(bn, y);
    if (relu) recordOutputShape(relu, y);
    return y;
  };
}

/** The call-time conditions: built, a plain convolution, no observer, an input the convolution takes. */
function fusible(conv: Conv2d, bn: BatchNorm, x: Tensor): boolean {
  const k = conv.kernel;
  return conv.isBuilt && bn.isBuilt && k !== null && conv.bias === null && bn.statisticsObserver === null
    && conv.groups === 1 && conv.dilationRate[0] === 1 && conv.dilationRate[1] === 1
    && bn.channels === conv.filters && x.rank === 4 && x.shape[3] === k.shape[2];
}

/** `layer` is of class `cls` itself, not a subclass that might change what it computes. */
export function isExactly(layer: Layer | undefined, cls: abstract new (...args: never[]) => Layer): boolean {
  return layer !== undefined && Object.getPrototypeOf(layer) === cls.prototype;
}
