// The timeout argument of blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...), parsed exactly as
// Redis 7.0's getTimeoutFromObjectOrReply with UNIT_SECONDS: a long double number of seconds,
// times 1000 in long double arithmetic, rounded up (ceill) and converted to a long long.
//
//   "0"        0, wait forever
//   "0.0001"   1 ms (rounded up)
//   "-0.0001"  0 (ceil of -0.1 is -0): wait forever
//   "-1"       ERR timeout is negative
//   "inf", "1e18"   the conversion overflows to LLONG_MIN on x86-64: ERR timeout is negative
//   "abc", "nan"    ERR timeout is not a float or out of range

import { CommandError } from '../errors';
import { LongDouble, parseLongDouble } from './longdouble';

export const ERR_TIMEOUT_NOT_FLOAT = 'ERR timeout is not a float or out of range';
export const ERR_TIMEOUT_NEGATIVE = 'ERR timeout is negative';

const MANT_BITS = 64;
const LLONG_MAX = (1n << 63n) - 1n;
const LLONG_MIN = -(1n << 63n);

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** (long long) ceill(v * 1000.0L), with the x87 conversion's overflow to LLONG_MIN. */
function secondsToMs(v: LongDouble): bigint {
  if (v.kind === 'inf') return LLONG_MIN;
  let n = v.mant * 1000n;
  let e = v.exp;
  // The product rounded to the 64-bit significand of a long double, ties to even.
  const len = bitLength(n);
  if (len > MANT_BITS) {
    const shift = BigInt(len - MANT_BITS);
    const rem = n & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    n >>= shift;
    if (rem > half || (rem === half && (n & 1n) === 1n)) n += 1n;
    e += Number(shift);
  }
  let whole: bigint;
  if (e >= 0) {
    whole = n << BigInt(e);
  } else {
    const s = BigInt(-e);
    whole = n >> s;
    // ceil: a positive value with a fraction rounds up; a negative one truncates towards zero.
    if (!v.neg && (n & ((1n << s) - 1n)) !== 0n) whole += 1n;
  }
  const r = v.neg ? -whole : whole;
  return r > LLONG_MAX || r < LLONG_MIN ? LLONG_MIN : r;
}

/** A blocking command's timeout in ms (0: forever), or throws Redis's error. */
export function timeoutArgMs(s: string): number {
  const v = parseLongDouble(s);
  if (v === null) throw new CommandError(ERR_TIMEOUT_NOT_FLOAT);
  const ms = secondsToMs(v);
  if (ms < 0n) throw new CommandError(ERR_TIMEOUT_NEGATIVE);
  return Number(ms);
}
