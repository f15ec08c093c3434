/**
 * The engines that run out of process, PyTorch and onnxruntime-web: their
 * servers, their agreement checks, and one ABAB round of their cells, each
 * timed with the sample plan (warm-up calls, samples, calls per sample) of
 * normgrad's cell from the same round.
 */
import type { Sequential } from '../src/index.js';
import { compareLosses, compareOutputs, GRAD_TOLERANCE, type EngineCheck, type OutputCheck, type OutputDiff } from './loss-check.js';
import type { Engine } from './cases.js';
import { reasonOf, type Cell } from './normgrad-rows.js';
import { exportForOrt, maxRelativeDifference, ORT_CASES, ORT_THREADS, OrtSide, OUTPUT_TOLERANCE } from './ort-rows.js';
import { planOf } from './timing.js';
import { exportForTorch, findTorchPython, TORCH_CASES, TORCH_THREADS, TorchSide } from './torch-rows.js';

const TORCH_ENGINES: Record<number, Engine> = { 1: 'torch-1thr', 2: 'torch-2thr' };
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

export class ExternalEngines {
  torch: TorchSide | null = null;
  /** Why PyTorch has no cells (not found, failed to start, disagreed). */
  torchProblem: string | null = null;
  /** 'torch 1.13.0 (/usr/bin/python3); timed: ...' or 'n/a: ...'; null when not asked for. */
  torchInfo: string | null = null;
  torchCheck: [string, EngineCheck][] | null = null;
  ort: OrtSide[] = [];
  ortProblem: string | null = null;
  ortInfo: string | null = null;
  ortCheck: OutputCheck | null = null;

  constructor(private readonly log: (s: string) => void) {}

  async startTorch(model: Sequential, dir: string): Promise<void> {
    const found = findTorchPython();
    if ('na' in found) {
      this.torchProblem = found.na;
      this.torchInfo = `n/a: ${found.na}`;
      this.log(`torch: n/a: ${found.na}`);
      return;
    }
    try {
      exportForTorch(model, dir);
      this.torch = await TorchSide.start(found.python, dir);
      this.torchInfo = `torch ${this.torch.version} (${found.python}); timed: ${this.torch.timed}`;
    } catch (e) {
      this.torchProblem = `PyTorch failed to start: ${reasonOf(e)}`;
      this.torchInfo = `n/a: ${this.torchProblem}`;
    }
    this.log(`torch: ${this.torchInfo}`);
  }

  /**
   * Loss and gradient of the timed NCHW network (float32, and float64) and of
   * the generated module (float64), from the exported weights. The float32
   * gradient's tolerance adds PyTorch's own float32 error (its distance to
   * its float64 gradient) to GRAD_TOLERANCE: |normgrad - t32| <= |normgrad -
   * t64| + |t64 - t32|, the first term checked by the float64 lines.
   */
  async checkTorch(reference: { loss: number; gradNorm: number }): Promise<void> {
    const torch = this.torch!;
    const checks: [string, EngineCheck][] = [];
    const runs = [
      ['torch float32 (timed NCHW network)', 'nchw', 'float32'],
      ['torch float64 (timed NCHW network)', 'nchw', 'float64'],
      ['torch float64 (pytorchModuleSource module)', 'generated', 'float64'],
    ] as const;
    for (const [name, which, dtype] of runs) {
      try {
        checks.push([name, await torch.check(which, dtype)]);
      } catch (e) {
        checks.push([name, { loss: null, gradNorm: null, reason: reasonOf(e) }]);
      }
    }
    const [f32, f64] = [checks[0]![1], checks[1]![1]];
    if (f32.gradNorm !== null && f64.gradNorm !== null) {
      const own = rel(f32.gradNorm, f64.gradNorm);
      f32.gradTolerance = { tolerance: Math.ceil((GRAD_TOLERANCE + own) * 1e4) / 1e4, why: `${GRAD_TOLERANCE} + PyTorch float32's own ${own.toExponential(2)} from its float64` };
    }
    this.torchCheck = checks;
    if (!compareLosses(reference, checks).ok) this.torchProblem = 'the loss or gradient check failed (see below): not timed';
  }

