/** What an exporter needs to know about a Conv2d beyond its kernel. */
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
