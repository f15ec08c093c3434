/**
 * Progress for a long run: a bar with ETA and the current loss when stdout is
 * a terminal (cli-progress), nothing extra otherwise (the periodic log lines
 * already tell the story in a log file).
 *
 * Training returns to the event loop only between steps (fitAsync), so the
 * bar redraws from update() (synchronousUpdate) rather than from its timer,
 * and a log line is printed by stopping the bar (which clears it), printing,
 * and starting it again.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  update(batch: number, loss: number): void;
  /** Prints a line above the bar (or plainly when there is no bar). */
  log(line: string): void;
  stop(): void;
}

export function createProgress(total: number, label: string): Progress {
  if (!process.stdout.isTTY) {
    return { update: () => {}, log: (line) => console.log(line), stop: () => {} };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} batches | loss {loss} | ETA {eta_formatted}`,
      stream: process.stdout, hideCursor: true, clearOnComplete: true, synchronousUpdate: true, fps: 5, etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  let value = 0;
  let loss = '-';
  bar.start(total, 0, { loss });
  return {
    update: (batch, l) => {
      value = batch;
      loss = l.toFixed(4);
      bar.update(batch, { loss });
    },
    log: (line) => {
      bar.stop();
      console.log(line);
      bar.start(total, value, { loss });
    },
    stop: () => bar.stop(),
  };
}
