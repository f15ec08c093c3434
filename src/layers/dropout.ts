/** Dropout as a layer: random in training calls, the identity in inference calls. */
import { dropout } from '../autograd/ops/dropout.js';
import { checkInteger, checkNumber, checkOptions } from '../tensor/options.js';
import { Random } from '../tensor/random.js';
import { Tensor } from '../tensor/tensor.js';
import { StatelessLayer, layerName } from './activations.js';
import { hashName } from './initializers.js';

/** Options of `Dropout`. */
export interface DropoutOptions {
  /**
   * Seed of the mask stream. Default: a hash of the layer's name, taken at
   * the first training call (after `Sequential` has named it `dropout1`,
   * `dropout2`, ...), so two unseeded layers draw different masks and a run
   * is still reproducible.
   */
  seed?: number;
  /** The layer's name, unique among its siblings (default: its kind, numbered by Sequential). */
  name?: string;
}

/**
 * Inverted dropout: in a training call each element is zeroed with
 * probability `rate` (in [0, 1)) and the kept ones are divided by
 * 1 - rate; an inference call returns its input unchanged. Every training
 * call draws a new mask from one seeded stream, so the same seed gives the
 * same sequence of masks. The stream's position is not part of
 * `stateDict()`: a model loaded from a checkpoint starts it afresh.
 *
 * @example
 * const drop = new Dropout(0.5, { seed: 7 });
 * drop.call(x, { isTraining: true });  // about half of x zeroed, the rest doubled
 * drop.call(x, { isTraining: false }); // x itself
 */
export class Dropout extends StatelessLayer {
  readonly kind = 'dropout';
  /** The probability of dropping each element, in [0, 1). */
  readonly rate: number;
  /** The seed given, or undefined (then the name's hash is used). */
  readonly seed: number | undefined;
  /** The mask stream, created at the first training call. */
  private random: Random | null = null;

  constructor(rate: number, opts: DropoutOptions = {}) {
    checkOptions('Dropout', opts, ['seed', 'name']);
    checkNumber('Dropout', 'rate', rate, 0, 1);
    if (rate === 1) throw new Error('Dropout: rate must be below 1 (rate 1 drops everything and divides by 0), got 1');
    super(layerName('Dropout', opts.name, 'dropout'));
    this.rate = rate;
    this.seed = opts.seed === undefined ? undefined : checkInteger('Dropout', 'seed', opts.seed, 0);
  }

  protected override forward(x: Tensor, isTraining: boolean): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`${this.name}: expected a Tensor, got ${typeof x}`);
    if (!isTraining || this.rate === 0) return this.apply(x);
    this.random ??= new Random(this.seed ?? hashName(this.name));
    return dropout(x, this.rate, this.random);
  }

  /** The inference path: the identity. */
  protected apply(x: Tensor): Tensor {
    return x;
  }
}