  async torchRound(own: Map<string, Cell>): Promise<[Engine, Map<string, Cell>][]> {
    const out = TORCH_THREADS.map((t) => [TORCH_ENGINES[t]!, new Map<string, Cell>()] as [Engine, Map<string, Cell>]);
    for (const id of TORCH_CASES) {
      for (const [i, t] of TORCH_THREADS.entries()) {
        const mine = own.get(id);
        let cell: Cell;
        if (this.torchProblem || !this.torch) cell = { ok: false, reason: this.torchProblem ?? 'PyTorch not started' };
        else if (!mine?.ok) cell = { ok: false, reason: 'normgrad has no timing to copy the sample plan from' };
        else {
          try {
            cell = { ok: true, time: await this.torch.time(id, t, planOf(mine.time)) };
          } catch (e) {
            cell = { ok: false, reason: reasonOf(e) };
          }
        }
        out[i]![1].set(id, cell);
        this.log(`  ${TORCH_ENGINES[t]} ${id}: ${cell.ok ? `${cell.time.median.toFixed(3)} ms` : `n/a: ${cell.reason}`}`);
      }
    }
    return out;
  }

  async startOrt(model: Sequential, dir: string): Promise<void> {
    try {
      exportForOrt(model, dir);
      for (const t of ORT_THREADS) this.ort.push(await OrtSide.start(t, dir));
      this.ortInfo = `onnxruntime-web ${this.ort[0]!.version} wasm, numThreads ${this.ort.map((o) => o.threads).join(' and ')}, each cell the better`;
    } catch (e) {
      this.ortProblem = `onnxruntime-web failed to start: ${reasonOf(e)}`;
      this.ortInfo = `n/a: ${this.ortProblem}`;
    }
    this.log(`ort: ${this.ortInfo}`);
  }

  /** Every server's outputs on both inference cases against normgrad's `outputs`. */
  async checkOrt(outputs: Map<string, Float32Array>): Promise<void> {
    const diffs: OutputDiff[] = [];
    if (this.ortProblem) diffs.push({ engine: 'ort', caseId: 'load', relDiff: null, reason: this.ortProblem });
    for (const o of this.ort) {
      for (const id of ORT_CASES) {
        const engine = `onnxruntime-web numThreads ${o.threads}`;
        try {
          diffs.push({ engine, caseId: id, relDiff: maxRelativeDifference(await o.output(id), outputs.get(id)!) });
        } catch (e) {
          diffs.push({ engine, caseId: id, relDiff: null, reason: reasonOf(e) });
        }
      }
    }
    this.ortCheck = compareOutputs(diffs, OUTPUT_TOLERANCE);
    if (!this.ortCheck.ok) this.ortProblem ??= 'the output check failed (see below): not timed';
  }

  /** One round of the inference cases on each thread count; a cell is the thread count with the lower median. */
  async ortRound(own: Map<string, Cell>): Promise<Map<string, Cell>> {
    const cells = new Map<string, Cell>();
    for (const id of ORT_CASES) {
      const mine = own.get(id);
      let cell: Cell;
      if (this.ortProblem || this.ort.length === 0) cell = { ok: false, reason: this.ortProblem ?? 'onnxruntime-web not started' };
      else if (!mine?.ok) cell = { ok: false, reason: 'normgrad has no timing to copy the sample plan from' };
      else {
        try {
          const stats = [];
          for (const o of this.ort) stats.push({ threads: o.threads, time: await o.time(id, planOf(mine.time)) });
          this.log(`  ort ${id}: ${stats.map((s) => `${s.threads} thr ${s.time.median.toFixed(3)} ms`).join(', ')}`);
          const best = stats.reduce((a, b) => (b.time.median < a.time.median ? b : a));
          cell = { ok: true, time: best.time, note: `onnxruntime-web: numThreads ${best.threads}, the faster of ${stats.map((s) => s.threads).join(' and ')} in that round` };
        } catch (e) {
          cell = { ok: false, reason: reasonOf(e) };
        }
      }
      cells.set(id, cell);
    }
    return cells;
  }

  async close(): Promise<void> {
    await this.torch?.close();
    for (const o of this.ort) await o.close();
  }
}
