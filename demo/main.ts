/**
 * The page: starts the worker, draws its reports, and mirrors the numbers
 * on <main id="lesson"> as data attributes, so a test can read them:
 *   data-step, data-state (loading | ready | running | done),
 *   data-train-accuracy(-nobn): mean batch accuracy of the last 20 steps,
 *   data-val-accuracy(-nobn): the latest validation accuracy (inference mode),
 *   data-backend, data-threads.
 * "-nobn" is the second model: no normalization, or GroupNorm in the
 * small-batch mode. `?autostart=1&batches=N` starts at once and stops after
 * N batches. window.__lesson is the test hook (see LessonHook).
 */
import { liveChart, type LiveChart } from './charts.js';
import { drawPad } from './draw.js';
import { CHANNELS, type FromWorker, type LayerPoint, type RunSettings, type ToWorker } from './protocol.js';

/** Filters per conv layer = WIDTH * i: half the lesson's 4 * i, so both models train live in a browser. */
const WIDTH = 2;
const SMOOTH = 20;
const COLORS = { a: '#1f6feb', b: '#d1495b' };
const CHANNEL_COLORS = ['#1f6feb', '#d1495b', '#2a9d8f', '#8e44ad'];

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const lesson = $<HTMLElement>('lesson');
const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
const send = (m: ToWorker): void => worker.postMessage(m);

const startButton = $<HTMLButtonElement>('start');
const stopButton = $<HTMLButtonElement>('stop');
const batchesInput = $<HTMLInputElement>('batches');
const momentumSelect = $<HTMLSelectElement>('momentum');
const smallBox = $<HTMLInputElement>('small');
const layerSelect = $<HTMLSelectElement>('layer');
const recomputeButton = $<HTMLButtonElement>('recompute');
const sampleButton = $<HTMLButtonElement>('sample');

let labels: [string, string] = ['BN', 'no norm'];
let recent: { a: number[]; b: number[] } = { a: [], b: [] };
let lossChart: LiveChart | undefined;
let accChart: LiveChart | undefined;
let meanChart: LiveChart | undefined;
let varChart: LiveChart | undefined;
let runSeconds = 0;

const fmt = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(3));
const mean = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

function setData(name: string, value: string | number): void {
  lesson.dataset[name] = String(value);
}

function makeCharts(): void {
  [lossChart, accChart].forEach((c) => c?.destroy());
  const [la, lb] = labels;
  lossChart = liveChart($('chart-loss'), {
    title: '', xLabel: 'step', yLabel: 'cross-entropy', height: 170,
    series: [{ label: la, color: COLORS.a }, { label: lb, color: COLORS.b }],
  });
  accChart = liveChart($('chart-acc'), {
    title: '', xLabel: 'step', yLabel: 'accuracy', yRange: [0, 1], height: 210,
    series: [
      { label: `${la} train`, color: COLORS.a, width: 1.5 },
      { label: `${la} val`, color: COLORS.a, dash: [6, 4], width: 3 },
      { label: `${lb} train`, color: COLORS.b, width: 1.5 },
      { label: `${lb} val`, color: COLORS.b, dash: [6, 4], width: 3 },
      { label: 'BN val, recomputed', color: '#f5a623', points: true },
    ],
  });
  makeLayerCharts();
}

/** The layer view's charts, fresh (on a new run or another layer). */
function makeLayerCharts(): void {
  [meanChart, varChart].forEach((c) => c?.destroy());
  const channelSeries = (what: string) => [
    ...CHANNEL_COLORS.slice(0, CHANNELS).map((color, c) => ({ label: `batch ${what} c${c}`, color, width: 1, dash: [3, 3] })),
    ...CHANNEL_COLORS.slice(0, CHANNELS).map((color, c) => ({ label: `moving ${what} c${c}`, color, width: 2.5 })),
  ];
  const layer = layerSelect.selectedOptions[0]?.textContent ?? '';
  meanChart = liveChart($('chart-mean'), { title: `${layer}: mean`, xLabel: 'step', yLabel: 'mean', series: channelSeries('mean'), height: 175, legend: false });
  varChart = liveChart($('chart-var'), { title: `${layer}: variance`, xLabel: 'step', yLabel: 'variance', series: channelSeries('var'), height: 175, legend: false });
}

/** Every step's statistics of every BN layer, so another layer can be shown from the start. */
let layerHistory: { step: number; layers: LayerPoint[] }[] = [];

function plotLayer(step: number, p: LayerPoint | undefined): void {
  if (!p) return;
  const row = (batch: number[], moving: number[]): Record<number, number> =>
    Object.fromEntries([...batch.map((v, c) => [c, v]), ...moving.map((v, c) => [CHANNELS + c, v])]);
  meanChart?.set(step, row(p.batchMean, p.movingMean));
  varChart?.set(step, row(p.batchVariance, p.movingVariance));
}

