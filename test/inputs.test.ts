/**
 * Inputs are checked at every public boundary (issue 14, item 6): a wrong
 * argument is an Error that names the function and what was wrong, never a
 * raw TypeError/RangeError from deep inside, and never a silently wrong
 * result. Each case here gave a raw error or a wrong value before.
 */
import { describe, expect, it } from 'vitest';
import {
  Adam, BatchNorm, Conv2d, Dense, Flatten, RMSprop, SGD, Sequential, Tensor, accuracy, add, argmax, backward, batchNormInference,
  batchNormReport, batchNormTraining, concat, conv2d, crc32, decodeSafetensors, encodeSafetensors, epochOrder, evaluate, fit,
  flatten, formatBatchNormReport, formatShape, fromBytes, full, gemmJs, gradcheck, matmul, max, mean, min, moments, mul, noGrad, ones,
  permute, predict, randomNormal, recomputeBatchNormStatistics, reshape, scalar, sliceRows, softmaxCrossEntropyWithLogits, sum, tensor,
  toBytes, toNdarray, transpose, zeroGrad, zeros, type NestedArray,
} from '../src/index.js';

/** Calls `f`, expecting a plain Error (not a TypeError or RangeError) whose message matches `message`. */
function expectNamedError(f: () => unknown, message: RegExp | string): void {
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, 'expected an error').toBeInstanceOf(Error);
  expect((thrown as Error).constructor, `a plain Error, got ${(thrown as Error).constructor.name}: ${(thrown as Error).message}`).toBe(Error);
  if (typeof message === 'string') expect((thrown as Error).message).toContain(message);
  else expect((thrown as Error).message).toMatch(message);
}

const bad = <T>(v: unknown): T => v as T;

describe('tensor(): every entry must be a number', () => {
  it('refuses holes instead of shifting or zero-filling them', () => {
    // eslint-disable-next-line no-sparse-arrays
    expectNamedError(() => tensor(bad([1, , 3])), 'tensor: values[1] is a hole (an empty slot), not a number');
    expectNamedError(() => tensor(new Array(3) as number[], [3]), 'tensor: values[0] is a hole');
    // eslint-disable-next-line no-sparse-arrays
    expectNamedError(() => tensor([[1, 2], [3, , ]] as NestedArray), 'tensor: values[1][1] is a hole');
  });

  it('refuses undefined, null, strings, booleans and objects, naming the position', () => {
    expectNamedError(() => tensor(bad([1, undefined, 3])), 'tensor: values[1] is undefined, not a number');
    expectNamedError(() => tensor(bad([[1, null]])), 'tensor: values[0][1] is null, not a number');
    expectNamedError(() => tensor(bad([1, '2'])), "tensor: values[1] is the string '2', not a number");
    expectNamedError(() => tensor(bad([true, 1])), 'tensor: values[0] is a boolean, not a number');
    expectNamedError(() => tensor(bad([1, {}]), [2]), 'tensor: values[1] is Object, not a number');
    expectNamedError(() => tensor(bad(null)), /^tensor: values must be a number, nested arrays of numbers or a typed array, got null/);
    expectNamedError(() => tensor(bad('12')), /^tensor: values must be/);
    expectNamedError(() => tensor(bad(new DataView(new ArrayBuffer(8)))), /^tensor: values must be .* got DataView/);
  });

  it('refuses ragged nesting at any depth', () => {
    expectNamedError(() => tensor([[1, 2], [3]]), 'tensor: ragged nested array at values[1]: expected 2 entries, got 1');
    expectNamedError(() => tensor(bad([[1, 2], 3])), 'tensor: ragged nested array at values[1]: expected an array of 2 entries, got a number');
    expectNamedError(() => tensor(bad([1, [2]])), 'tensor: ragged nested array at values[1]: expected a number, got an array');
    expectNamedError(() => tensor(bad([[], [1]])), 'tensor: ragged nested array at values[1]: expected 0 entries, got 1');
  });

  it('still takes numbers, NaN and Infinity included, and typed arrays', () => {
    expect(tensor([[1, NaN], [Infinity, -0]]).toArray()).toEqual([[1, NaN], [Infinity, -0]]);
    expect(tensor(Float64Array.of(1.5, 2), [2, 1]).toArray()).toEqual([[1.5], [2]]);
    expect(tensor(Int8Array.of(-1, 2)).toArray()).toEqual([-1, 2]);
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
  });

  it('full and scalar refuse a non-number value', () => {
    expectNamedError(() => full([2], bad('1')), 'full: value must be a number, got string');
    expectNamedError(() => scalar(bad(null)), 'scalar: value must be a number, got object');
  });
});

