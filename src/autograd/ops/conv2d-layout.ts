/**
 * normgrad is channels-last: activations NHWC [batch, height, width,
 * channels], kernels HWIO [height, width, in, out] (TensorFlow's layout).
 * PyTorch users bring NCHW [batch, channels, height, width]; read as NHWC an
 * MNIST batch [N, 1, 28, 28] is 1 row of 28 pixels with 28 channels. These
 * checks turn that into an error that says so and how to fix it.
 */
import { formatShape, type Shape } from '../../tensor/shape.js';
import type { Tensor } from '../../tensor/tensor.js';

const LAYOUT = 'normgrad is channels-last: input NHWC [batch, height, width, channels], kernel HWIO [height, width, in, out]';

/**
 * An NHWC-read shape that looks channels-first: axis 1 holds 1 or 3 (gray or
 * RGB channels) while the last axis is large (at least 8).
 */
export function looksChannelsFirst(shape: Shape): boolean {
  return shape.length === 4 && (shape[1] === 1 || shape[1] === 3) && shape[3]! >= 8;
}

/** The fix for a channels-first x: the permutation and the shape it gives. */
function permuteHint(shape: Shape): string {
  const [n, c, h, w] = shape as [number, number, number, number];
  return `permute(x, [0, 2, 3, 1]) turns NCHW ${formatShape(shape)} into NHWC ${formatShape([n, h, w, c])}`;
}

/**
 * Throws when x's channels (its last axis) differ from the kernel's input
 * channels, saying that normgrad is channels-last and, when x looks NCHW,
 * how to permute it. Ranks are left to the op's own checks.
 */
export function checkChannelsLast(op: string, x: Tensor, kernel: Tensor): void {
  if (x.rank !== 4 || kernel.rank !== 4) return;
  const channels = x.shape[3]!;
  const expected = kernel.shape[2]!;
  if (channels === expected) return;
  const nchw = x.shape[1] === expected || looksChannelsFirst(x.shape);
  const hint = nchw ? `; ${formatShape(x.shape)} looks channels-first (NCHW): ${permuteHint(x.shape)}` : '';
  throw new Error(`${op}: input ${formatShape(x.shape)} has ${channels} channels but kernel ${formatShape(kernel.shape)} expects ${expected} (${LAYOUT})${hint}`);
}

/**
 * Throws when the first input a layer builds its weights from looks NCHW
 * with square images ([N, 1, 28, 28], [N, 3, 32, 32]): read as NHWC that is
 * 1 or 3 rows of W pixels with W channels, which would train silently on
 * the wrong axes. (A genuine NHWC input of that shape is implausible.)
 */
export function checkBuildChannelsLast(name: string, shape: Shape): void {
  if (!looksChannelsFirst(shape) || shape[2] !== shape[3]) return;
  throw new Error(
    `${name}: input ${formatShape(shape)} looks channels-first (NCHW: ${shape[1]} channels of ${shape[2]}x${shape[3]}), ` +
      `but ${LAYOUT}, so it would be read as ${shape[1]} row(s) of ${shape[2]} pixels with ${shape[3]} channels; ${permuteHint(shape)}`,
  );
}
