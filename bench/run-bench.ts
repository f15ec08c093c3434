/**
 * The whole benchmark as one function (bench.ts is its command line; the
 * smoke test calls it with tiny sizes). Order: build the lesson network and
 * snapshot its weights; export them for PyTorch and onnxruntime-web and start
 * their servers; the agreement checks (loss and first-kernel gradient for
 * TF.js and PyTorch, inference outputs for onnxruntime-web); then `rounds`
 * rounds (ABAB): normgrad's cells, then every other engine's, each cell
 * keeping the round with the lower median.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lessonNetwork } from '../examples/mnist/lesson-network.js';
import { buildCases, FULL_SIZES, lessonBatch, TINY_SIZES, type BenchCase, type Engine, type Unit } from './cases.js';
import { networkFlops, probeShapes, type NetworkFlops, type NetworkShapes } from './flops.js';
import { noGrad, Tensor } from '../src/index.js';
import { ExternalEngines } from './external-engines.js';
import { compareLosses, GRAD_TOLERANCE, LOSS_TOLERANCE, type EngineCheck, type LossCheck, type OutputCheck } from './loss-check.js';
import { normgradCells, normgradLossAndGrad, reasonOf, type Cell, type Lesson } from './normgrad-rows.js';
import { OUTPUT_TOLERANCE } from './ort-rows.js';
import { better, DEFAULT_TIMING, QUICK_TIMING, rate, type Stat, type TimingOptions } from './timing.js';

export interface BenchOptions {
  /** Fewer, shorter samples: a smoke run. */
  quick?: boolean;
  /** Tiny sizes (the test's); the figures mean nothing. */
  tiny?: boolean;
  /** Engines to compare with: 'tfjs' (both backends), 'tfjs-cpu', 'tfjs-wasm', 'torch' (1 and 2 threads), 'ort'. */
  vs?: readonly string[];
  /** Rounds of the engines in turn (default 2: ABAB). */
  rounds?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** A table cell: a rate or time stat, or why the engine has none. */
export type RowValue = (Stat & { note?: string }) | { na: string };

export interface Row {
  id: string;
  label: string;
  unit: Unit;
  values: Partial<Record<Engine, RowValue>>;
  /** normgrad median / engine median, per compared engine (null when either is missing). */
  ratios: Partial<Record<Engine, number | null>>;
}

export interface BenchResult {
  machine: {
    cpu: string; cores: number; node: string; platform: string; date: string; backends: string[];
    /** PyTorch's version, python and timed network, or 'n/a: why'; null when not compared. */
    torch: string | null;
    /** onnxruntime-web's version and threads, or 'n/a: why'; null when not compared. */
    ort: string | null;
  };
  options: { quick: boolean; tiny: boolean; engines: Engine[]; rounds: number };
  flops: NetworkFlops & { forwardBatch1: number };
  shapes: NetworkShapes;
  rows: Row[];
  lossCheck: LossCheck | null;
  seconds: number;
}

export const SEED = 1;

