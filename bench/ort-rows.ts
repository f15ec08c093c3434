/**
 * onnxruntime-web's side of `--vs ort`: the lesson network's inference at the
 * training batch and at 1, in its WebAssembly build inside Node, running
 * normgrad's own ONNX export (`toOnnx`) of the same weights. numThreads is
 * fixed when the wasm module starts, so each thread count (1 and 2) is its own
 * server process (bench/ort-server.ts); a cell is the better of the two.
 * Before timing, each server's outputs must match normgrad's inference
 * outputs to OUTPUT_TOLERANCE (max |a - e| / max |e|).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toOnnx, type Sequential } from '../src/index.js';
import { PipeServer } from './pipe-server.js';
import { summarize, type SamplePlan, type Stat } from './timing.js';

export const ORT_CASES = ['inference', 'inference-1'] as const;
export const ORT_THREADS = [1, 2] as const;
/** float32 through 20 layers in another summation order: ~1e-6 expected. */
export const OUTPUT_TOLERANCE = 1e-5;

const SERVER = fileURLToPath(new URL('./ort-server.ts', import.meta.url));

/** Writes model.onnx (normgrad's export, inference-form batch norm) into `dir`. */
export function exportForOrt(model: Sequential, dir: string): void {
  writeFileSync(path.join(dir, 'model.onnx'), toOnnx(model, { inputShape: [28, 28, 1] }));
}

/** max |a - e| / max |e|: the difference relative to the output's scale. */
export function maxRelativeDifference(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`ort check: ${actual.length} outputs, expected ${expected.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return diff / scale;
}

export class OrtSide {
  private constructor(private readonly server: PipeServer, readonly version: string, readonly threads: number) {}

  /** Starts a server with `threads` wasm threads on `dir` (model.onnx, x.f32). */
  static async start(threads: number, dir: string): Promise<OrtSide> {
    const server = new PipeServer(process.execPath, ['--import', 'tsx', SERVER, String(threads)]);
    try {
      const r = await server.request({ cmd: 'load', dir });
      return new OrtSide(server, String(r.ort), Number(r.threads));
    } catch (e) {
      await server.close();
      throw e;
    }
  }

  async output(caseId: string): Promise<number[]> {
    return (await this.server.request({ cmd: 'output', case: caseId })).output as number[];
  }

  async time(caseId: string, plan: SamplePlan): Promise<Stat> {
    const r = await this.server.request({ cmd: 'time', case: caseId, ...plan });
    return { ...summarize(r.samples as number[], plan.inner), warmup: plan.warmup };
  }

  close(): Promise<void> {
    return this.server.close();
  }
}
