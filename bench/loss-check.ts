/**
 * Do the two engines compute the same thing? Same weights, same batch, one
 * training-mode forward + backward, no update: the loss and the L2 norm of
 * the first conv kernel's gradient must agree to a relative tolerance.
 *
 * The tolerances leave room for float32 summation order only: the loss is a
 * mean over 640 logits behind 20 layers, so differences of ~1e-7..1e-6 are
 * expected (PyTorch 1.7e-7 at batch 64) and 1e-5 is a real disagreement; the
 * gradient reaches conv1 through 20 batch norms, each dividing by a batch
 * standard deviation, and gets a looser 1e-3. An engine whose own float32
 * gradient is further than that from its float64 one (PyTorch's oneDNN
 * float32: 2.7e-3 at batch 64, while normgrad's float32 is 1.7e-6 from
 * PyTorch's float64) states its own tolerance and why (`gradTolerance`), and
 * its float64 gradient is checked against normgrad's at 1e-3.
 */
export const LOSS_TOLERANCE = 1e-5;
export const GRAD_TOLERANCE = 1e-3;

export interface EngineCheck {
  loss: number | null;
  gradNorm: number | null;
  /** Why the loss or gradient is missing. */
  reason?: string;
  /** A gradient tolerance of this engine's own (default GRAD_TOLERANCE), and why. */
  gradTolerance?: { tolerance: number; why: string };
}

export interface Comparison extends EngineCheck {
  /** The engine, or the engine and which of its networks ('torch (pytorchModuleSource)'). */
  engine: string;
  lossRelDiff: number | null;
  gradRelDiff: number | null;
}

/** An inference-only engine's outputs against normgrad's (onnxruntime-web). */
export interface OutputDiff {
  engine: string;
  caseId: string;
  /** max |a - e| / max |e| over the outputs, null when the engine failed. */
  relDiff: number | null;
  reason?: string;
}

export interface OutputCheck {
  diffs: OutputDiff[];
  ok: boolean;
  lines: string[];
}

export interface LossCheck {
  tolerance: { loss: number; gradNorm: number; output?: number };
  normgrad: { loss: number; gradNorm: number };
  others: Comparison[];
  /** Output comparisons of inference-only engines. */
  outputs?: OutputDiff[];
  /** At least one loss compared, and every comparison within tolerance. */
  ok: boolean;
  lines: string[];
}

const relDiff = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

export function compareLosses(normgrad: { loss: number; gradNorm: number }, others: [string, EngineCheck][]): LossCheck {
  const comparisons: Comparison[] = others.map(([engine, c]) => ({
    engine, ...c,
    lossRelDiff: c.loss === null ? null : relDiff(normgrad.loss, c.loss),
    gradRelDiff: c.gradNorm === null ? null : relDiff(normgrad.gradNorm, c.gradNorm),
  }));
  const lines: string[] = [];
  let compared = 0;
  let ok = true;
  for (const c of comparisons) {
    if (c.lossRelDiff === null || c.loss === null) {
      lines.push(`loss check: ${c.engine} could not compute the loss (${c.reason ?? 'unknown reason'})`);
      continue;
    }
    compared++;
    const lossOk = c.lossRelDiff <= LOSS_TOLERANCE;
    ok &&= lossOk;
    lines.push(`loss check: normgrad ${normgrad.loss.toFixed(6)} vs ${c.engine} ${c.loss.toFixed(6)} (rel diff ${c.lossRelDiff.toExponential(2)}, tolerance ${LOSS_TOLERANCE}) ${lossOk ? 'ok' : 'FAIL'}`);
    if (c.gradRelDiff === null || c.gradNorm === null) {
      lines.push(`grad check: ${c.engine} has no gradient (${c.reason ?? 'unknown reason'})`);
      continue;
    }
    const tolerance = c.gradTolerance?.tolerance ?? GRAD_TOLERANCE;
    const gradOk = c.gradRelDiff <= tolerance;
    ok &&= gradOk;
    const why = c.gradTolerance ? `: ${c.gradTolerance.why}` : '';
    lines.push(`grad check: |dL/d conv1 kernel| normgrad ${normgrad.gradNorm.toExponential(6)} vs ${c.engine} ${c.gradNorm.toExponential(6)} (rel diff ${c.gradRelDiff.toExponential(2)}, tolerance ${tolerance}${why}) ${gradOk ? 'ok' : 'FAIL'}`);
  }
  if (compared === 0) {
    ok = false;
    lines.push('loss check: FAIL, no other engine produced a loss to compare with');
  }
  return { tolerance: { loss: LOSS_TOLERANCE, gradNorm: GRAD_TOLERANCE }, normgrad, others: comparisons, ok, lines };
}

/** Checks each output comparison against `tolerance`; at least one must have compared. */
export function compareOutputs(diffs: OutputDiff[], tolerance: number): OutputCheck {
  const lines: string[] = [];
  let ok = diffs.some((d) => d.relDiff !== null);
  for (const d of diffs) {
    if (d.relDiff === null) {
      ok = false;
      lines.push(`output check: ${d.engine} ${d.caseId} failed (${d.reason ?? 'unknown reason'}) FAIL`);
      continue;
    }
    const good = d.relDiff <= tolerance;
    ok &&= good;
    lines.push(`output check: normgrad vs ${d.engine} ${d.caseId}: max rel diff ${d.relDiff.toExponential(2)} (tolerance ${tolerance}) ${good ? 'ok' : 'FAIL'}`);
  }
  if (diffs.length === 0) lines.push('output check: FAIL, nothing compared');
  return { diffs, ok, lines };
}
