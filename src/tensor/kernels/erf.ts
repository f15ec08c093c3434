/**
 * The error function, from its series and its continued fraction, in float64
 * (for GELU and the normal CDF). Both are summed until the next term is below
 * 1e-15 of the total, so the float64 result is within about 1e-14 relative of
 * the true value and rounds to the correct float32 (half an ulp, 3e-8, is far
 * coarser). test/tensor/kernels/erf.test.ts checks it against Python's math.erf/erfc.
 *
 *   erf(x)  = 2/sqrt(pi) * integral_0^x e^(-t^2) dt,   erfc(x) = 1 - erf(x)
 *
 * Small |x| (below 2.5): the series with positive terms only (no cancellation),
 *   erf(x) = 2/sqrt(pi) e^(-x^2) sum_n 2^n x^(2n+1) / (1*3*5*...*(2n+1)),
 *   term_(n+1) = term_n * 2x^2 / (2n+3)                    (A&S 7.1.6)
 * Large x: the continued fraction for the tail, evaluated by modified Lentz,
 *   erfc(x) = e^(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
 *                                                           (A&S 7.1.14)
 * which needs few terms once x is past 2.5 and keeps erfc's relative accuracy
 * far into the tail (erfc(10) = 2.1e-45), where 1 - erf(x) would be 0.
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const SERIES_LIMIT = 2.5;
const TOLERANCE = 1e-15;

/** erf(x) for |x| < SERIES_LIMIT by the positive-term series. */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let total = x;
  for (let n = 0; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 3);
    total += term;
    if (Math.abs(term) <= TOLERANCE * Math.abs(total)) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * total;
}

/**
 * erfc(x) for x >= SERIES_LIMIT by the continued fraction
 * x + a1/(x + a2/(x + ...)) with a_k = k/2, evaluated front to back (Lentz).
 */
function erfcFraction(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 200; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) <= TOLERANCE) break;
  }
  return Math.exp(-x * x) / (Math.sqrt(Math.PI) * f);
}

/** The error function; odd, erf(+-Infinity) = +-1, NaN for NaN. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  if (a < SERIES_LIMIT) return erfSeries(x);
  const tail = a === Infinity ? 0 : erfcFraction(a);
  return x > 0 ? 1 - tail : tail - 1;
}

/** The complementary error function 1 - erf(x), accurate in the tail where 1 - erf(x) underflows. */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (Math.abs(x) < SERIES_LIMIT) return 1 - erfSeries(x);
  const tail = x === Infinity ? 0 : x === -Infinity ? 0 : erfcFraction(Math.abs(x));
  return x > 0 ? tail : 2 - tail;
}
