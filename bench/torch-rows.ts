/**
 * PyTorch's side of `--vs torch`: the lesson network's training step at the
 * training batch and its inference at that batch and at 1, on 1 and 2 threads
 * (torch.set_num_threads), in a python server (bench/torch-server.py) that
 * stays up for the whole bench. The network comes from normgrad's own export
 * of the same weights: pytorchModuleSource(model) and saveCheckpoint(model,
 * path, { layout: 'pytorch' }); the server rebuilds it in idiomatic NCHW
 * PyTorch for timing and checks both versions' loss and gradient against
 * normgrad's before anything is timed.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pytorchModuleSource, saveCheckpoint, type Sequential } from '../src/node.js';
import type { EngineCheck } from './loss-check.js';
import { PipeServer } from './pipe-server.js';
import { summarize, type SamplePlan, type Stat } from './timing.js';

/** The cases PyTorch runs (ids of bench/cases.ts). */
export const TORCH_CASES = ['train-step', 'inference', 'inference-1'] as const;
export const TORCH_THREADS = [1, 2] as const;

const SERVER = fileURLToPath(new URL('./torch-server.py', import.meta.url));

/**
 * Pythons tried in turn: $NORMGRAD_TORCH_PYTHON, then Debian's (python3-torch
 * lives under /usr/bin/python3; a pyenv python3 first on PATH may lack it),
 * then whatever PATH gives.
 */
export const TORCH_PYTHONS: readonly (string | undefined)[] = [process.env.NORMGRAD_TORCH_PYTHON, '/usr/bin/python3', 'python3', '/usr/local/bin/python3', 'python'];

/** The first of `candidates` that imports torch, and torch's version; or why there is none. */
export function findTorchPython(candidates: readonly (string | undefined)[] = TORCH_PYTHONS): { python: string; version: string } | { na: string } {
  for (const python of candidates) {
    if (!python) continue;
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status === 0) return { python, version: r.stdout.trim() };
  }
  return { na: 'no python3 with torch' };
}

/** Writes model.py and model.safetensors (PyTorch layout) of `model` into `dir`. */
export function exportForTorch(model: Sequential, dir: string): void {
  writeFileSync(path.join(dir, 'model.py'), pytorchModuleSource(model));
  saveCheckpoint(model, path.join(dir, 'model.safetensors'), { layout: 'pytorch' });
}

export class TorchSide {
  private constructor(private readonly server: PipeServer, readonly version: string, readonly python: string, readonly timed: string) {}

  /** Starts the server on `dir` (model.py, model.safetensors, x.f32, y.f32). */
  static async start(python: string, dir: string): Promise<TorchSide> {
    const server = new PipeServer(python, ['-u', SERVER]);
    try {
      const r = await server.request({ cmd: 'load', dir });
      return new TorchSide(server, String(r.torch), python, String(r.timed));
    } catch (e) {
      await server.close();
      throw e;
    }
  }

  /** Loss and |dL/d first conv kernel| of the timed NCHW network, or of the generated module, in float32 or float64. */
  async check(model: 'nchw' | 'generated', dtype: 'float32' | 'float64' = 'float32'): Promise<EngineCheck> {
    const r = await this.server.request({ cmd: 'check', model, dtype });
    return { loss: Number(r.loss), gradNorm: Number(r.gradNorm) };
  }

  /** ms per call of `caseId` on `threads` threads, with normgrad's sample plan. */
  async time(caseId: string, threads: number, plan: SamplePlan): Promise<Stat> {
    const r = await this.server.request({ cmd: 'time', case: caseId, threads, ...plan });
    return { ...summarize(r.samples as number[], plan.inner), warmup: plan.warmup };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
