/**
 * Gradient clipping, with Keras's option names and formulas (tf.keras
 * optimizers' clipvalue, clipnorm, global_clipnorm), applied to copies of the
 * gradients before the optimizer's update (`param.grad` is left as it is):
 *
 *   clipValue c        g = min(max(g, -c), c)                    elementwise
 *   clipNorm c         g = g * c / max(||g||, c)                 each parameter's own norm
 *   globalClipNorm c   g = g * c / max(N, c),  N = sqrt(sum over every gradient of ||g||^2)
 *
 * clipNorm and globalClipNorm exclude each other, as in Keras. clipValue may
 * be combined with either and is applied first, as Keras 2's optimizer_v2 did.
 * Keras 3 and PyTorch differ slightly: docs/optim.md, "Gradient clipping".
 *
 * Norms are summed in float64. A norm that is NaN or infinite makes the scale
 * NaN, so the clipped gradients (and then the weights) are NaN rather than
 * quietly zero (tf.clip_by_global_norm does the same; tf.clip_by_norm would
 * zero the finite entries of a gradient with an infinite norm).
 */
/** The clipping options every optimizer takes (all off by default). */
export interface ClipOptions {
  /** Rescale each parameter's gradient so its L2 norm is at most this (Keras `clipnorm`), > 0. */
  clipNorm?: number;
  /** Rescale all gradients together so their joint L2 norm is at most this (Keras `global_clipnorm`), > 0. */
  globalClipNorm?: number;
  /** Clamp each gradient element to [-clipValue, clipValue] (Keras `clipvalue`), > 0. */
  clipValue?: number;
}

/** The names of the clipping options, to add to an optimizer's option list. */
export const CLIP_OPTIONS = ['clipNorm', 'globalClipNorm', 'clipValue'] as const;

/** Validated clipping settings; null means off. */
export interface Clipping {
  /** Each parameter's gradient is rescaled to L2 norm at most this; null: off. */
  readonly clipNorm: number | null;
  /** All gradients are rescaled together to joint L2 norm at most this; null: off. */
  readonly globalClipNorm: number | null;
  /** Each gradient element is clamped to [-clipValue, clipValue]; null: off. */
  readonly clipValue: number | null;
}

/** No clipping. */
export const NO_CLIPPING: Clipping = Object.freeze({ clipNorm: null, globalClipNorm: null, clipValue: null });

/** Reads and checks the clipping options out of an optimizer's options (other keys are ignored here). */
export function readClipping(owner: string, opts: ClipOptions): Clipping {
  const read = (name: (typeof CLIP_OPTIONS)[number]): number | null => {
    const v = opts[name];
    if (v === undefined) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      throw new Error(`${owner}: ${name} must be a positive finite number, got ${String(v)}`);
    }
    return v;
  };
  const clipping = { clipNorm: read('clipNorm'), globalClipNorm: read('globalClipNorm'), clipValue: read('clipValue') };
  if (clipping.clipNorm !== null && clipping.globalClipNorm !== null) {
    throw new Error(`${owner}: set at most one of clipNorm (per parameter) and globalClipNorm (over all gradients), got both`);
  }
  return Object.freeze(clipping);
}

/**
 * The gradients to use for this step: the inputs themselves when clipping is
 * off, otherwise clipped copies (the inputs are never written).
 */
export function clipGradients(grads: readonly Float32Array[], c: Clipping): Float32Array[] {
  if (c.clipValue === null && c.clipNorm === null && c.globalClipNorm === null) return [...grads];
  const out: Float32Array[] = grads.map((g) => Float32Array.from(g));
  if (c.clipValue !== null) {
    const v = c.clipValue;
    // g = min(max(g, -v), v); NaN stays NaN (Math.max/min propagate it)
    for (const g of out) for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max(g[i]!, -v), v);
  }
  if (c.clipNorm !== null) {
    for (const g of out) scaleInPlace(g, normScale(Math.sqrt(sumOfSquares(g)), c.clipNorm));
  } else if (c.globalClipNorm !== null) {
    const s = normScale(globalNorm(out), c.globalClipNorm);
    for (const g of out) scaleInPlace(g, s);
  }
  return out;
}

/** The L2 norm of all the given gradients taken together (what globalClipNorm compares), in float64. */
export function globalNorm(grads: readonly ArrayLike<number>[]): number {
  let total = 0;
  for (const g of grads) total += sumOfSquares(g);
  return Math.sqrt(total);
}

// scale = c / max(norm, c): 1 when norm <= c; NaN when the norm is not finite.
function normScale(norm: number, c: number): number {
  return Number.isFinite(norm) ? c / Math.max(norm, c) : NaN;
}

function sumOfSquares(g: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i]! * g[i]!;
  return s;
}

function scaleInPlace(g: Float32Array, s: number): void {
  if (s !== 1) for (let i = 0; i < g.length; i++) g[i] = g[i]! * s;
}
