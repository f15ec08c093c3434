/**
 * 2-D convolution, TensorFlow's tf.nn.conv2d: x NHWC [n,h,w,cin], kernel
 * HWIO [kh,kw,cin,cout], y [n,oh,ow,cout], no flip (a cross-correlation):
 *
 *   y[b,oy,ox,co] = sum_{ky,kx,ci} x[b, oy*sh - padTop + ky, ox*sw - padLeft + kx, ci] K[ky,kx,ci,co]
 *
 * As matrices (cols = im2col(x), see src/tensor/kernels/conv2d.ts):
 *   y = cols · K      dK = cols^T · dy      dx = col2im(dy · K^T)
 *
 * With dilations (dh, dw) tap (ky, kx) reads x[.., oy*sh - padTop + ky*dh, ox*sw - padLeft + kx*dw, ..];
 * with G groups the kernel is [kh,kw,cin/G,cout] and group gi maps input
 * channels [gi*cin/G, (gi+1)*cin/G) to outputs [gi*cout/G, (gi+1)*cout/G),
 * the same three products per group (src/tensor/kernels/conv2d-grouped.ts).
 * Undilated ungrouped calls take the plain path, unchanged.
 */
import {
  conv2dBackwardInput, conv2dBackwardKernel, conv2dForward, conv2dGeometry, type Padding,
} from '../../tensor/kernels/conv2d.js';
import {
  groupedConvBackwardInput, groupedConvBackwardKernel, groupedConvForward, groupedConvGeometry,
} from '../../tensor/kernels/conv2d-grouped.js';
import { checkOptions } from '../../tensor/options.js';
import { Tensor } from '../../tensor/tensor.js';
import { record } from '../graph.js';
import { checkChannelsLast } from './conv2d-layout.js';

/** Options of the `conv2d` op (exported from the package as `Conv2dOpOptions`). */
export interface Conv2dOptions {
  /** Step between windows: one number for both axes, or [vertical, horizontal]. Default 1. */
  strides?: number | readonly [number, number];
  /**
   * 'valid' (the default, as Keras' Conv2D) uses only windows that fit inside
   * the input: out = ceil((in - k + 1) / stride). 'same' gives out = ceil(in / stride),
   * padding with zeros, the odd extra pixel at the bottom/right.
   */
  padding?: Padding;
  /**
   * Spacing between kernel taps (atrous convolution): one number or
   * [vertical, horizontal]. Default 1. A k-tap window spans (k - 1)*d + 1 pixels.
   */
  dilations?: number | readonly [number, number];
  /**
   * Split the channels into this many groups, each convolved with its own
   * slice of the kernel; the kernel is [kh, kw, inChannels / groups, outChannels]
   * and both channel counts must divide by it. groups = inChannels is a
   * depthwise convolution. Default 1.
   */
  groups?: number;
}

/**
 * 2-D convolution (cross-correlation) of NHWC `x` with an HWIO `kernel`,
 * TensorFlow's geometry; differentiable in both. Errors name the shapes.
 *
 * @example
 * conv2d(zeros([1, 5, 5, 3]), zeros([3, 3, 3, 8])).shape;                      // [1, 3, 3, 8] ('valid')
 * conv2d(zeros([1, 5, 5, 3]), zeros([3, 3, 3, 8]), { padding: 'same', strides: 2 }).shape; // [1, 3, 3, 8]
 * conv2d(zeros([1, 9, 9, 3]), zeros([3, 3, 3, 8]), { dilations: 2 }).shape;            // [1, 5, 5, 8]
 * conv2d(zeros([1, 5, 5, 4]), zeros([3, 3, 1, 8]), { groups: 4 }).shape;               // depthwise, [1, 3, 3, 8]
 */
export function conv2d(x: Tensor, kernel: Tensor, opts: Conv2dOptions = {}): Tensor {
  if (!(x instanceof Tensor) || !(kernel instanceof Tensor)) {
    throw new Error(`conv2d: expected an input Tensor and a kernel Tensor, got ${typeName(x)} and ${typeName(kernel)}`);
  }
  checkOptions('conv2d', opts, ['strides', 'padding', 'dilations', 'groups']);
  const dilations = opts?.dilations ?? 1;
  const groups = opts?.groups ?? 1;
  if (groups !== 1 || !(dilations === 1 || (Array.isArray(dilations) && dilations[0] === 1 && dilations[1] === 1))) {
    return groupedConv2d(x, kernel, opts?.strides ?? 1, opts?.padding ?? 'valid', dilations, groups);
  }
  checkChannelsLast('conv2d', x, kernel);
  const g = conv2dGeometry(x.shape, kernel.shape, opts?.strides ?? 1, opts?.padding ?? 'valid');
  const y = conv2dForward(x.data, kernel.data, g);
  return record('conv2d', y, [g.n, g.oh, g.ow, g.cout], [x, kernel], (gy) => [
    x.requiresGrad ? conv2dBackwardInput(gy, kernel.data, g) : null,
    kernel.requiresGrad ? conv2dBackwardKernel(x.data, gy, g) : null,
  ]);
}

/** The dilated and/or grouped convolution (conv2d-grouped.ts), forward and backward. */
function groupedConv2d(
  x: Tensor, kernel: Tensor, strides: number | readonly [number, number], padding: Padding,
  dilations: number | readonly [number, number], groups: number,
): Tensor {
  const g = groupedConvGeometry(x.shape, kernel.shape, strides, padding, dilations, groups);
  const y = groupedConvForward(x.data, kernel.data, g);
  return record('conv2d', y, [g.n, g.win.oh, g.win.ow, g.cout], [x, kernel], (gy) => [
    x.requiresGrad ? groupedConvBackwardInput(gy, kernel.data, g) : null,
    kernel.requiresGrad ? groupedConvBackwardKernel(x.data, gy, g) : null,
  ]);
}

function typeName(v: unknown): string {
  return v instanceof Tensor ? 'Tensor' : v === null ? 'null' : typeof v;
}
