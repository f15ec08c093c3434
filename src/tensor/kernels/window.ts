/**
 * Sliding-window geometry, shared by every windowed op (conv2d, pooling):
 * TensorFlow's SAME/VALID rules for any window, stride and dilation.
 *
 * Per spatial axis, with input size `in`, window `k`, stride `s`, dilation `d`:
 *   kEff = (k - 1)*d + 1                  (the dilated window's extent)
 *   VALID: out = ceil((in - kEff + 1) / s), no padding (needs in >= kEff)
 *   SAME:  out = ceil(in / s)
 *          padTotal = max((out - 1)*s + kEff - in, 0)
 *          padBefore = floor(padTotal / 2), padAfter = padTotal - padBefore
 * so an odd padding puts the extra pixel at the bottom / right. Output
 * position o reads input positions o*s - padBefore + j*d for j < k.
 */
import { formatShape, type Shape } from '../shape.js';

/** TensorFlow's padding modes: 'same' gives out = ceil(in / stride), 'valid' uses only whole windows. */
export type Padding = 'same' | 'valid';

/** The geometry of one spatial axis: output size and the zero padding on each side. */
export interface WindowAxis {
  /** Output size along the axis. */
  readonly out: number;
  /** Padding before the first element. */
  readonly padBefore: number;
  /** Padding after the last element (SAME puts the odd one here). */
  readonly padAfter: number;
}

/** A 2-D window over [height, width]: sizes, steps, dilations, output size and padding. */
export interface Window2d {
  /** Window (kernel) height. */
  readonly kh: number;
  /** Window (kernel) width. */
  readonly kw: number;
  /** Vertical stride. */
  readonly sh: number;
  /** Horizontal stride. */
  readonly sw: number;
  /** Vertical dilation (1: none). */
  readonly dh: number;
  /** Horizontal dilation (1: none). */
  readonly dw: number;
  /** Output height. */
  readonly oh: number;
  /** Output width. */
  readonly ow: number;
  /** Rows of zeros above the input. */
  readonly padTop: number;
  /** Rows of zeros below the input (SAME puts the odd one here). */
  readonly padBottom: number;
  /** Columns of zeros left of the input. */
  readonly padLeft: number;
  /** Columns of zeros right of the input (SAME puts the odd one here). */
  readonly padRight: number;
  /** The padding mode it was computed for ('same' or 'valid'). */
  readonly padding: Padding;
}

/** What `window2d` takes. `strides` and `dilations` are one number for both axes or [vertical, horizontal]. */
export interface Window2dSpec {
  /** The input's spatial size [height, width]. */
  readonly size: readonly [number, number];
  /** The window's size [kh, kw]. */
  readonly window: readonly [number, number];
  /** Steps between windows (default 1). */
  readonly strides?: number | readonly [number, number];
  /** Spacing between window taps (default 1: none). */
  readonly dilations?: number | readonly [number, number];
  /** 'same' or 'valid'. */
  readonly padding: Padding;
  /** Names the caller in errors (default 'window'). */
  readonly op?: string;
  /** What errors call the window: 'kernel', 'pool' (default 'window'). */
  readonly windowName?: string;
  /** The shapes to quote in errors (default: the sizes themselves). */
  readonly inputShape?: Shape;
  /** The window shape to quote in errors (default: the window itself). */
  readonly windowShape?: Shape;
}

/**
 * Output size and padding of one axis (the rules at the top of this file).
 * Throws, naming `op`, when a VALID window does not fit.
 */
export function windowAxis(size: number, k: number, stride: number, dilation: number, padding: Padding, op = 'window'): WindowAxis {
  const kEff = (k - 1) * dilation + 1;
  if (padding === 'valid') {
    if (size < kEff) throw new Error(`${op}: window ${kEff} with VALID padding does not fit input ${size}`);
    return { out: Math.ceil((size - kEff + 1) / stride), padBefore: 0, padAfter: 0 };
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + kEff - size, 0);
  const padBefore = Math.floor(total / 2);
  return { out, padBefore, padAfter: total - padBefore };
}

/**
 * Validates a 2-D window (positive integer sizes, strides and dilations,
 * padding 'same' or 'valid', a non-empty input) and computes its output size
 * and padding. Errors name `op` and the shapes:
 * `maxPool2d: pool 3x3 with VALID padding does not fit input 2x2 (input [1,2,2,1])`.
 *
 * @example
 * window2d({ size: [28, 28], window: [3, 3], strides: 2, padding: 'same' });
 * // { oh: 14, ow: 14, padTop: 0, padBottom: 1, padLeft: 0, padRight: 1, ... }
 */
export function window2d(spec: Window2dSpec): Window2d {
  const op = spec.op ?? 'window';
  const [h, w] = spec.size;
  const [kh, kw] = spec.window;
  const inShape = spec.inputShape ?? spec.size;
  const winShape = spec.windowShape ?? spec.window;
  const what = spec.windowName ?? 'window';
  if (!(kh >= 1 && kw >= 1 && Number.isInteger(kh) && Number.isInteger(kw))) {
    throw new Error(`${op}: ${what} ${formatShape(winShape)} has an empty window (${kh}x${kw})`);
  }
  const [sh, sw] = positivePair(op, 'strides', spec.strides ?? 1);
  const [dh, dw] = positivePair(op, 'dilations', spec.dilations ?? 1);
  const padding = spec.padding;
  if (padding !== 'same' && padding !== 'valid') {
    throw new Error(`${op}: unknown padding '${String(padding)}'; expected 'same' or 'valid'`);
  }
  if (h === 0 || w === 0) {
    throw new Error(`${op}: input ${formatShape(inShape)} has ${h === 0 ? 'height' : 'width'} 0, so the output would be empty`);
  }
  const ekh = (kh - 1) * dh + 1;
  const ekw = (kw - 1) * dw + 1;
  if (padding === 'valid' && (h < ekh || w < ekw)) {
    const dilated = dh === 1 && dw === 1 ? '' : ` (dilated to ${ekh}x${ekw})`;
    throw new Error(`${op}: ${what} ${kh}x${kw}${dilated} with VALID padding does not fit input ${h}x${w} (input ${formatShape(inShape)})`);
  }
  const y = windowAxis(h, kh, sh, dh, padding, op);
  const x = windowAxis(w, kw, sw, dw, padding, op);
  return {
    kh, kw, sh, sw, dh, dw, oh: y.out, ow: x.out,
    padTop: y.padBefore, padBottom: y.padAfter, padLeft: x.padBefore, padRight: x.padAfter, padding,
  };
}

/** One positive integer for both axes, or a [vertical, horizontal] pair of them. */
function positivePair(op: string, name: string, value: number | readonly [number, number]): [number, number] {
  const pair = typeof value === 'number' ? [value, value] : value;
  if (!Array.isArray(pair) || pair.length !== 2 || !pair.every((s) => Number.isInteger(s) && s >= 1)) {
    const shown = Array.isArray(value) ? `[${value.join(',')}]` : String(value);
    throw new Error(`${op}: ${name} must be a positive integer or a pair of them, got ${shown}`);
  }
  return pair as [number, number];
}
