/**
 * A stack of layers applied in order. Children without an explicit name are
 * named by kind and position among their kind (conv1, bn1, relu1, conv2, ...),
 * so stateDict keys such as `conv3/kernel` and `bn3/movingMean` are stable.
 *
 * The ReLU fusion is decided here, once, when the model is built: a Dense,
 * Conv2d or BatchNorm with no activation of its own, directly followed by a
 * ReLU layer, becomes one step that runs the layer with activation 'relu'
 * (the same floats, one pass over memory fewer each way). The ReLU layer
 * stays in `layers`, with its name; `forward` is a plain loop over the steps.
 * In inference calls [Conv2d, BatchNorm(, ReLU)] runs as one op, the same
 * floats again (conv-batch-norm-step.ts); training calls run them as before.
 */
import type { Tensor } from '../tensor/tensor.js';
import { ReLU } from './activations.js';
import { BatchNorm } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Dense } from './dense.js';
import { checkLayerOptions, Layer, type CallOptions } from './layer.js';
import { recordOutputShape } from './summary.js';
import { checkPathSegment } from './tree.js';
import { convBatchNormPair, convBatchNormStep, isExactly, type Step } from './conv-batch-norm-step.js';

/**
 * Layers applied in order. Children without a name are named by kind and
 * position (conv1, bn1, relu1, conv2, ...), which gives `stateDict()` stable
 * keys such as `conv2/kernel` and `bn1/movingMean`. A ReLU layer directly
 * after a Dense, Conv2d or BatchNorm runs fused into that layer's op.
 *
 * @example
 * const model = new Sequential([
 *   new Conv2d(8, 3, { padding: 'same', useBias: false }), new BatchNorm(), new ReLU(),
 *   new Flatten(), new Dense(10),
 * ]);
 * const logits = model.call(images, { isTraining: true }); // [N, 10]
 * model.parameters();                                      // what an optimizer updates
 * [...model.stateDict().keys()];                           // ['conv1/kernel', 'bn1/gamma', ..., 'dense1/bias']
 */
export class Sequential extends Layer {
  readonly kind = 'sequential';
  /** The layers, in call order (frozen). */
  readonly layers: readonly Layer[];
  private readonly steps: readonly Step[];

  constructor(layers: readonly Layer[], opts: { name?: string } = {}) {
    super(checkLayerOptions('Sequential', opts) ?? 'sequential');
    if (!Array.isArray(layers) || layers.some((l) => !(l instanceof Layer))) {
      throw new Error('Sequential: expected an array of layers');
    }
    this.layers = Object.freeze([...layers]); // the plan below is computed from this list, once
    const counts = new Map<string, number>();
    for (const layer of this.layers) {
      const n = (counts.get(layer.kind) ?? 0) + 1;
      counts.set(layer.kind, n);
      if (layer.name === layer.kind) layer.name = `${layer.kind}${n}`;
    }
    for (const layer of this.layers) checkPathSegment(this.name, layer.name, 'layer name');
    const names = this.layers.map((l) => l.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) throw new Error(`Sequential: two layers are named '${dup}'`);
    this.steps = plan(this.layers);
    this.built = true;
  }

  /**
   * Runs the steps in order. If a training call fails part-way (say a layer
   * rejects its input's shape), the BN moving statistics that earlier layers
   * already updated are put back: bad input never leaves the model half-changed.
   */
  protected forward(x: Tensor, isTraining: boolean): Tensor {
    const buffers = isTraining ? [...this.namedBuffers().values()] : [];
    const saved = buffers.map((b) => Float32Array.from(b.data));
    try {
      let y = x;
      for (const step of this.steps) y = step(y, { isTraining });
      return y;
    } catch (e) {
      buffers.forEach((b, i) => b.data.set(saved[i]!));
      throw e;
    }
  }

  /** The layers in order, each named by its `name` (conv1, bn1, ...), not by position. */
  override childLayers(): [string, Layer][] {
    return this.layers.map((l) => {
      checkPathSegment(this.name, l.name, 'layer name'); // a name may have been changed since construction
      return [l.name, l];
    });
  }
}

/**
 * The run plan: one step per layer, except that [X, ReLU] with X a Dense,
 * Conv2d or BatchNorm whose activation is 'linear' becomes one step running
 * X with activation 'relu'. Only the classes themselves fuse, not subclasses
 * (which may change what they compute), and only a plain ReLU is absorbed.
 */
function plan(layers: readonly Layer[], fuseConvBatchNorm = true): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i]!;
    if (fuseConvBatchNorm && convBatchNormPair(layers, i)) {
      // [Conv2d, BatchNorm(, ReLU)]: fused in inference calls; in training, the conv step then the BN(+ReLU) step.
      const bn = layers[i + 1] as BatchNorm;
      const relu = bn.activation === 'linear' && isExactly(layers[i + 2], ReLU) ? layers[i + 2]! : null;
      const [convStep, bnStep] = plan(relu ? [layer, bn, relu] : [layer, bn], false);
      steps.push(convBatchNormStep(layer as Conv2d, bn, relu, (x, opts) => bnStep!(convStep!(x, opts), opts)));
      i += relu ? 2 : 1;
    } else if (fusesRelu(layer) && layer.activation === 'linear' && isExactly(layers[i + 1], ReLU)) {
      const relu = layers[i + 1]!;
      steps.push((x, opts) => {
        const y = layer.callWithActivation(x, opts, 'relu');
        recordOutputShape(layer, y);
        recordOutputShape(relu, y);
        return y;
      });
      i++;
    } else {
      steps.push((x, opts) => layer.call(x, opts));
    }
  }
  return steps;
}

/** A layer that can apply a ReLU inside its own op (BatchNorm, Dense, Conv2d). */
function fusesRelu(layer: Layer): layer is BatchNorm | Dense | Conv2d {
  return isExactly(layer, BatchNorm) || isExactly(layer, Dense) || isExactly(layer, Conv2d);
}
