/**
 * Smoke test of the benchmark (bench/): the pieces run on tiny sizes and
 * produce a well-formed result. No timing is asserted; the real bench is
 * `npm run bench`, not part of the test suite.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';
import { buildCases, TINY_SIZES } from '../../bench/cases.js';
import { networkFlops, probeShapes } from '../../bench/flops.js';
import { compareLosses, compareOutputs } from '../../bench/loss-check.js';
import { maxRelativeDifference } from '../../bench/ort-rows.js';
import { findTorchPython } from '../../bench/torch-rows.js';
import { parseEngines, runBench, type BenchResult, type RowValue } from '../../bench/run-bench.js';
import { scalarPeak } from '../../bench/scalar-peak.js';
import { formatReport } from '../../bench/table.js';
import { better, planOf, summarize } from '../../bench/timing.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function expectStat(v: RowValue | undefined): void {
  expect(v).toBeDefined();
  if (!v || 'na' in v) throw new Error(`expected a measurement, got ${JSON.stringify(v)}`);
  for (const x of [v.min, v.median, v.max]) {
    expect(Number.isFinite(x)).toBe(true);
    expect(x).toBeGreaterThan(0);
  }
  expect(v.min).toBeLessThanOrEqual(v.median);
  expect(v.median).toBeLessThanOrEqual(v.max);
  expect(v.runs).toBeGreaterThanOrEqual(1);
}

describe('bench', () => {
  it('counts the lesson network at 1.28 GFLOP per training step at batch 64 (3 x forward, padding taps included)', () => {
    const shapes = probeShapes(lessonNetwork({ batchNorm: true, seed: 1 }), [28, 28, 1]);
    expect(shapes.convs).toHaveLength(19);
    expect(shapes.convs[0]).toMatchObject({ input: [28, 28, 1], kernel: [3, 3, 1, 4], output: [28, 28, 4] });
    expect(shapes.convs[18]).toMatchObject({ input: [1, 1, 72], kernel: [3, 3, 72, 76], output: [1, 1, 76] });
    expect(shapes.denses).toEqual([{ name: 'dense1', inFeatures: 76, units: 100 }, { name: 'dense2', inFeatures: 100, units: 10 }]);
    const f = networkFlops(shapes, 64);
    expect(f.forward).toBe(426_621_952);
    expect(f.trainStep).toBe(3 * f.forward);
    expect(f.trainStep / 1e9).toBeCloseTo(1.28, 2);
    // A 1x1 input sees only the centre tap of a 3x3 SAME window.
    expect(shapes.convs[18]!.usefulMacs).toBe(72 * 76);
  });

  it('summarizes samples as min / median / max', () => {
    expect(summarize([3, 1, 2])).toMatchObject({ min: 1, median: 2, max: 3, runs: 3 });
    expect(summarize([4, 1, 3, 2]).median).toBe(2.5);
  });

  it('fails the loss check when the engines disagree or none could compute a loss', () => {
    const ref = { loss: 0.7, gradNorm: 4 };
    expect(compareLosses(ref, [['tfjs-cpu', { loss: 0.70000001, gradNorm: 4.0001 }]]).ok).toBe(true);
    const off = compareLosses(ref, [['tfjs-cpu', { loss: 0.71, gradNorm: 4 }]]);
    expect(off.ok).toBe(false);
    expect(off.lines[0]).toMatch(/^loss check: normgrad 0\.700000 vs tfjs-cpu 0\.710000 \(rel diff 1\.41e-2, tolerance 0\.00001\) FAIL$/);
    expect(compareLosses(ref, [['tfjs-cpu', { loss: 0.7, gradNorm: 5 }]]).ok).toBe(false);
    expect(compareLosses(ref, [['tfjs-wasm', { loss: null, gradNorm: null, reason: 'no backend' }]]).ok).toBe(false);
    // An engine's own tolerance (PyTorch float32: GRAD_TOLERANCE + its float32-vs-float64 distance) is used and stated.
    const own = compareLosses(ref, [['torch', { loss: 0.7, gradNorm: 4.01, gradTolerance: { tolerance: 0.004, why: 'because' } }]]);
    expect(own.ok).toBe(true);
    expect(own.lines[1]).toContain('(rel diff 2.49e-3, tolerance 0.004: because) ok');
    expect(compareLosses(ref, [['torch', { loss: 0.7, gradNorm: 4.01 }]]).ok).toBe(false);
  });

  it('parses --vs', () => {
    expect(parseEngines(['tfjs'])).toEqual(['tfjs-cpu', 'tfjs-wasm']);
    expect(parseEngines(['tfjs-wasm,tfjs-cpu', 'tfjs'])).toEqual(['tfjs-wasm', 'tfjs-cpu']);
    expect(parseEngines(['torch', 'ort'])).toEqual(['torch-1thr', 'torch-2thr', 'ort']);
    expect(() => parseEngines(['jax'])).toThrow(/unknown --vs 'jax'/);
  });

  it('keeps the round with the lower median and hands its sample plan to the other engine', () => {
    const a = { ...summarize([5, 6, 7], 2), warmup: 4 };
    const b = summarize([4, 9, 9]);
    expect(better(a, b)).toBe(a);
    expect(better(b, a)).toBe(a);
    expect(planOf(a)).toEqual({ warmup: 4, runs: 3, inner: 2 });
  });

  it('fails the output check when onnxruntime-web disagrees, failed, or nothing was compared', () => {
    // max |a - e| / max |e| = 0.002 / 2
    expect(maxRelativeDifference([1, -2.002], [1, -2])).toBeCloseTo(1e-3, 12);
    expect(compareOutputs([{ engine: 'ort', caseId: 'inference', relDiff: 2e-6 }], 1e-5).ok).toBe(true);
    const off = compareOutputs([{ engine: 'ort', caseId: 'inference', relDiff: 2e-6 }, { engine: 'ort', caseId: 'inference-1', relDiff: 3e-5 }], 1e-5);
    expect(off.ok).toBe(false);
    expect(off.lines[1]).toBe('output check: normgrad vs ort inference-1: max rel diff 3.00e-5 (tolerance 0.00001) FAIL');
    expect(compareOutputs([{ engine: 'ort', caseId: 'inference', relDiff: null, reason: 'no wasm' }], 1e-5).ok).toBe(false);
    expect(compareOutputs([], 1e-5).ok).toBe(false);
  });

  it('says "no python3 with torch" when no candidate imports torch', () => {
    expect(findTorchPython(['/nonexistent/python3'])).toEqual({ na: 'no python3 with torch' });
  });

  it('runs every normgrad row on tiny sizes and reports finite positive figures', async () => {
    const result: BenchResult = await runBench({ quick: true, tiny: true, vs: [] });
    const shapes = probeShapes(lessonNetwork({ batchNorm: true, seed: 1 }), [28, 28, 1]);
    const cases = buildCases(TINY_SIZES, shapes);
    const expectedRows = cases.reduce((n, c) => n + c.units.length, 0);
    expect(result.rows).toHaveLength(expectedRows);
    expect(result.rows.map((r) => r.label)).toEqual(expect.arrayContaining([
      'GEMM 8×8×8', 'GEMM conv1 fwd (28×28) M=1568 K=9 N=4', 'conv2d 2×6×6×3→5 3×3 SAME kernel grad',
      'batch norm train fwd+bwd 2×3×3×4', 'lesson net train step, batch 2', 'lesson net inference, batch 1',
    ]));
    for (const row of result.rows) expectStat(row.values.normgrad);
    expect(result.options.engines).toEqual(['normgrad']);
    expect(result.lossCheck).toBeNull();
    expect(result.flops.trainStep).toBeGreaterThan(0);
    expect(result.machine.cores).toBeGreaterThan(0);

    const report = formatReport(result);
    expect(report).toContain('| Benchmark | unit | normgrad |');
    expect(report).toContain('| lesson net train step, batch 2 | ms |');
    // gemmJs read against the scalar probe of the same run: the percentage is the ratio of the two medians.
    const rate = (id: string): number => (result.rows.find((r) => r.id === id)!.values.normgrad as { median: number }).median;
    const pct = ((100 * rate('gemm-js-19')) / rate('scalar-peak')).toFixed(0);
    expect(report).toContain(`, ${pct}% of the scalar peak probe's `);
  });

  it('the scalar peak probe computes its eight chains: a·b + a·c + b·c + a² + b² + c² + a·d + b·d per step with a = 1, b = 1/2, c = 1/4, d = 1/8', () => {
    // per step 0.5 + 0.25 + 0.125 + 1 + 0.25 + 0.0625 + 0.125 + 0.0625 = 2.375, exact in float64
    expect(scalarPeak(1000)).toBe(2375);
    expect(scalarPeak(1)).toBe(2.375);
  });

  it('compares with TensorFlow.js from the command line: loss check, ratios, n/a rows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'normgrad-bench-'));
    try {
      const json = join(dir, 'bench.json');
      const r = spawnSync('npx', ['tsx', 'bench/bench.ts', '--tiny', '--quick', '--vs', 'tfjs', '--json', json], {
        cwd: ROOT, encoding: 'utf8', timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/loss check: normgrad 0\.\d+ vs tfjs-cpu 0\.\d+ \(rel diff [\d.e+-]+, tolerance 0\.00001\) ok/);
      expect(r.stdout).toMatch(/grad check: .* vs tfjs-cpu .* ok/);
      const result = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
      expect(result.options.engines).toEqual(['normgrad', 'tfjs-cpu', 'tfjs-wasm']);
      expect(result.lossCheck?.ok).toBe(true);
      const row = (id: string) => result.rows.find((x) => x.id === id)!;
      expectStat(row('gemm-8').values['tfjs-cpu']);
      expect(row('gemm-8').ratios['tfjs-cpu']).toBeGreaterThan(0);
      expectStat(row('train-step').values['tfjs-cpu']);
      // The wasm backend has no Conv2DBackpropFilter kernel: those rows say why instead of failing.
      expect(row('conv-kernel-grad').values['tfjs-wasm']).toEqual({ na: expect.stringContaining('Conv2DBackpropFilter') });
      expect(row('train-step').values['tfjs-wasm']).toEqual({ na: expect.stringContaining('Conv2DBackpropFilter') });
      expect(r.stdout).toContain("n/a: Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);

  const torch = findTorchPython();
  const torchNote = 'python' in torch ? `PyTorch rows and checks with ${torch.python} (torch ${torch.version})` : 'PyTorch rows n/a: no python3 with torch found';
  it(`compares with onnxruntime-web and PyTorch from the command line, ABAB in two rounds: agreement checks, rows, ratios (${torchNote})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'normgrad-bench-'));
    try {
      const json = join(dir, 'bench.json');
      const r = spawnSync('npx', ['tsx', 'bench/bench.ts', '--tiny', '--quick', '--vs', 'torch', '--vs', 'ort', '--json', json], {
        cwd: ROOT, encoding: 'utf8', timeout: 150_000,
      });
      expect(r.status, r.stderr).toBe(0);
      const result = JSON.parse(readFileSync(json, 'utf8')) as BenchResult;
      expect(result.options.engines).toEqual(['normgrad', 'torch-1thr', 'torch-2thr', 'ort']);
      expect(result.options.rounds).toBe(2);
      expect(result.lossCheck?.ok).toBe(true);
      expect(result.machine.cpu.length).toBeGreaterThan(0);
      const row = (id: string) => result.rows.find((x) => x.id === id)!;
      // onnxruntime-web: normgrad's ONNX export agrees to 1e-5 on both inference cases, on 1 and 2 threads.
      for (const threads of [1, 2]) {
        for (const c of ['inference', 'inference-1']) {
          expect(r.stdout).toMatch(new RegExp(`output check: normgrad vs onnxruntime-web numThreads ${threads} ${c}: max rel diff [\\d.e+-]+ \\(tolerance 0\\.00001\\) ok`));
        }
      }
      expect(result.machine.ort).toMatch(/^onnxruntime-web \d+\.\d+/);
      for (const id of ['inference', 'inference-1']) {
        expectStat(row(id).values.ort);
        expect(row(id).ratios.ort).toBeGreaterThan(0);
      }
      expect(row('train-step').values.ort).toBeUndefined();
      if ('python' in torch) {
        expect(result.machine.torch).toContain(`torch ${torch.version} (${torch.python})`);
        // The timed network in float32 and float64, the generated module in float64, all from the same exported weights.
        for (const net of ['float32 \\(timed NCHW network\\)', 'float64 \\(timed NCHW network\\)', 'float64 \\(pytorchModuleSource module\\)']) {
          expect(r.stdout).toMatch(new RegExp(`loss check: normgrad 0\\.\\d+ vs torch ${net} 0\\.\\d+ \\(rel diff [\\d.e+-]+, tolerance 0\\.00001\\) ok`));
          expect(r.stdout).toMatch(new RegExp(`grad check: .* vs torch ${net} .* ok`));
        }
        expect(r.stdout).toMatch(/grad check: .* vs torch float64 \(pytorchModuleSource module\) .*tolerance 0\.001\) ok/);
        for (const id of ['train-step', 'inference', 'inference-1']) {
          for (const e of ['torch-1thr', 'torch-2thr'] as const) {
            expectStat(row(id).values[e]);
            expect(row(id).ratios[e]).toBeGreaterThan(0);
          }
        }
        expect(r.stdout).toMatch(/\| lesson net train step, batch 2 \| ms \| [^|]+ \| [^|]+ \| [\d.]+× \| [^|]+ \| [\d.]+× \|/);
      } else {
        expect(result.machine.torch).toBe('n/a: no python3 with torch');
        expect(row('train-step').values['torch-2thr']).toEqual({ na: 'no python3 with torch' });
        expect(r.stdout).toContain('n/a: no python3 with torch');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
