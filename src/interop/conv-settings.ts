/** What an exporter needs to know about a windowed layer (Conv2d, the pools) beyond its weights: geometry and SAME pads. */
import type { Conv2d } from '../layers/conv2d.js';

/** A Conv2d's geometry as exporters need it. */
export interface ConvSettings {
  strides: [number, number];
  padding: 'same' | 'valid';
  dilations: [number, number];
  groups: number;
}

/** A Conv2d's strides, padding, dilations and groups, from its public fields where it has them. */
export function convSettings(conv: Conv2d): ConvSettings {
  // Conv2d keeps strides and padding in its (private) options today; a field of the same name wins.
  const c = conv as unknown as { strides?: unknown; padding?: unknown; dilationRate?: unknown; dilations?: unknown; groups?: unknown; opts?: { strides?: unknown; padding?: unknown } };
  const pair = (v: unknown, fallback: number): [number, number] => {
    const p = v === undefined ? fallback : v;
    return (typeof p === 'number' ? [p, p] : p) as [number, number];
  };
  const padding = (c.padding ?? c.opts?.padding ?? 'valid') as 'same' | 'valid';
  return { strides: pair(c.strides ?? c.opts?.strides, 1), padding, dilations: pair(c.dilationRate ?? c.dilations, 1), groups: (c.groups as number | undefined) ?? 1 };
}

/**
 * [before, after] padding of one axis. SAME (TensorFlow): out = ceil(in / s),
 * total = max((out - 1) * s + (k - 1) * d + 1 - in, 0), before = floor(total / 2).
 * For converters of windowed layers (conv, pooling), whose ONNX ops take these
 * as explicit `pads` [top, left, bottom, right].
 */
export function tfSamePads(size: number, k: number, s: number, d: number, padding: 'same' | 'valid'): [number, number] {
  if (padding === 'valid') return [0, 0];
  const total = Math.max((Math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}