function startRun(batches: number): void {
  const small = smallBox.checked;
  const settings: RunSettings = {
    // Batches of 4 give noisy gradients: a smaller step (0.0005, found by trying 0.002 and 0.0005) lets both models learn.
    batches, batchSize: small ? 4 : 64, learningRate: small ? 0.0005 : 0.002, momentum: Number(momentumSelect.value), mode: small ? 'small' : 'lesson', width: WIDTH,
  };
  send({ type: 'start', settings });
}

function running(on: boolean): void {
  startButton.disabled = on;
  stopButton.disabled = !on;
  momentumSelect.disabled = on;
  smallBox.disabled = on;
  batchesInput.disabled = on;
}

function onStep(m: Extract<FromWorker, { type: 'step' }>): void {
  recent.a.push(m.a.accuracy);
  recent.b.push(m.b.accuracy);
  if (recent.a.length > SMOOTH) { recent.a.shift(); recent.b.shift(); }
  const ta = mean(recent.a);
  const tb = mean(recent.b);
  setData('step', m.step);
  setData('trainAccuracy', ta.toFixed(4));
  setData('trainAccuracyNobn', tb.toFixed(4));
  $('n-train-a').textContent = fmt(ta);
  $('n-train-b').textContent = fmt(tb);
  lossChart?.set(m.step, { 0: m.a.loss, 1: m.b.loss });
  accChart?.set(m.step, { 0: ta, 2: tb });
  layerHistory.push({ step: m.step, layers: m.layers });
  plotLayer(m.step, m.layers[Number(layerSelect.value)]);
  $('status').textContent = `Step ${m.step}${Number.isFinite(Number(lesson.dataset.batches)) ? ` of ${lesson.dataset.batches}` : ''} · ${(m.ms / 1000).toFixed(2)} s per step (both models)`;
}

const pending = new Map<number, (r: { a: number[]; b: number[] }) => void>();
let nextId = 1;
let sampleResolve: ((r: { label: number; pixels: Float32Array }) => void) | null = null;

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready': {
      setData('backend', m.backend);
      setData('threads', m.threads);
      setData('state', 'ready');
      $('runtime').textContent = `normgrad runs on the ${m.backend === 'wasm' ? 'WebAssembly' : 'plain TypeScript (js)'} backend with ${m.threads} thread${m.threads === 1 ? '' : 's'}, in a Web Worker; page ${m.isolated ? 'is' : 'is not'} cross-origin isolated. ${m.counts[0]} training, ${m.counts[1]} validation and ${m.counts[2]} test digits from the mnist package.`;
      layerSelect.replaceChildren(...Array.from({ length: m.bnLayers }, (_, i) => {
        const o = document.createElement('option');
        o.value = String(i);
        o.textContent = i < m.bnLayers - 1 ? `BN after conv ${i + 1} (${WIDTH * (i + 1)} channels)` : 'BN after dense 100';
        return o;
      }));
      layerSelect.value = String(Math.min(2, m.bnLayers - 1)); // conv 3: the first with more than 4 channels
      startButton.disabled = false;
      sampleButton.disabled = false;
      const q = new URLSearchParams(location.search);
      if (q.get('batches')) batchesInput.value = q.get('batches')!;
      if (q.get('autostart') === '1') startRun(Number(batchesInput.value));
      break;
    }
    case 'started':
      labels = m.labels;
      recent = { a: [], b: [] };
      layerHistory = [];
      setData('state', 'running');
      setData('step', 0);
      setData('batches', m.settings.batches);
      setData('mode', m.settings.mode);
      $('label-b').textContent = m.settings.mode === 'small' ? 'with group normalization' : 'without it';
      $('claim').textContent = m.settings.mode === 'small' ? 'see how each copes with batches of 4 images' : 'watch one learn and the other stall';
      $('n-label-b').textContent = `${m.labels[1]} train / val`;
      $('variant').textContent = `This run: batches of ${m.settings.batchSize}, BN momentum ${m.settings.momentum}, Adam lr ${m.settings.learningRate}, same seed and batches for both models. The network keeps the lesson's depth but has ${WIDTH}·i filters in conv layer i (the lesson: 4·i) so both models train live in the browser.`;
      $('recompute-result').textContent = '';
      makeCharts();
      running(true);
      recomputeButton.disabled = false;
      break;
    case 'step':
      onStep(m);
      break;
    case 'validation':
      setData('valAccuracy', m.a.toFixed(4));
      setData('valAccuracyNobn', m.b.toFixed(4));
      $('n-val-a').textContent = fmt(m.a);
      $('n-val-b').textContent = fmt(m.b);
      accChart?.set(m.step, { 1: m.a, 3: m.b });
      break;
    case 'recomputed':
      accChart?.set(m.step, { 4: m.after });
      setData('valAccuracy', m.after.toFixed(4));
      $('n-val-a').textContent = fmt(m.after);
      $('recompute-result').textContent = `Validation accuracy ${m.before.toFixed(3)} → ${m.after.toFixed(3)} with statistics recomputed over ${m.batches} training batches (step ${m.step}).`;
      recomputeButton.disabled = false;
      break;
    case 'classified':
      pending.get(m.id)?.(m);
      pending.delete(m.id);
      break;
    case 'testDigit':
      sampleResolve?.(m);
      sampleResolve = null;
      break;
    case 'done':
      runSeconds = m.seconds;
      setData('seconds', m.seconds.toFixed(1));
      setData('state', 'done');
      $('status').textContent = `Stopped after ${m.step} steps in ${m.seconds.toFixed(0)} s`;
      running(false);
      break;
    case 'error':
      console.error(`worker: ${m.message}`);
      $('status').textContent = `Error: ${m.message.split('\n')[0]}`;
      setData('state', 'error');
      running(false);
      break;
  }
};
worker.onerror = (e) => console.error(`worker failed: ${e.message}`);

