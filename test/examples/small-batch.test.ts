/**
 * The small-batch experiment (examples/small-batch.ts, examples/small-batch/):
 * a tiny configuration run in-process (table shape, accuracies, the SVG with
 * one line per normalization), the network's layer positions against the
 * lesson network, the renorm schedule, and refused flags.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { leafLayers } from '../../src/index.js';
import { lessonNetwork } from '../../examples/mnist/lesson-network.js';
import { parseSmallBatchArgs, UsageError } from '../../examples/small-batch/args.js';
import { accuracyTable, runSmallBatch } from '../../examples/small-batch/experiment.js';
import { groupsFor, NORM_LABELS, NORMS, normNetwork, renormClipping } from '../../examples/small-batch/network.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'normgrad-small-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runSmallBatch, tiny configuration', () => {
  it('trains every norm at two batch sizes and writes the table and the chart', async () => {
    const args = parseSmallBatchArgs(['--examples', '128', '--batch-sizes', '8,2', '--validation', '100', '--out', dir, '--seed', '3']);
    const log: string[] = [];
    const { runs, table, chartFile } = await runSmallBatch(args, (l) => log.push(l));

    expect(runs).toHaveLength(8);
    for (const r of runs) {
      expect(Number.isFinite(r.validationAccuracy)).toBe(true);
      expect(r.validationAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.validationAccuracy).toBeLessThanOrEqual(1);
      expect(r.steps).toBe(128 / r.batchSize);
      expect(r.lr).toBeCloseTo((0.001 * r.batchSize) / 32, 12);
      // Accuracy over 100 images is a multiple of 1/100.
      expect(Math.abs(r.validationAccuracy * 100 - Math.round(r.validationAccuracy * 100))).toBeLessThan(1e-6);
    }
    // One progress line per run, with its time.
    expect(log.filter((l) => /^\[ ?\d\/8\] .* validation accuracy [01]\.\d{3} \(\d+\.\d s\)$/.test(l))).toHaveLength(8);

    // Rows: header, rule, one per norm; columns: name + one per batch size (sorted).
    const rows = table.split('\n');
    expect(rows).toHaveLength(2 + NORMS.length);
    expect(rows[0]).toBe('| normalization | batch 2 | batch 8 |');
    for (const [i, norm] of NORMS.entries()) {
      const cells = rows[2 + i]!.split('|').slice(1, -1).map((c) => c.trim());
      expect(cells[0]).toBe(NORM_LABELS[norm]);
      expect(cells.slice(1)).toEqual([2, 8].map((b) => runs.find((r) => r.norm === norm && r.batchSize === b)!.validationAccuracy.toFixed(3)));
    }

    expect(chartFile).toBe(join(dir, 'small-batch.svg'));
    const svg = readFileSync(chartFile, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    // Vega draws each series of a line mark as one <path aria-roledescription="line mark"> naming its norm.
    const lines = [...svg.matchAll(/<path aria-label="[^"]*norm: ([^"]*)" role="graphics-symbol" aria-roledescription="line mark" d="M[^"]*L/g)].map((m) => m[1]);
    expect(lines.sort()).toEqual(NORMS.map((n) => NORM_LABELS[n]).sort());
    for (const norm of NORMS) expect(svg).toContain(`>${NORM_LABELS[norm]}</text>`); // the legend
    expect(existsSync(join(dir, 'docs'))).toBe(false); // --docs not given: nothing copied
  }, 120_000);
});

describe('accuracyTable', () => {
  it('puts a dash where a run is missing', () => {
    const run = { norm: 'gn' as const, batchSize: 4, steps: 1, lr: 1, validationAccuracy: 0.12345, finalTrainingLoss: 1, seconds: 1 };
    expect(accuracyTable([run], ['bn', 'gn'], [2, 4])).toBe(
      '| normalization | batch 2 | batch 4 |\n|---|---|---|\n| BatchNorm | - | - |\n| GroupNorm | - | 0.123 |',
    );
  });
});

describe('normNetwork', () => {
  it('puts the chosen normalization exactly where the lesson network has BatchNorm', () => {
    const lesson = leafLayers(lessonNetwork({ batchNorm: true, seed: 1 })).map((l) => l.layer.constructor.name);
    const expected = { bn: 'BatchNorm', renorm: 'BatchNorm', gn: 'GroupNorm', ln: 'LayerNorm' };
    for (const norm of NORMS) {
      const kinds = leafLayers(normNetwork({ norm, seed: 1, momentum: 0.9 })).map((l) => l.layer.constructor.name);
      expect(kinds).toEqual(lesson.map((k) => (k === 'BatchNorm' ? expected[norm] : k)));
    }
  });

  it('chooses GroupNorm groups that divide the channels', () => {
    expect([4, 8, 100, 6, 3].map(groupsFor)).toEqual([4, 4, 4, 2, 1]);
  });
});

describe('renormClipping', () => {
  it('is plain BN for the first tenth, then ramps rMax to 3 by half way and dMax to 5 by 35%', () => {
    expect(renormClipping(0)).toEqual({ rMax: 1, dMax: 0 });
    expect(renormClipping(0.1)).toEqual({ rMax: 1, dMax: 0 });
    expect(renormClipping(0.3).rMax).toBeCloseTo(2, 12);
    expect(renormClipping(0.3).dMax).toBeCloseTo(4, 12);
    expect(renormClipping(0.5)).toEqual({ rMax: 3, dMax: 5 });
    expect(renormClipping(1)).toEqual({ rMax: 3, dMax: 5 });
  });
});

describe('parseSmallBatchArgs', () => {
  it('has the documented defaults', () => {
    const a = parseSmallBatchArgs([]);
    expect(a).toMatchObject({ batchSizes: [2, 4, 8, 16, 32], norms: ['bn', 'renorm', 'gn', 'ln'], examples: 4096, validation: 1000, lr: 0.001, momentum: 0.9, seed: 1, out: 'out', docs: false });
  });

  it.each([
    [['--batch-sizes', '1,2'], /at least 2/],
    [['--batch-sizes', '2,,4'], /comma-separated/],
    [['--batch-sizes', '2,2'], /twice/],
    [['--batch-sizes', '2.5'], /positive integer/],
    [['--norms', 'bn,instance'], /unknown normalization 'instance'/],
    [['--examples', '0'], /positive integer/],
    [['--examples', '16', '--batch-sizes', '32'], /smaller than the largest batch size 32/],
    [['--validation', '2000'], /at most 1000/],
    [['--lr=-1'], /positive number/],
    [['--momentum', '1'], /\[0, 1\)/],
    [['--seed', 'x'], /non-negative integer/],
    [['--bogus'], /bogus/],
    [['extra'], /extra/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseSmallBatchArgs(argv)).toThrow(UsageError);
    expect(() => parseSmallBatchArgs(argv)).toThrow(message);
  });

  it('exits with code 2 and the usage on a bad flag from the command line', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'small-batch.ts'), '--norms', 'bn,xx'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("small-batch: --norms: unknown normalization 'xx'");
    expect(r.stderr).toContain('Usage: npm run example:small-batch');
  }, 60_000);
});
