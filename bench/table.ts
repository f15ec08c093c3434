/** The benchmark result as markdown: a header, the table, its footnotes, the loss check. */
import { BN_BYTES_PER_ELEMENT } from './cases.js';
import type { BenchResult, RowValue } from './run-bench.js';
import { DEFAULT_TIMING, QUICK_TIMING } from './timing.js';

/** Three significant digits, no exponent for the magnitudes that occur here. */
export function num(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  if (a >= 0.001) return v.toFixed(3 - Math.floor(Math.log10(a)) - 1);
  return v.toExponential(2);
}

const escape = (s: string): string => s.replace(/\|/g, '\\|');

function cell(v: RowValue | undefined, marks: Map<string, number>): string {
  if (!v) return '';
  if ('na' in v) return `n/a: ${escape(v.na)}`;
  let s = `${num(v.median)} (${num(v.min)}–${num(v.max)}) n=${v.runs}`;
  if (v.note) {
    if (!marks.has(v.note)) marks.set(v.note, marks.size + 1);
    s += ` [${marks.get(v.note)}]`;
  }
  return s;
}

function ratio(r: number | null | undefined): string {
  return r === null || r === undefined ? '–' : `${num(r)}×`;
}

export function markdownTable(result: BenchResult): string {
  const engines = result.options.engines;
  const others = engines.slice(1);
  const marks = new Map<string, number>();
  const head = ['Benchmark', 'unit', 'normgrad', ...others.flatMap((e) => [e, `normgrad/${e}`])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`];
  for (const row of result.rows) {
    const cols = [escape(row.label), row.unit, cell(row.values.normgrad, marks)];
    for (const e of others) cols.push(cell(row.values[e], marks), ratio(row.ratios[e]));
    lines.push(`| ${cols.join(' | ')} |`);
  }
  const notes = [...marks].map(([note, i]) => `[${i}] ${note}.`);
  return [...lines, '', ...notes].join('\n').trimEnd();
}

export function formatReport(result: BenchResult): string {
  const m = result.machine;
  const f = result.flops;
  const t = result.options.quick ? QUICK_TIMING : DEFAULT_TIMING;
  const mode = [result.options.quick ? 'quick' : 'default', result.options.tiny ? 'tiny sizes' : ''].filter(Boolean).join(', ');
  const out = [
    `## normgrad benchmark (${mode})`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, Node ${m.node}, ${m.platform}. Date: ${m.date}.`,
  ];
  if (m.backends.length > 0) out.push(`TensorFlow.js 4.22 backends: ${m.backends.join('; ')}.`);
  if (m.torch) out.push(`PyTorch: ${m.torch}.`);
  if (m.ort) out.push(`onnxruntime-web: ${m.ort}.`);
  out.push(
    '',
    markdownTable(result),
    '',
    `- Each cell: median (min–max) over n samples after warm-up; a sample is the mean of as many calls as make it last ≥ ${t.minSampleMs} ms.`,
    '- normgrad/X is the ratio of the medians in the row\'s unit: above 1 means normgrad is faster in GFLOP/s and GB/s rows, slower in ms rows.',
    `- Lesson network FLOPs: conv and dense forward = 2·MACs, backward = 2 × forward, all 3×3 taps counted (padding zeros included, as im2col + GEMM computes them): ${gf(f.forward)} GFLOP forward and ${gf(f.trainStep)} GFLOP per training step at batch ${f.batch}, ${(f.forwardBatch1 / 1e6).toFixed(2)} MFLOP forward at batch 1; ${gf(f.trainStepUseful)} GFLOP per step counting only taps inside the image. Batch norm, ReLU, loss and Adam are not counted.`,
    `- Batch norm GB/s counts ${BN_BYTES_PER_ELEMENT / 4} float32 transfers per element (forward: read x, write y; backward: read gy, read x or xHat, write gx).`,
    '- GEMM rows: C = A·B, row-major float32; the conv rows use the forward im2col GEMM of that lesson-network layer at the training batch (normgrad\'s conv2d never builds that matrix whole: each thread builds ~128 KB blocks of it, see docs/speed.md).',
    '- Training step: forward (isTraining, batch statistics), sigmoid cross-entropy mean, backward, Adam (lr 0.002). Inference: isTraining false, no graph. TF.js does not update the moving statistics in its step.',
  );
  if (result.options.engines.length > 1) {
    out.push(`- Engines timed in turn, normgrad first, then the others, ${result.options.rounds} round${result.options.rounds > 1 ? 's' : ''} (ABAB); each cell is the round with the lower median (slow TF.js cells are timed in the first round only).`);
  }
  if (m.torch || m.ort) {
    out.push('- PyTorch and onnxruntime-web run in their own processes (started before timing) and time themselves (time.perf_counter, performance.now) with the warm-up calls, samples and calls per sample of normgrad\'s cell in the same round.');
  }
  if (m.torch) {
    out.push('- PyTorch: normgrad\'s export (pytorchModuleSource + checkpoint with layout \'pytorch\') rebuilt as idiomatic NCHW (nn.Conv2d with symmetric padding, F.pad only where SAME is asymmetric, in-place ReLU); NCHW input. Step: zero_grad, forward (train), BCE-with-logits mean, loss.item(), backward, Adam (lr 0.002, eps 1e-7). Inference: eval() under inference_mode. torch.set_num_threads(1 or 2).');
  }
  if (m.ort) out.push('- onnxruntime-web: toOnnx(model) of the same weights (inference batch norm), wasm execution provider, output read back every call.');
  const share = scalarShare(result);
  if (share) out.push(share);
  if (result.lossCheck) out.push('', ...result.lossCheck.lines.map((l) => `    ${l}`));
  out.push('', `Total bench time: ${result.seconds.toFixed(0)} s.`);
  return out.join('\n');
}

/** GFLOP/s: the scalar limit per core that the speed goals quote. */
const NOMINAL_SCALAR_PEAK = 14;

/**
 * The largest plain-TypeScript GEMM as a share of the scalar peak probe
 * measured in the same run (medians), or null when either row is missing.
 */
export function scalarShare(result: BenchResult): string | null {
  const rate = (id: string): number | null => {
    const v = result.rows.find((r) => r.id === id)?.values.normgrad;
    return v && !('na' in v) ? v.median : null;
  };
  const js = result.rows.filter((r) => r.id.startsWith('gemm-js-')).at(-1);
  const gemmRate = js ? rate(js.id) : null;
  const peak = rate('scalar-peak');
  if (gemmRate === null || peak === null) return null;
  const pct = (of: number): string => `${(100 * gemmRate / of).toFixed(0)}%`;
  return `- ${js!.label}: ${num(gemmRate)} GFLOP/s, ${pct(peak)} of the scalar peak probe's ${num(peak)} GFLOP/s in this run, ${pct(NOMINAL_SCALAR_PEAK)} of a nominal ${NOMINAL_SCALAR_PEAK} GFLOP/s per core (one multiply and one add per cycle on each of two pipes at 3.5 GHz).`;
}

function gf(flops: number): string {
  return (flops / 1e9).toFixed(4);
}