describe('new Tensor(data, shape) takes only a Float32Array', () => {
  it('refuses plain arrays and other typed arrays (they failed later, inside matmul)', () => {
    expectNamedError(() => new Tensor(bad([1, 2, 3]), [3]), 'Tensor: data must be a Float32Array, got Array');
    expectNamedError(() => new Tensor(bad(new Float64Array(3)), [3]), 'Tensor: data must be a Float32Array, got Float64Array');
    expectNamedError(() => new Tensor(bad(null), [0]), 'Tensor: data must be a Float32Array, got null');
    expectNamedError(() => matmul(new Tensor(bad([1, 2, 3, 4]), [2, 2]), zeros([2, 2])), /^Tensor: data must be a Float32Array/);
  });

  it('shares a Float32Array (or a subarray of one) as documented', () => {
    const data = Float32Array.of(1, 2, 3, 4);
    const t = new Tensor(data.subarray(2), [2]);
    data[3] = 9;
    expect(t.toArray()).toEqual([3, 9]);
  });
});

describe('layers, Sequential, fit, predict and evaluate want Tensors', () => {
  const model = (): Sequential => new Sequential([new Dense(2)]);

  it('call() with a nested array says the input must be a Tensor', () => {
    expectNamedError(() => model().call(bad([[1, 2, 3]]), { isTraining: false }), 'sequential.call: input must be a Tensor, got [[1,2,3]]');
    expectNamedError(() => new Dense(2).call(bad(null), { isTraining: true }), 'dense.call: input must be a Tensor, got null');
    expectNamedError(() => new Flatten().call(bad(undefined), { isTraining: false }), 'flatten.call: input must be a Tensor, got undefined');
  });

  it('predict, evaluate and fit name themselves', () => {
    const m = model();
    expectNamedError(() => predict(m, bad([[1, 2, 3]])), 'predict: x must be a Tensor');
    expectNamedError(() => predict(bad(null), zeros([1, 3])), 'predict: model must have a call(x, { isTraining }) method');
    expectNamedError(() => predict(m, zeros([1, 3]), bad(null)), 'predict: options must be an object, got null');
    expectNamedError(() => predict(m, scalar(1)), 'predict: x must have a batch axis');
    expectNamedError(() => evaluate(m, bad({ x: [[1, 2, 3]], y: zeros([1, 2]) })), 'evaluate: data must be { x: Tensor, y: Tensor }');
    expectNamedError(() => evaluate(bad({}), { x: zeros([1, 3]), y: zeros([1, 2]) }), 'evaluate: model must have a call');
    expectNamedError(() => evaluate(m, { x: zeros([1, 3]), y: zeros([1, 2]) }, bad({ loss: 'mse' })), 'evaluate: options.loss must be a function');
    expectNamedError(() => fit(m, { x: zeros([4, 3]), y: zeros([4, 2]) }, bad(undefined)), 'fit: options { optimizer, loss, ... } are required');
    expectNamedError(() => fit(bad(null), { x: zeros([4, 3]), y: zeros([4, 2]) }, bad({})), 'fit: model must be a Layer or Sequential');
  });

  it('predict on 0 rows returns an empty output of the model\'s shape; evaluate on 0 rows refuses', () => {
    const m = model();
    const empty = predict(m, zeros([0, 3]));
    expect(empty.shape).toEqual([0, 2]);
    // The same model on one row: the output shape agrees past axis 0.
    expect(predict(m, ones([1, 3])).shape).toEqual([1, 2]);
    expectNamedError(() => evaluate(m, { x: zeros([0, 3]), y: zeros([0, 2]) }), 'evaluate: the data has 0 examples (x [0,3]); there is nothing to average');
    const data = { x: randomNormal([8, 3], { seed: 1 }), y: tensor([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [0, 1]]) };
    expectNamedError(
      () => fit(model(), data, { optimizer: new SGD({ learningRate: 0.1 }), loss: softmaxCrossEntropyWithLogits, validationData: { x: zeros([0, 3]), y: zeros([0, 2]) } }),
      'fit: validationData has 0 examples',
    );
  });
});

