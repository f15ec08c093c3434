/**
 * A child process that answers one JSON line per JSON line over its stdin and
 * stdout (bench/torch-server.py, bench/ort-server.ts). The process stays up
 * for the whole bench, so its start-up is never timed; it times itself and
 * sends the samples back. A reply with an `error` field rejects.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

export class PipeServer {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
  private stderr = '';
  private exited: string | null = null;

  constructor(command: string, args: readonly string[], cwd?: string) {
    this.child = spawn(command, args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-2000);
    });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      let reply: Record<string, unknown>;
      try {
        reply = JSON.parse(line) as Record<string, unknown>;
      } catch {
        w.reject(new Error(`${command}: not a JSON reply: ${line.slice(0, 200)}`));
        return;
      }
      if (typeof reply.error === 'string') w.reject(new Error(reply.error));
      else w.resolve(reply);
    });
    const fail = (why: string): void => {
      this.exited = why;
      for (const w of this.waiting.splice(0)) w.reject(new Error(`${command} ${why}${this.stderr ? `: ${this.stderr.trim().split('\n').at(-1)}` : ''}`));
    };
    this.child.on('error', (e) => fail(`failed: ${e.message}`));
    this.child.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
  }

  /** Sends `request` and resolves with the reply. One request at a time, in order. */
  request(request: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`server ${this.exited}`));
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  /** Asks the server to quit and waits (at most 5 s) for it to exit; then kills it. */
  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin.end(`${JSON.stringify({ cmd: 'quit' })}\n`);
    const timer = setTimeout(() => this.child.kill(), 5000);
    await done;
    clearTimeout(timer);
  }
}
