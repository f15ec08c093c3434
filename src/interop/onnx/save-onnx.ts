/** Writing an ONNX export to a file (Node only: the core exports bytes with `toOnnx`). */
import type { Layer } from '../../layers/layer.js';
import { writeFileAtomic } from '../../train/atomic-write.js';
import { toOnnx, type OnnxExportOptions } from './to-onnx.js';

/**
 * Writes `toOnnx(model, options)` to `path` atomically (the old file or the
 * new one, never a torn one).
 *
 * @example
 * saveOnnx(model, 'mnist.onnx', { inputShape: [28, 28, 1] });
 * // python: onnxruntime.InferenceSession('mnist.onnx').run(None, {'input': images_nhwc})
 */
export function saveOnnx(model: Layer, path: string, options: OnnxExportOptions): void {
  writeFileAtomic(path, toOnnx(model, options));
}
