/**
 * onnxruntime-web's side of `npm run bench -- --vs ort`, one child process
 * per thread count (`ort.env.wasm.numThreads` is read once, when the wasm
 * module starts). Same protocol as bench/torch-server.py, over stdin/stdout:
 *
 *   {"cmd": "load", "dir": d}   d holds model.onnx (normgrad's toOnnx) and x.f32
 *                               ([batch, 28, 28, 1] NHWC). Reply {"ort": version, "threads": n}
 *   {"cmd": "output", "case": "inference" | "inference-1"}   Reply {"output": [...]}
 *   {"cmd": "time", "case", "warmup", "runs", "inner"}        Reply {"samples": [ms per call]}
 *   {"cmd": "quit"}
 *
 * Usage: node --import tsx bench/ort-server.ts <numThreads>
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = Number(process.argv[2] ?? 1);

let session: ort.InferenceSession | null = null;
let inputs: Record<string, ort.Tensor> = {};

async function handle(req: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (req.cmd === 'load') {
    const dir = String(req.dir);
    session = await ort.InferenceSession.create(readFileSync(path.join(dir, 'model.onnx')), { executionProviders: ['wasm'] });
    const raw = readFileSync(path.join(dir, 'x.f32'));
    const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    const batch = x.length / 784;
    inputs = {
      inference: new ort.Tensor('float32', x, [batch, 28, 28, 1]),
      'inference-1': new ort.Tensor('float32', x.slice(0, 784), [1, 28, 28, 1]),
    };
    return { ort: ort.env.versions.web, threads: ort.env.wasm.numThreads };
  }
  if (!session) throw new Error('send "load" first');
  const s = session;
  const x = inputs[String(req.case)];
  if (!x) throw new Error(`unknown case ${JSON.stringify(req.case)}`);
  // Every call reads its output back into JavaScript, as normgrad's result is a Float32Array.
  const run = async (): Promise<Float32Array> => (await s.run({ input: x })).output!.data as Float32Array;
  if (req.cmd === 'output') return { output: Array.from(await run()) };
  if (req.cmd === 'time') {
    for (let i = 0; i < Number(req.warmup); i++) await run();
    const inner = Number(req.inner);
    const samples: number[] = [];
    for (let r = 0; r < Number(req.runs); r++) {
      const t0 = performance.now();
      for (let i = 0; i < inner; i++) await run();
      samples.push((performance.now() - t0) / inner);
    }
    return { samples };
  }
  throw new Error(`unknown cmd ${JSON.stringify(req.cmd)}`);
}

const lines = createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on('line', (line) => {
  queue = queue.then(async () => {
    const req = JSON.parse(line) as Record<string, unknown>;
    if (req.cmd === 'quit') {
      await session?.release();
      process.exit(0);
    }
    let reply: Record<string, unknown>;
    try {
      reply = await handle(req);
    } catch (e) {
      reply = { error: e instanceof Error ? e.message.split('\n')[0] : String(e) };
    }
    process.stdout.write(`${JSON.stringify(reply)}\n`);
  });
});
lines.on('close', () => void queue.then(() => process.exit(0)));
