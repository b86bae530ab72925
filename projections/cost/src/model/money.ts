/**
 * Exact money. Amounts are integers of micro-units (1 currency unit =
 * 1,000,000), held as bigint; prices are integers of nano-units per
 * unit-hour. Nothing here ever touches a floating-point number.
 */

export const MICROS_PER_UNIT = 1_000_000n;
const NANOS_PER_UNIT = 1_000_000_000n;

/** A price as events carry it (`"0.031611"`: decimal, at most nine decimals) in nano-units. */
export function priceToNanos(price: string): bigint {
  const match = /^([0-9]+)(?:\.([0-9]{1,9}))?$/.exec(price);
  if (!match) throw new Error(`Not a decimal price: ${JSON.stringify(price)}`);
  return BigInt(match[1]!) * NANOS_PER_UNIT + BigInt((match[2] ?? '').padEnd(9, '0'));
}

/** nano-units back to the shortest decimal string (`31611000n` → `"0.031611"`). */
export function nanosToPrice(nanos: bigint): string {
  const fraction = (nanos % NANOS_PER_UNIT).toString().padStart(9, '0').replace(/0+$/, '');
  return `${nanos / NANOS_PER_UNIT}${fraction ? `.${fraction}` : ''}`;
}

/** Micro-units as a decimal string with six decimals (`63222n` → `"0.063222"`). */
export function formatMicros(micros: bigint): string {
  const sign = micros < 0n ? '-' : '';
  const magnitude = micros < 0n ? -micros : micros;
  return `${sign}${magnitude / MICROS_PER_UNIT}.${(magnitude % MICROS_PER_UNIT).toString().padStart(6, '0')}`;
}

/**
 * `numerator / denominator` rounded to the nearest integer, halves to the
 * even neighbour (banker's rounding: over many rows, halves round up as
 * often as down, so totals carry no bias). Both non-negative.
 */
export function roundHalfEven(numerator: bigint, denominator: bigint): bigint {
  if (numerator < 0n || denominator <= 0n) throw new Error('roundHalfEven takes a non-negative numerator and a positive denominator');
  const quotient = numerator / denominator;
  const twice = (numerator % denominator) * 2n;
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

/**
 * Splits `total` into integer parts proportional to `weights`, summing to
 * `total` exactly (the largest-remainder method): each part gets the floor
 * of its exact share, and the units left over go one each to the parts with
 * the largest remainders, ties to the earlier part. Deterministic for a
 * given order of the weights; callers order them by a stable key.
 * All-zero weights take nothing (every part 0; `total` must then be 0).
 */
export function apportion(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((a, b) => a + b, 0n);
  if (sum === 0n) {
    if (total !== 0n) throw new Error('apportion: a non-zero total over zero weights');
    return weights.map(() => 0n);
  }
  const parts = weights.map((weight) => (total * weight) / sum);
  let left = total - parts.reduce((a, b) => a + b, 0n);
  if (left === 0n) return parts;
  const order = weights
    .map((weight, index) => ({ index, remainder: (total * weight) % sum }))
    .sort((a, b) => (a.remainder === b.remainder ? a.index - b.index : a.remainder > b.remainder ? -1 : 1));
  for (const { index } of order) {
    if (left === 0n) break;
    parts[index]! += 1n;
    left -= 1n;
  }
  return parts;
}

/**
 * A non-negative integer amount as the roll-ups sum it: a number while it is
 * a safe integer (adding numbers allocates nothing), a bigint beyond. The
 * operations below are exact either way.
 */
export type Amount = number | bigint;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const MAX_SAFE_BIG = BigInt(MAX_SAFE);

/** A bigint as an amount: a number when it is a safe integer. */
export function amountOf(value: bigint): Amount {
  return value <= MAX_SAFE_BIG ? Number(value) : value;
}

// For non-negative safe integers a and b, a + b and a × b are exact whenever
// the result is at most MAX_SAFE; an exact result above it rounds to 2^53 or
// more, so the comparison tells which case it is.

/** a + b, exactly. */
export function plus(a: Amount, b: Amount): Amount {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (sum <= MAX_SAFE) return sum;
  }
  return amountOf(BigInt(a) + BigInt(b));
}

/** a × b, exactly. */
export function times(a: Amount, b: Amount): Amount {
  if (typeof a === 'number' && typeof b === 'number') {
    const product = a * b;
    if (product <= MAX_SAFE) return product;
  }
  return amountOf(BigInt(a) * BigInt(b));
}

/** max(a − b, 0). */
export function minusOrZero(a: Amount, b: Amount): Amount {
  if (typeof a === 'number' && typeof b === 'number') return a > b ? a - b : 0;
  const difference = BigInt(a) - BigInt(b);
  return difference > 0n ? amountOf(difference) : 0;
}

/**
 * `roundHalfEven(units × multiplier, divisor)` of a rate whose terms were
 * reduced by their common divisor (same rational, so the same rounding),
 * in float arithmetic when every step is exact: the float quotient is the
 * exact one or one above it, the remainder (below 2^53 when units ×
 * multiplier + divisor is) corrects it.
 */
export function roundedProduct(units: Amount, multiplier: bigint, divisor: bigint, multiplierNumber: number, divisorNumber: number): Amount {
  if (typeof units === 'number' && divisorNumber <= MAX_SAFE && multiplierNumber <= MAX_SAFE) {
    const n = units * multiplierNumber;
    if (n <= MAX_SAFE - divisorNumber) {
      let quotient = Math.floor(n / divisorNumber);
      let remainder = n - quotient * divisorNumber;
      if (remainder < 0) {
        quotient -= 1;
        remainder += divisorNumber;
      } else if (remainder >= divisorNumber) {
        quotient += 1;
        remainder -= divisorNumber;
      }
      const twice = remainder * 2;
      if (twice > divisorNumber || (twice === divisorNumber && quotient % 2 === 1)) quotient += 1;
      return quotient;
    }
  }
  return amountOf(roundHalfEven(BigInt(units) * multiplier, divisor));
}

/** The greatest common divisor of two non-negative bigints. */
export function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