export function parseEngines(vs: readonly string[]): Engine[] {
  const engines: Engine[] = [];
  for (const v of vs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const add: Engine[] | null = v === 'tfjs' ? ['tfjs-cpu', 'tfjs-wasm'] : v === 'tfjs-cpu' || v === 'tfjs-wasm' || v === 'ort' ? [v]
      : v === 'torch' ? ['torch-1thr', 'torch-2thr'] : null;
    if (!add) throw new Error(`bench: unknown --vs '${v}' (expected tfjs, tfjs-cpu, tfjs-wasm, torch or ort)`);
    for (const e of add) if (!engines.includes(e)) engines.push(e);
  }
  return engines;
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchResult> {
  const start = performance.now();
  const quick = opts.quick ?? false;
  const tiny = opts.tiny ?? false;
  const log = opts.log ?? ((): void => {});
  const others = parseEngines(opts.vs ?? []);
  const sizes = tiny ? TINY_SIZES : FULL_SIZES;
  const timing: TimingOptions = quick ? QUICK_TIMING : DEFAULT_TIMING;
  const rounds = opts.rounds ?? 2;

  const model = lessonNetwork({ batchNorm: true, seed: SEED });
  const shapes = probeShapes(model, [28, 28, 1]);
  const snapshot = new Map([...model.stateDict()].map(([k, t]) => [k, Float32Array.from(t.data)] as const));
  const { x, y } = lessonBatch(sizes.batch, SEED + 1);
  const lesson: Lesson = { model, x, y, batch: sizes.batch };
  const cases = buildCases(sizes, shapes);
  const tfjsEngines = others.filter((e): e is 'tfjs-cpu' | 'tfjs-wasm' => e.startsWith('tfjs'));
  const wantTorch = others.some((e) => e.startsWith('torch'));
  const wantOrt = others.includes('ort');

  // Exports and inference outputs come from the snapshot's weights, before the
  // loss check's training-mode pass moves the batch-norm statistics.
  const dir = wantTorch || wantOrt ? mkdtempSync(path.join(os.tmpdir(), 'normgrad-bench-')) : null;
  const external = new ExternalEngines(log);
  try {
    if (dir) {
      writeFileSync(path.join(dir, 'x.f32'), x);
      writeFileSync(path.join(dir, 'y.f32'), y);
    }
    const outputs = wantOrt ? inferenceOutputs(lesson) : null;
    if (wantTorch) await external.startTorch(model, dir!);
    if (wantOrt) await external.startOrt(model, dir!);
    const reference = others.length > 0 ? normgradLossAndGrad(lesson) : null;
    if (external.torch) await external.checkTorch(reference!);
    if (outputs) await external.checkOrt(outputs);

    // ABAB: normgrad, then every other engine, then again; a cell keeps the round with the lower median.
    const cells = new Map<Engine, Map<string, Cell>>();
    const checks: [string, EngineCheck][] = [];
    const backends: string[] = [];
    for (let round = 1; round <= rounds; round++) {
      log(`round ${round} of ${rounds}`);
      log('normgrad');
      const own = normgradCells(cases, lesson, timing, log);
      merge(cells, 'normgrad', own);
      for (const engine of tfjsEngines) {
        log(engine);
        const before = cells.get(engine);
        // Slow cells (TF.js cpu: seconds to minutes per call) and failed ones are not run again.
        const skip = new Set([...(before ?? [])].filter(([, c]) => !c.ok || c.time.firstCallTimed || c.note).map(([id]) => id));
        const r = await tfjsRound(engine, cases, { model, shapes, snapshot, x, y, batch: sizes.batch }, timing, log, skip);
        merge(cells, engine, r.cells);
        if (round === 1) {
          checks.push([engine, r.check]);
          backends.push(r.info);
        }
      }
      if (wantTorch) for (const [engine, c] of await external.torchRound(own)) merge(cells, engine, c);
      if (wantOrt) merge(cells, 'ort', await external.ortRound(own));
    }
    if (external.torchCheck) checks.push(...external.torchCheck);
    const torchNotes = wantTorch && !external.torch ? [`loss check: PyTorch ${external.torchInfo}`] : [];

    const engines: Engine[] = ['normgrad', ...others];
    return {
      machine: machine(backends, external),
      options: { quick, tiny, engines, rounds },
      flops: { ...networkFlops(shapes, sizes.batch), forwardBatch1: networkFlops(shapes, 1).forward },
      shapes,
      rows: cases.flatMap((c) => rowsOf(c, engines, cells)),
      lossCheck: reference ? combineChecks(reference, checks, external.ortCheck, torchNotes) : null,
      seconds: (performance.now() - start) / 1000,
    };
  } finally {
    await external.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Keeps, per case, the cell with the lower median time (a timed cell over an n/a one). */
function merge(cells: Map<Engine, Map<string, Cell>>, engine: Engine, round: Map<string, Cell>): void {
  const kept = cells.get(engine) ?? new Map<string, Cell>();
  cells.set(engine, kept);
  for (const [id, cell] of round) {
    const old = kept.get(id);
    if (!old || !old.ok) kept.set(id, old && !cell.ok ? old : cell);
    else if (cell.ok && better(old.time, cell.time) === cell.time) kept.set(id, cell);
  }
}

let tfjsModule: typeof import('./tfjs-rows.js') | string | undefined;

async function tfjsRound(
  engine: 'tfjs-cpu' | 'tfjs-wasm', cases: readonly BenchCase[], lesson: import('./tfjs-rows.js').TfjsLesson,
  timing: TimingOptions, log: (s: string) => void, skip: ReadonlySet<string>,
): Promise<{ cells: Map<string, Cell>; check: EngineCheck; info: string }> {
  if (tfjsModule === undefined) {
    try {
      tfjsModule = await import('./tfjs-rows.js');
    } catch (e) {
      tfjsModule = `could not load TensorFlow.js: ${reasonOf(e)}`;
    }
  }
  if (typeof tfjsModule === 'string') {
    const reason = tfjsModule;
    return { cells: new Map(cases.map((c) => [c.id, { ok: false, reason }])), check: { loss: null, gradNorm: null, reason }, info: `${engine}: not loaded` };
  }
  return tfjsModule.tfjsCells(engine === 'tfjs-cpu' ? 'cpu' : 'wasm', cases, lesson, timing, log, skip);
}

/** normgrad's inference outputs (isTraining false) on the lesson batch and its first example. */
function inferenceOutputs(lesson: Lesson): Map<string, Float32Array> {
  const at = (batch: number): Float32Array => noGrad(() => lesson.model.call(new Tensor(lesson.x.slice(0, batch * 784), [batch, 28, 28, 1]), { isTraining: false })).data;
  return new Map([['inference', at(lesson.batch)], ['inference-1', at(1)]]);
}

/** The CPU model as /proc/cpuinfo names it (os.cpus() elsewhere). */
function cpuModel(): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1]!.trim();
  } catch {
    // not Linux
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown';
}

function machine(backends: string[], external: ExternalEngines): BenchResult['machine'] {
  return {
    cpu: cpuModel(), cores: os.cpus().length, node: process.version,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`, date: new Date().toISOString(), backends,
    torch: external.torchInfo, ort: external.ortInfo,
  };
}

/** The loss checks and the onnxruntime output check as one verdict. */
function combineChecks(reference: { loss: number; gradNorm: number }, checks: [string, EngineCheck][], ort: OutputCheck | null, notes: string[]): LossCheck {
  const losses = checks.length > 0 ? compareLosses(reference, checks) : null;
  const lines = [...(losses?.lines ?? []), ...(ort?.lines ?? []), ...notes];
  const ok = (losses?.ok ?? true) && (ort?.ok ?? true);
  return { tolerance: { loss: LOSS_TOLERANCE, gradNorm: GRAD_TOLERANCE, output: OUTPUT_TOLERANCE }, normgrad: reference, others: losses?.others ?? [], outputs: ort?.diffs ?? [], ok, lines };
}

const SCALE: Record<Unit, number> = { 'GFLOP/s': 1e9, 'GB/s': 1e9, ms: 1 };

function rowsOf(c: BenchCase, engines: readonly Engine[], cells: Map<Engine, Map<string, Cell>>): Row[] {
  return c.units.map((unit) => {
    const values: Partial<Record<Engine, RowValue>> = {};
    for (const e of engines) {
      const cell = cells.get(e)?.get(c.id);
      if (!cell) continue;
      if (!cell.ok) {
        values[e] = { na: cell.reason };
        continue;
      }
      const stat = unit === 'ms' ? cell.time : rate(cell.time, c.work, SCALE[unit]);
      const slow = cell.time.firstCallTimed ? `slow: ${stat.runs} run${stat.runs > 1 ? 's' : ''}, the first call included (no warm-up)` : undefined;
      const note = cell.note ?? slow;
      values[e] = note ? { ...stat, note } : stat;
    }
    const ratios: Partial<Record<Engine, number | null>> = {};
    const own = values.normgrad;
    for (const e of engines.slice(1)) {
      const v = values[e];
      ratios[e] = own && v && 'median' in own && 'median' in v ? own.median / v.median : null;
    }
    return { id: unit === c.units[0] ? c.id : `${c.id}-${unit === 'ms' ? 'ms' : 'rate'}`, label: c.label, unit, values, ratios };
  });
}
