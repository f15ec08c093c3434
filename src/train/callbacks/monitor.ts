/**
 * The monitored quantity of earlyStopping and modelCheckpoint, with Keras'
 * names: 'loss' and '<metric>' are the epoch's training means, 'val_loss' and
 * 'val_<metric>' come from the validation run at the end of the epoch.
 *
 * Direction ('min' or 'max'): given, or 'auto', which (as Keras 3) minimizes
 * a loss and maximizes an accuracy, and refuses to guess for anything else.
 */
import type { EpochInfo, TrainBeginInfo } from './callback.js';

/** 'min': lower is better; 'max': higher is better; 'auto': from the monitor's name. */
export type MonitorMode = 'min' | 'max' | 'auto';

/** Keras' names for the values of one epoch: loss, metrics, val_loss, val_<metric>. */
export function epochLogs(info: EpochInfo): Record<string, number> {
  const logs: Record<string, number> = { loss: info.loss, ...info.metrics };
  if (info.validation) {
    logs.val_loss = info.validation.loss;
    for (const [k, v] of Object.entries(info.validation.metrics)) logs[`val_${k}`] = v;
  }
  return logs;
}

/** 'min' or 'max' for `monitor`; 'auto' knows losses (min) and accuracies (max). */
export function resolveMode(owner: string, monitor: string, mode: MonitorMode): 'min' | 'max' {
  if (mode !== 'auto') return mode;
  const name = monitor.startsWith('val_') ? monitor.slice(4) : monitor;
  if (name === 'loss' || name.endsWith('_loss') || name.endsWith('Loss')) return 'min';
  if (/acc|auc/i.test(name)) return 'max';
  throw new Error(`${owner}: mode 'auto' cannot tell whether '${monitor}' should go down or up; pass mode 'min' or 'max'`);
}

/**
 * Throws unless fit will report `monitor`: 'val_*' needs validationData, and
 * the name must be 'loss' or a metric fit computes (did-you-mean on a typo).
 */
export function checkMonitorAvailable(owner: string, monitor: string, info: TrainBeginInfo): void {
  const train = ['loss', ...info.metrics];
  const all = [...train, ...train.map((k) => `val_${k}`)];
  if (monitor.startsWith('val_') && all.includes(monitor) && !info.hasValidation) {
    throw new Error(`${owner}: monitor '${monitor}' needs fit's validationData, and none was given; monitor 'loss' or pass validationData`);
  }
  if (all.includes(monitor)) return;
  // A hint: the name with the same val_ prefix that contains the typed one or is contained in it ('val_acc' -> 'val_accuracy').
  const base = (k: string): string => k.replace(/^val_/, '').toLowerCase();
  const sameSide = all.filter((k) => k.startsWith('val_') === monitor.startsWith('val_'));
  const near = sameSide.find((k) => base(k).includes(base(monitor)) || base(monitor).includes(base(k)));
  const hint = near ? ` (did you mean '${near}'?)` : '';
  const available = info.hasValidation ? all : train;
  throw new Error(`${owner}: monitor '${monitor}' is not reported by this fit${hint}; available: ${available.join(', ')}`);
}

/**
 * Keras' improvement test: current beats reference by more than minDelta,
 *   min: current + minDelta < reference        max: current - minDelta > reference
 * NaN never improves (every comparison with NaN is false).
 */
export function isImprovement(mode: 'min' | 'max', current: number, reference: number, minDelta = 0): boolean {
  return mode === 'min' ? current + minDelta < reference : current - minDelta > reference;
}
