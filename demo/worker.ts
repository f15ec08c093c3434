/**
 * The training worker: loads mnist.bin, trains two models on the same
 * batches, one step each in turn (model a: BatchNorm; model b: no
 * normalization, or GroupNorm in the small-batch mode), and reports every
 * step. Between steps it answers the page: recompute the
 * BN statistics, classify a drawn digit.
 */
import {
  Adam, backend, batchNormLayers, epochOrder, noGrad, ready, recomputeBatchNormStatistics, setBackend, threads, wasmAvailable,
  type BatchNorm, type Sequential,
} from '../src/index.js';
import { parseAsset, type Data } from './asset.js';
import { batchTensors, classify, inferenceAccuracy, lessonModel, trainStep } from './lesson.js';
import { CHANNELS, VALIDATION_EVERY, VALIDATION_SIZE, type FromWorker, type LayerPoint, type RunSettings, type ToWorker } from './protocol.js';

const SEED = 1;
/** Training images recomputeBatchNormStatistics runs over (25 batches of 64). */
const RECOMPUTE_IMAGES = 1600;
const post = (m: FromWorker): void => postMessage(m);

let data: Data;
let a: Sequential;
let b: Sequential;
let settings: RunSettings = { batches: Infinity, batchSize: 64, learningRate: 0.002, momentum: 0.99, mode: 'lesson', width: 2 };
let step = 0;
let running = false;
let stopRequested = false;
let bns: BatchNorm[] = [];
let latest: ({ mean: Float32Array; variance: Float32Array } | null)[] = [];

const validationImages = (): Uint8Array => data.images.subarray(data.train * 784, (data.train + VALIDATION_SIZE) * 784);
const validationLabels = (): Uint8Array => data.labels.subarray(data.train, data.train + VALIDATION_SIZE);
const validate = (m: Sequential): number => inferenceAccuracy(m, validationImages(), validationLabels(), VALIDATION_SIZE);

/** Fresh models for `settings`, built by one inference call (which changes no statistics). */
function buildModels(): void {
  const { width, momentum, mode } = settings;
  a = lessonModel({ norm: 'bn', width, seed: SEED, momentum });
  b = lessonModel({ norm: mode === 'small' ? 'gn' : 'none', width, seed: SEED, momentum });
  const one = batchTensors(data.images, data.labels, [0]);
  noGrad(() => [a, b].forEach((m) => m.call(one.x, { isTraining: false })));
  bns = batchNormLayers(a).map((l) => l.layer);
  latest = bns.map(() => null);
  bns.forEach((bn, i) => {
    bn.statisticsObserver = (s) => {
      if (s.usedBatchStatistics) latest[i] = { mean: s.mean.slice(0, CHANNELS), variance: s.variance.slice(0, CHANNELS) };
    };
  });
}

/** Every BN layer's batch statistics of this step and moving averages after it (first CHANNELS channels). */
function layerPoints(): LayerPoint[] {
  return bns.map((bn, i) => {
    const l = latest[i];
    return {
      batchMean: l ? Array.from(l.mean) : [], batchVariance: l ? Array.from(l.variance) : [],
      movingMean: Array.from(bn.movingMean!.data.subarray(0, CHANNELS)), movingVariance: Array.from(bn.movingVariance!.data.subarray(0, CHANNELS)),
    };
  });
}

/** Training rows, epoch after epoch, each epoch in its own seeded order. */
function* trainRows(batchSize: number): Generator<Int32Array> {
  for (let epoch = 0; ; epoch++) {
    const order = epochOrder(data.train, SEED, epoch, true);
    for (let s = 0; s + batchSize <= order.length; s += batchSize) yield order.subarray(s, s + batchSize);
  }
}

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

async function run(next: RunSettings): Promise<void> {
  settings = next;
  buildModels();
  step = 0;
  running = true;
  stopRequested = false;
  const labels: [string, string] = ['BN', next.mode === 'small' ? 'GN' : 'no norm'];
  post({ type: 'started', settings: next, labels });
  const optA = new Adam({ learningRate: next.learningRate });
  const optB = new Adam({ learningRate: next.learningRate });
  const t0 = performance.now();
  const rows = trainRows(next.batchSize);
  post({ type: 'validation', step: 0, a: validate(a), b: validate(b) });
  while (step < next.batches && !stopRequested) {
    const t = performance.now();
    const batch = batchTensors(data.images, data.labels, rows.next().value!);
    const pa = trainStep(a, optA, batch.x, batch.y, batch.labels);
    const pb = trainStep(b, optB, batch.x, batch.y, batch.labels);
    step++;
    post({ type: 'step', step, a: pa, b: pb, layers: layerPoints(), ms: performance.now() - t });
    if (step % VALIDATION_EVERY === 0 || step === next.batches) post({ type: 'validation', step, a: validate(a), b: validate(b) });
    await pause(); // let the page's messages in
  }
  running = false;
  post({ type: 'done', step, seconds: (performance.now() - t0) / 1000 });
}

function recompute(): void {
  const before = validate(a);
  const rows = trainRows(settings.batchSize);
  const batches = Math.ceil(RECOMPUTE_IMAGES / settings.batchSize);
  const summary = recomputeBatchNormStatistics(a, (function* () {
    for (let i = 0; i < batches; i++) yield batchTensors(data.images, data.labels, rows.next().value!).x;
  })());
  post({ type: 'recomputed', step, before, after: validate(a), batches: summary.batches });
}

function handle(e: MessageEvent<ToWorker>): void {
  const m = e.data;
  try {
    if (m.type === 'start') {
      if (running) { stopRequested = true; setTimeout(() => handle(e), 20); return; }
      void run(m.settings).catch(fail);
    } else if (m.type === 'stop') {
      stopRequested = true;
    } else if (m.type === 'recompute') {
      recompute();
    } else if (m.type === 'testDigit') {
      const test = data.labels.length - data.train - data.validation;
      const row = data.train + data.validation + (((m.index % test) + test) % test);
      const pixels = Float32Array.from(data.images.subarray(row * 784, (row + 1) * 784), (v) => v / 255);
      post({ type: 'testDigit', index: m.index, label: data.labels[row]!, pixels });
    } else if (m.type === 'classify') {
      post({ type: 'classified', id: m.id, a: Array.from(classify(a, m.pixels)), b: Array.from(classify(b, m.pixels)) });
    }
  } catch (err) {
    fail(err);
  }
}
onmessage = handle;

function fail(err: unknown): void {
  post({ type: 'error', message: err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err) });
}

async function init(): Promise<void> {
  // The WebAssembly kernels when this browser can run them, else plain TypeScript; on a
  // cross-origin isolated page the helper thread (a second Web Worker) starts here.
  setBackend(wasmAvailable() ? 'wasm' : 'js');
  await ready();
  const res = await fetch(new URL('mnist.bin', location.href));
  if (!res.ok) throw new Error(`mnist.bin: HTTP ${res.status}`);
  const parsed = parseAsset(await res.arrayBuffer());
  data = parsed;
  buildModels();
  post({
    type: 'ready', backend: backend(), threads: threads(), isolated: self.crossOriginIsolated === true, bnLayers: bns.length,
    counts: [parsed.train, parsed.validation, parsed.test],
  });
}

init().catch(fail);
