/**
 * The errors fit throws when training stops being finite. Both promise the
 * same thing: the model (parameters and moving statistics) and the optimizer
 * hold their state from before the failing step, which fit has checked to be
 * finite.
 */
import type { NonFiniteTensor } from './state-guard.js';

const KEPT = 'the parameters, moving statistics and optimizer state are back to their values from before this step';

/** Thrown when the loss (or a gradient) stops being finite; the model keeps its last finite state. */
export class NonFiniteLossError extends Error {
  constructor(
    /** The step that failed (1-based; 0: before the first step). */
    readonly step: number,
    /** The epoch of that step (0-based). */
    readonly epoch: number,
    /** The loss of that step (NaN when no step ran). */
    readonly loss: number,
    /** True when the loss was finite but a gradient was not. */
    readonly badGradient = false,
  ) {
    const what = badGradient ? `a gradient became non-finite (loss ${loss})` : `loss became ${loss}`;
    super(`fit: ${what} at step ${step} (epoch ${epoch}); training stopped and ${KEPT}`);
  }
}

/**
 * Thrown when a step leaves a NaN or an infinity in a parameter, an optimizer
 * slot or a moving statistic although the loss was finite (a huge learning
 * rate; an input of 1e30 overflowing BN's variance), naming the first such
 * tensor by its checkpoint name (`bn3/movingVariance`,
 * `optimizer/adam/dense1/kernel/m`). Step 0 means the state was already
 * non-finite before training (a checkpoint saved from a diverged run).
 * A subclass of NonFiniteLossError, so one catch covers both.
 */
export class NonFiniteStateError extends NonFiniteLossError {
  /** The first non-finite tensor's checkpoint name. */
  readonly tensor: string;

  constructor(step: number, epoch: number, loss: number, bad: NonFiniteTensor) {
    super(step, epoch, loss);
    this.tensor = bad.name;
    const values = `${bad.count} of ${bad.size} values non-finite (first: ${bad.value})`;
    this.message = step === 0
      ? `fit: before the first step, '${bad.name}' holds ${values}; nothing was trained (was it loaded from a checkpoint of a run that diverged?)`
      : `fit: step ${step} (epoch ${epoch}) left '${bad.name}' with ${values} while the loss was ${loss}; training stopped and ${KEPT}`;
  }
}