startButton.addEventListener('click', () => startRun(Number(batchesInput.value) || 600));
stopButton.addEventListener('click', () => send({ type: 'stop' }));
layerSelect.addEventListener('change', () => {
  makeLayerCharts();
  const i = Number(layerSelect.value);
  for (const h of layerHistory) plotLayer(h.step, h.layers[i]);
});
recomputeButton.addEventListener('click', () => {
  recomputeButton.disabled = true;
  $('recompute-result').textContent = 'Recomputing…';
  send({ type: 'recompute' });
});

// Drawing.
function classify(pixels: Float32Array): Promise<{ a: number[]; b: number[] }> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    send({ type: 'classify', id, pixels });
  });
}

function showProbs(r: { a: number[]; b: number[] }): void {
  const top = (p: number[]): number => p.indexOf(Math.max(...p));
  const cells: HTMLElement[] = [];
  const el = (cls: string, text = ''): HTMLElement => {
    const d = document.createElement('div');
    d.className = cls;
    d.textContent = text;
    return d;
  };
  cells.push(el('head', 'digit'), el('head', `${labels[0]}: ${top(r.a)}`), el('head', `${labels[1]}: ${top(r.b)}`));
  for (let k = 0; k < 10; k++) {
    cells.push(el('', String(k)));
    for (const [key, p] of [['a', r.a], ['b', r.b]] as const) {
      const bar = el(`bar ${key}${top(p) === k ? ' top' : ''}`);
      const fill = document.createElement('span');
      fill.style.width = `${(p[k]! * 100).toFixed(1)}%`;
      bar.append(fill);
      bar.title = `${labels[key === 'a' ? 0 : 1]}: P(${k}) = ${p[k]!.toFixed(3)}`;
      cells.push(bar);
    }
  }
  $('probs').replaceChildren(...cells);
}

async function classifyPad(): Promise<{ a: number[]; b: number[] } | null> {
  const pixels = pad.pixels();
  if (!pixels) return null;
  const r = await classify(pixels);
  showProbs(r);
  return r;
}

const pad = drawPad($<HTMLCanvasElement>('pad'), () => {
  $('sample-label').textContent = '';
  void classifyPad();
});
$('clear').addEventListener('click', () => {
  pad.clear();
  $('probs').replaceChildren();
  $('sample-label').textContent = '';
});

function testDigit(index: number): Promise<{ label: number; pixels: Float32Array }> {
  return new Promise((resolve) => {
    sampleResolve = resolve;
    send({ type: 'testDigit', index });
  });
}

async function drawTestDigit(index: number): Promise<number> {
  const { label, pixels } = await testDigit(index);
  pad.show(pixels);
  $('sample-label').textContent = `test digit #${index}, labelled ${label}`;
  return label;
}

let sampleIndex = 0;
sampleButton.addEventListener('click', async () => {
  await drawTestDigit(sampleIndex++);
  await classifyPad();
});

/** The test hook: what a person does on the page, without clicks. */
export interface LessonHook {
  /** Paints test digit `index` onto the drawing pad; resolves to its label. */
  drawTestDigit(index: number): Promise<number>;
  /** Classifies what is on the pad, as a drawing is: probabilities of both models (a: BN). */
  classifyPad(): Promise<{ a: number[]; b: number[] } | null>;
  /** Seconds the last run took. */
  seconds(): number;
}
(window as unknown as { __lesson: LessonHook }).__lesson = { drawTestDigit, classifyPad, seconds: () => runSeconds };