describe('NCHW input: normgrad is channels-last', () => {
  it('a built Conv2d fed NCHW says channels-last and how to permute', () => {
    const net = new Sequential([new Conv2d(4, 3), new Flatten(), new Dense(2)]);
    net.call(zeros([2, 28, 28, 1]), { isTraining: false });
    expectNamedError(
      () => net.call(zeros([2, 1, 28, 28]), { isTraining: false }),
      'conv2d: input [2,1,28,28] has 28 channels but kernel [3,3,1,4] expects 1 (normgrad is channels-last: input NHWC [batch, height, width, channels]',
    );
    expectNamedError(() => net.call(zeros([2, 1, 28, 28]), { isTraining: false }), 'looks channels-first (NCHW): permute(x, [0, 2, 3, 1]) turns NCHW [2,1,28,28] into NHWC [2,28,28,1]');
    // After the permutation it runs.
    expect(net.call(permute(zeros([2, 1, 28, 28]), [0, 2, 3, 1]), { isTraining: false }).shape).toEqual([2, 2]);
  });

  it('a channel mismatch that does not look NCHW still says channels-last, without the NCHW hint', () => {
    let message = '';
    try {
      conv2d(zeros([8, 28, 28, 3]), zeros([3, 3, 1, 4]));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('conv2d: input [8,28,28,3] has 3 channels but kernel [3,3,1,4] expects 1 (normgrad is channels-last');
    expect(message).not.toContain('NCHW');
  });

  it('a fresh Conv2d refuses to build from square NCHW-looking input (with same padding it ran on 1x28 images of 28 channels)', () => {
    for (const shape of [[2, 1, 28, 28], [4, 3, 32, 32]]) {
      const conv = new Conv2d(4, 3, { padding: 'same' });
      expectNamedError(() => conv.call(zeros(shape), { isTraining: true }), /^conv: input \[.*\] looks channels-first \(NCHW: \d channels of \d+x\d+\), but normgrad is channels-last/);
      expect(conv.isBuilt).toBe(false);
    }
    // NHWC of the same sizes, and genuine NHWC strips of height 1, build.
    expect(new Conv2d(4, 3, { padding: 'same' }).call(zeros([2, 28, 28, 1]), { isTraining: false }).shape).toEqual([2, 28, 28, 4]);
    expect(new Conv2d(4, [1, 3], { padding: 'same' }).call(zeros([2, 1, 100, 16]), { isTraining: false }).shape).toEqual([2, 1, 100, 4]);
  });
});

describe('an optimizer step that updates nothing', () => {
  it.each([
    ['SGD', () => new SGD({ learningRate: 0.1 })],
    ['Adam', () => new Adam({ learningRate: 0.1 })],
    ['RMSprop', () => new RMSprop({ learningRate: 0.1 })],
  ] as const)('%s: step([]) and a step with no gradients are not counted; step() without a list is an error', (name, make) => {
    const opt = make();
    opt.step([]);
    expect(opt.iterations).toBe(0);
    const w = tensor([1, 2]).requireGrad();
    opt.step([w]); // w.grad is null: nothing to update
    expect(opt.iterations).toBe(0);
    expect(w.toArray()).toEqual([1, 2]);
    w.grad = tensor([1, 1]);
    opt.step([w]);
    expect(opt.iterations).toBe(1);
    expect(w.toArray()).not.toEqual([1, 2]);
    expectNamedError(() => opt.step(bad(undefined)), `${name}.step: expected the parameters to update, e.g. opt.step(model.parameters()), got undefined`);
    expectNamedError(() => opt.step(bad(null)), `${name}.step: expected the parameters to update`);
    expectNamedError(() => opt.step(bad([w, null])), `${name}.step: expected parameter tensors`);
    expect(opt.iterations).toBe(1);
  });

  it('zeroGrad refuses non-tensors', () => {
    expectNamedError(() => zeroGrad(bad(null)), 'zeroGrad: expected an iterable of parameter tensors, got null');
    expectNamedError(() => zeroGrad(bad([zeros([1]), null])), 'zeroGrad: expected parameter tensors, got null');
  });
});

describe('null and wrong-type arguments to ops name the op', () => {
  const x = zeros([2, 3]);
  it('axes', () => {
    expectNamedError(() => sum(x, bad({ axis: null })), 'sum: axes must be a number, an array of numbers or undefined (every axis), got Object (axes come before the options: sum(x, axes, { keepDims }))');
    expectNamedError(() => sum(x, bad(null)), 'sum: axes must be a number, an array of numbers or undefined (every axis), got null');
    expectNamedError(() => mean(x, bad('0')), "mean: axes must be a number, an array of numbers or undefined (every axis), got '0' (a string)");
    expectNamedError(() => max(x, bad(null)), 'max: axes must be');
    expectNamedError(() => min(x, bad({})), 'min: axes must be');
    expectNamedError(() => moments(x, bad(null)), 'mean: axes must be');
    expectNamedError(() => argmax(x, bad(null)), 'argmax: axis must be a number (one axis), got null');
    expectNamedError(() => argmax(x, bad([0, 1])), 'argmax: axis must be a number (one axis), got [0,1]');
  });

  it('shapes', () => {
    expectNamedError(() => reshape(x, bad(null)), 'reshape: shape must be an array of integers, got null');
    expectNamedError(() => reshape(x, bad('6')), "reshape: shape must be an array of integers, got '6' (a string)");
    expectNamedError(() => zeros(bad(null)), 'zeros: shape must be an array of integers, got null');
    expectNamedError(() => ones(bad(undefined)), 'ones: shape must be an array of integers, got undefined');
    expectNamedError(() => randomNormal(bad(null), { seed: 1 }), 'randomNormal: shape must be an array of integers, got null');
    expectNamedError(() => permute(x, bad(null)), 'permute: perm must be an array of axes (integers), got null');
    expectNamedError(() => transpose(x, bad('10')), 'transpose: perm must be an array of axes or undefined');
    expectNamedError(() => formatShape(bad(null)), 'formatShape: shape must be an array of integers, got null');
  });

  it('tensor arguments', () => {
    expectNamedError(() => concat([x, bad(null)]), 'concat: tensors[1] must be a Tensor, got null');
    expectNamedError(() => concat(bad(null)), 'concat: tensors must be an array of Tensors, got null');
    expectNamedError(() => concat(bad(x)), 'concat: tensors must be an array of Tensors, got a Tensor [2,3]');
    expectNamedError(() => concat([x], bad('1')), "concat: axis must be a number, got '1' (a string)");
    expectNamedError(() => reshape(bad(null), [6]), 'reshape: input must be a Tensor, got null');
    expectNamedError(() => flatten(bad(undefined)), 'flatten: input must be a Tensor, got undefined');
    expectNamedError(() => permute(bad([[1]]), [0, 1]), 'permute: input must be a Tensor, got [[1]] (an array; use tensor(values) to make a Tensor)');
    expectNamedError(() => transpose(bad(null)), 'transpose: input must be a Tensor, got null');
    expectNamedError(() => sliceRows(bad(null), 0, 1), 'sliceRows: input must be a Tensor, got null');
    expectNamedError(() => add(x, bad([1, 2, 3])), 'add: expected a Tensor or a number, got object [1,2,3] (use tensor(values) to make a Tensor)');
    expectNamedError(() => backward(bad(null)), 'backward: root must be a Tensor, got null');
    expectNamedError(() => backward(mul(zeros([1]).requireGrad(), 2), bad(null)), 'backward: options must be an object, got null');
    expectNamedError(() => noGrad(bad(undefined)), 'noGrad: fn must be a function, got undefined');
    expectNamedError(() => gradcheck(bad('f'), [x]), "gradcheck: fn must be a function, got 'f' (a string)");
    expectNamedError(() => gradcheck((a: Tensor) => a, bad(x)), 'gradcheck: inputs must be an array of Tensors');
    expectNamedError(() => gradcheck((a: Tensor) => a, bad([null])), 'gradcheck: inputs[0] must be a Tensor, got null');
    expectNamedError(() => toNdarray(bad(null)), 'toNdarray: input must be a Tensor, got null');
    expectNamedError(() => batchNormTraining(bad(null), null, null, 1e-3), 'batchNorm: input must be a Tensor, got null');
    expectNamedError(() => batchNormTraining(zeros([4, 2]), bad([1, 1]), null, 1e-3), 'batchNorm: gamma (a Tensor or null) must be a Tensor, got [1,1]');
    expectNamedError(() => batchNormInference(zeros([4, 2]), bad(undefined), zeros([2]), null, null, 1e-3), 'batchNorm: mean (a Tensor or null) must be a Tensor, got undefined');
    expectNamedError(() => accuracy(x, bad(null)), 'accuracy: outputs must be a Tensor, got null');
  });

  it('checkpoints and safetensors', () => {
    expectNamedError(() => toBytes(bad(null)), 'toBytes: model must have a stateDict() method (a Layer or Sequential), got null');
    expectNamedError(() => fromBytes(bad('m'), new Uint8Array(8)), 'fromBytes: model must have a stateDict() method');
    expectNamedError(() => decodeSafetensors(bad(null)), 'decodeSafetensors: bytes must be a Uint8Array, another typed array or an ArrayBuffer, got null');
    expectNamedError(() => decodeSafetensors(bad({})), 'decodeSafetensors: bytes must be a Uint8Array');
    expectNamedError(() => encodeSafetensors(bad(null)), 'encodeSafetensors: tensors must be a Map from names to Tensors, got null');
    expectNamedError(() => encodeSafetensors(bad(new Map([['a', [1]]]))), "encodeSafetensors: tensor 'a' must be a Tensor, got [1]");
    expectNamedError(() => encodeSafetensors(new Map(), bad(null)), 'encodeSafetensors: metadata must be an object of strings, got null');
    expectNamedError(() => crc32(bad(null)), 'crc32: bytes must be a Uint8Array, got null');
  });

  it('the batch-norm tools', () => {
    expectNamedError(() => batchNormReport(bad(null), zeros([2, 2])), 'batchNormReport: model must be a Layer or Sequential, got null');
    expectNamedError(() => batchNormReport(new Sequential([new BatchNorm()]), bad(null)), 'batchNormReport: batch must be a Tensor, got null');
    expectNamedError(() => formatBatchNormReport(bad(null)), 'formatBatchNormReport: report must be the array batchNormReport returns, got null');
    expectNamedError(() => recomputeBatchNormStatistics(bad(undefined), []), 'recomputeBatchNormStatistics: model must be a Layer or Sequential, got undefined');
    expectNamedError(() => recomputeBatchNormStatistics(new Sequential([new BatchNorm()]), bad(null)), 'recomputeBatchNormStatistics: batches must be an iterable of Tensors');
  });
});

describe('fromBytes takes an ArrayBuffer', () => {
  it('round-trips through an ArrayBuffer and through another typed array over the same bytes', () => {
    const a = new Sequential([new Dense(3), new Dense(2)]);
    const b = new Sequential([new Dense(3), new Dense(2)]);
    const x = randomNormal([4, 5], { seed: 3 });
    a.call(x, { isTraining: false });
    b.call(x, { isTraining: false });
    const bytes = toBytes(a);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    fromBytes(b, buffer);
    expect(predict(b, x).toArray()).toEqual(predict(a, x).toArray());
    const c = new Sequential([new Dense(3), new Dense(2)]);
    c.call(x, { isTraining: false });
    fromBytes(c, new Int8Array(buffer)); // any typed array is viewed as its bytes
    expect(predict(c, x).toArray()).toEqual(predict(a, x).toArray());
    expect(decodeSafetensors(buffer).tensors.size).toBe(4);
  });
});

describe('huge shapes name the op, the shape and the element count', () => {
  it.each([
    ['zeros', () => zeros([1e6, 1e6])],
    ['ones', () => ones([2 ** 20, 2 ** 20])],
    ['full', () => full([1e7, 1e7], 1)],
    ['randomNormal', () => randomNormal([1e6, 1e6], { seed: 0 })],
    ['add', () => add(zeros([100000, 1]), zeros([1, 100000]))],
    ['matmul', () => matmul(zeros([100000, 1]), zeros([1, 100000]))],
  ] as [string, () => unknown][])('%s', (name, f) => {
    expectNamedError(f, new RegExp(`^${name}: shape \\[[0-9,]+\\] has \\d+ elements \\([0-9.]+ GiB of float32\\), more than can be allocated`));
  });
});

describe('epochOrder', () => {
  it('refuses a non-integer or negative n, a bad seed or epoch (3.5 gave [0, 0, 0])', () => {
    expectNamedError(() => epochOrder(3.5, 0, 0), 'epochOrder: n must be an integer in [0, 2^31 - 1] (the number of examples), got 3.5');
    expectNamedError(() => epochOrder(-1, 0, 0), 'epochOrder: n must be an integer in [0, 2^31 - 1]');
    expectNamedError(() => epochOrder(3, NaN, 0), 'epochOrder: seed must be a finite number, got NaN');
    expectNamedError(() => epochOrder(3, 0, 0.5), 'epochOrder: epoch must be a non-negative integer, got 0.5');
    expect([...epochOrder(5, 1, 2)].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('gemmJs refuses an output that shares memory with an input', () => {
  it('C aliasing A or B (it returned zeros), a subarray overlap too', () => {
    const a = Float32Array.of(1, 2, 3, 4);
    const id = Float32Array.of(1, 0, 0, 1);
    expectNamedError(() => gemmJs(a, id, a, 2, 2, 2), 'gemmJs: C shares memory with A; pass a separate output array');
    expectNamedError(() => gemmJs(id, a, a, 2, 2, 2), 'gemmJs: C shares memory with B');
    const big = new Float32Array(12);
    big.set([1, 2, 3, 4]);
    expectNamedError(() => gemmJs(big.subarray(0, 4), id, big.subarray(2, 6), 2, 2, 2), 'gemmJs: C shares memory with A');
    // Disjoint parts of one buffer are fine.
    gemmJs(big.subarray(0, 4), id, big.subarray(4, 8), 2, 2, 2);
    expect(Array.from(big.subarray(4, 8))).toEqual([1, 2, 3, 4]);
  });
});

describe('more public entry points found by trying junk arguments', () => {
  it('leafLayers, Optimizer.loadStateDict and Random.permutation name themselves', async () => {
    const { leafLayers, Random } = await import('../src/index.js');
    expectNamedError(() => leafLayers(bad(null)), 'leafLayers: model must be a Layer or Sequential, got null');
    expectNamedError(() => new SGD({ learningRate: 0.1 }).loadStateDict(bad(undefined), new Map()), 'SGD.loadStateDict: expected (entries, params) as two Maps');
    expectNamedError(() => new Adam().loadStateDict(new Map(), bad('x')), 'Adam.loadStateDict: expected (entries, params) as two Maps from names to tensors, got Map and \'x\' (a string)');
    expectNamedError(() => new Random(1).permutation(-1), 'Random.permutation: n must be an integer in [0, 2^31 - 1], got -1');
    expectNamedError(() => new Random(1).permutation(2.5), 'Random.permutation: n must be an integer');
  });
});
