/**
 * Stress test of two-thread determinism (issue 14 item 1): trains the
 * lesson network (examples/mnist/lesson-network.ts, batch norm on) for
 * --steps steps, once on one thread and --runs times on two threads, each in
 * its own process, while --busy processes compete for the cores (bursts of
 * spinning and short sleeps, so the training threads are preempted at
 * random points). After every step each run prints a hash of its whole
 * state (parameters and moving statistics, every bit); every two-thread run
 * must match the one-thread run at every step.
 *
 *   npm run stress -- [--steps 30] [--runs 4] [--busy 2] [--batch-size 64] [--timeout 900]
 *
 * Bounded: each process is killed after --timeout seconds (a verdict of
 * TIMEOUT), and the busy processes are killed at the end. Exit code 0 only
 * on PASS.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  Adam, fit, mnistSplit, mnistTensors, ready, setThreads, sigmoidCrossEntropyWithLogits, threads, type Sequential,
} from '../src/node.js';
import { gemmWasmStats } from '../src/tensor/kernels/wasm/gemm-wasm.js';
import { lessonNetwork } from '../examples/mnist/lesson-network.js';

const { values: v } = parseArgs({
  options: {
    child: { type: 'string' }, // internal: run one training on this many threads
    steps: { type: 'string', default: '30' },
    runs: { type: 'string', default: '4' },
    busy: { type: 'string', default: '2' },
    'batch-size': { type: 'string', default: '64' },
    timeout: { type: 'string', default: '900' },
  },
});
const int = (name: keyof typeof v, min: number): number => {
  const n = Number(v[name]);
  if (!Number.isInteger(n) || n < min) throw new Error(`stress: --${name} needs an integer >= ${min}, got '${String(v[name])}'`);
  return n;
};
const steps = int('steps', 1);
const batchSize = int('batch-size', 1);
const SEED = 1;

/** FNV-1a over the bits of every state tensor, in stateDict order. */
function stateHash(model: Sequential): string {
  let h = 0x811c9dc5;
  for (const [name, t] of model.stateDict()) {
    for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

async function child(n: 1 | 2): Promise<void> {
  setThreads(n);
  if (n === 2 && !(await ready())) throw new Error('stress: the helper thread did not start');
  const { train } = mnistSplit({ seed: SEED });
  const model = lessonNetwork({ batchNorm: true, seed: SEED });
  fit(model, mnistTensors(train), {
    optimizer: new Adam({ learningRate: 0.002 }),
    loss: sigmoidCrossEntropyWithLogits,
    batchSize, steps, seed: SEED, dropLast: true,
    callbacks: [{ onStepEnd: ({ step, loss }) => console.log(`step ${step} ${stateHash(model)} ${loss}`) }],
  });
  console.log(`threads ${threads()} twoThreadCalls ${gemmWasmStats().twoThreadCalls} helperJobs ${gemmWasmStats().helperJobs}`);
}

interface Run { hashes: string[]; tail: string; code: number | null; timedOut: boolean }

const children = new Set<ChildProcess>();

function runChild(threads: 1 | 2, timeoutS: number): Promise<Run> {
  const script = fileURLToPath(import.meta.url);
  const p = spawn(process.execPath, ['--import', 'tsx', script, '--child', String(threads), '--steps', String(steps), '--batch-size', String(batchSize)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(p);
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill('SIGKILL');
  }, timeoutS * 1000);
  return new Promise((resolve) => {
    p.on('close', (code) => {
      clearTimeout(timer);
      children.delete(p);
      const lines = out.trim().split('\n');
      const hashes = lines.filter((l) => l.startsWith('step ')).map((l) => l.split(' ')[2]!);
      resolve({ hashes, tail: lines.filter((l) => l.startsWith('threads ')).join(''), code, timedOut });
    });
  });
}

/** A process that alternates 0-20 ms of spinning with 0-5 ms of sleep, forever (until killed). */
function busyProcess(): ChildProcess {
  const src = 'const s=new Int32Array(new SharedArrayBuffer(4));for(;;){const t=Date.now()+Math.random()*20;while(Date.now()<t);Atomics.wait(s,0,0,Math.random()*5)}';
  const p = spawn(process.execPath, ['-e', src], { stdio: 'ignore' });
  children.add(p);
  return p;
}

function killAll(): void {
  for (const p of children) p.kill('SIGKILL');
}

async function main(): Promise<number> {
  const runs = int('runs', 1);
  const busy = int('busy', 0);
  const timeoutS = int('timeout', 1);
  process.on('SIGINT', () => {
    killAll();
    process.exit(130);
  });
  console.log(`stress: lesson network, ${steps} steps of ${batchSize}; 1 one-thread run, ${runs} two-thread runs; ${busy} busy processes`);
  for (let i = 0; i < busy; i++) busyProcess();
  const t0 = performance.now();
  try {
    const ref = await runChild(1, timeoutS);
    if (ref.timedOut || ref.code !== 0 || ref.hashes.length !== steps) {
      console.log(`VERDICT: ERROR - the one-thread run ${ref.timedOut ? 'timed out' : `exited with ${ref.code} after ${ref.hashes.length} steps`}`);
      return 2;
    }
    console.log(`one thread:  ${steps} steps, final state ${ref.hashes[steps - 1]}`);
    let bad = 0;
    for (let r = 1; r <= runs; r++) {
      const run = await runChild(2, timeoutS);
      const diverged = ref.hashes.findIndex((h, i) => run.hashes[i] !== h);
      let what: string;
      if (run.timedOut) what = `TIMEOUT after ${run.hashes.length} steps`;
      else if (run.code !== 0) what = `exited with ${run.code} after ${run.hashes.length} steps`;
      else if (diverged >= 0) what = `DIVERGED at step ${diverged + 1} (${run.hashes[diverged]} vs ${ref.hashes[diverged]})`;
      else what = 'same state at every step';
      if (run.timedOut || run.code !== 0 || diverged >= 0) bad++;
      console.log(`two threads, run ${r}/${runs}: ${what}; ${run.tail}`);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(0);
    if (bad === 0) {
      console.log(`VERDICT: PASS - ${runs}/${runs} two-thread runs matched the one-thread run at all ${steps} steps (${busy} busy processes, ${secs} s)`);
      return 0;
    }
    console.log(`VERDICT: FAIL - ${bad} of ${runs} two-thread runs differ from the one-thread run (${busy} busy processes, ${secs} s)`);
    return 1;
  } finally {
    killAll();
  }
}

if (v.child !== undefined) {
  const t = Number(v.child);
  if (t !== 1 && t !== 2) throw new Error(`stress: --child needs 1 or 2, got '${v.child}'`);
  await child(t);
} else {
  process.exitCode = await main();
}
