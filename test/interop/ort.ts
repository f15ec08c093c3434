/**
 * Running an exported model in onnxruntime-web's WebAssembly build, inside
 * Node (onnxruntime-node's install script downloads binaries and fails
 * offline; the wasm build needs nothing). One thread: the machine is shared.
 */
import * as ort from 'onnxruntime-web';
import { Tensor } from '../../src/tensor/tensor.js';

ort.env.wasm.numThreads = 1;

/** Runs `bytes` (an ONNX model) on `x` (fed as 'input') and returns 'output' as a normgrad tensor. */
export async function runOnnx(bytes: Uint8Array, x: Tensor): Promise<Tensor> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'disabled' });
  try {
    const { output } = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.data), [...x.shape]) });
    return new Tensor(Float32Array.from(output!.data as Float32Array), [...output!.dims]);
  } finally {
    await session.release();
  }
}

/** max |a - e| / max |e|: the difference relative to the output's scale (the figure the tests report). */
export function maxRelativeDifference(actual: Tensor, expected: Tensor): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.size; i++) {
    diff = Math.max(diff, Math.abs(actual.data[i]! - expected.data[i]!));
    scale = Math.max(scale, Math.abs(expected.data[i]!));
  }
  return diff / scale;
}
