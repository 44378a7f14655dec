// An exact emulation of the C `long double` that Redis's INCRBYFLOAT computes with on x86-64:
// the x87 80-bit extended format (64-bit significand with an explicit integer bit, 15-bit
// exponent, subnormals), round-to-nearest-even. Three operations are needed, each matching
// glibc bit for bit:
//   parseLongDouble  strtold() as Redis's string2ld uses it (util.c)
//   addLongDouble    the x87 FADD of `value += incr`
//   formatLongDouble ld2string(..., LD_STR_HUMAN): "%.17Lf", then trailing zeros trimmed
// Values are kept exact with BigInt: a finite long double is sign * mant * 2^exp.

/** A finite long double: (-1)^neg * mant * 2^exp, with 0 <= mant < 2^64. Or an infinity. */
export type LongDouble =
  | { kind: 'finite'; neg: boolean; mant: bigint; exp: number }
  | { kind: 'inf'; neg: boolean };

const MANT_BITS = 64;
/** The exponent of the least significant bit of the smallest subnormal: 2^-16445. */
const EXP_MIN = -16445;
/** Finite values are below 2^16384 (the largest is (2^64 - 1) * 2^16320). */
const MAG_LIMIT_BITS = 16384;

/** Longest input string2ld accepts (MAX_LONG_DOUBLE_CHARS, the NUL included). */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

export const LD_ZERO: LongDouble = { kind: 'finite', neg: false, mant: 0n, exp: 0 };

export function ldFromInt(n: number | bigint): LongDouble {
  const b = BigInt(n);
  return round(b < 0n, b < 0n ? -b : b, 0, false);
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * Rounds the exact value (-1)^neg * (n + sticky) * 2^e, where `sticky` stands for a nonzero
 * amount below the last bit of n (less than one unit of it), to the long double nearest,
 * ties to even. Overflows to infinity.
 */
function round(neg: boolean, n: bigint, e: number, sticky: boolean): LongDouble {
  if (n === 0n) return { kind: 'finite', neg, mant: 0n, exp: 0 };
  // sticky bits are only ever passed with enough precision in n that they sit below the
  // rounding position (n has at least 66 bits whenever sticky is set).
  const len = bitLength(n);
  let shift = Math.max(len - MANT_BITS, EXP_MIN - e);
  let mant: bigint;
  if (shift > 0) {
    const s = BigInt(shift);
    mant = n >> s;
    const rem = n & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (sticky || (mant & 1n) === 1n))) mant += 1n;
    if (mant >> BigInt(MANT_BITS) !== 0n) {
      mant >>= 1n;
      shift++;
    }
  } else {
    mant = n;
    shift = 0;
  }
  const exp = e + shift;
  if (mant !== 0n && bitLength(mant) + exp > MAG_LIMIT_BITS) return { kind: 'inf', neg };
  return { kind: 'finite', neg, mant, exp: mant === 0n ? 0 : exp };
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)inf(?:inity)?$/i;

/**
 * Parses a string as Redis's string2ld does: strtold() over the whole string (decimal,
 * hexadecimal and "inf" forms; no leading space; nothing left over), refusing NaN and
 * results that overflow or underflow to zero. Returns null if refused. A NUL byte anywhere
 * refuses the string (Redis checks that strtold consumed all slen bytes).
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= MAX_LONG_DOUBLE_CHARS) return null;
  let m = DECIMAL.exec(s);
  if (m !== null) {
    const neg = m[1] === '-';
    const intPart = m[2] ?? '';
    const fracPart = m[3] ?? m[4] ?? '';
    const expStr = m[5];
    return decimalToLongDouble(neg, intPart + fracPart, -fracPart.length, expStr);
  }
  m = HEX.exec(s);
  if (m !== null) {
    const neg = m[1] === '-';
    const intPart = m[2] ?? '';
    const fracPart = m[3] ?? m[4] ?? '';
    const digits = (intPart + fracPart).replace(/^0+/, '');
    const n = digits === '' ? 0n : BigInt('0x' + digits);
    const e = clampExponent(m[5]) - 4 * fracPart.length;
    if (n === 0n) return { kind: 'finite', neg, mant: 0n, exp: 0 };
    const len = bitLength(n);
    if (len + e > MAG_LIMIT_BITS + 1) return null; // overflow (ERANGE)
    if (len + e < EXP_MIN - 1) return null; // underflow to zero (ERANGE)
    const v = round(neg, n, e, false);
    return checkRange(v);
  }
  m = INFINITY.exec(s);
  if (m !== null) return { kind: 'inf', neg: m[1] === '-' };
  return null;
}

/** An exponent string as a number, saturated far beyond any finite long double's range. */
function clampExponent(expStr: string | undefined): number {
  if (expStr === undefined) return 0;
  const v = Number(expStr);
  if (v > 1e7) return 1e7;
  if (v < -1e7) return -1e7;
  return v;
}

/** string2ld refuses results that overflowed to infinity or underflowed to zero (ERANGE). */
function checkRange(v: LongDouble): LongDouble | null {
  if (v.kind === 'inf' || v.mant === 0n) return null;
  return v;
}

/** The long double nearest to (-1)^neg * digits * 10^(exp10 + expStr). */
function decimalToLongDouble(neg: boolean, digitStr: string, exp10: number, expStr: string | undefined): LongDouble | null {
  digitStr = digitStr.replace(/^0+/, '');
  if (digitStr === '') return { kind: 'finite', neg, mant: 0n, exp: 0 };
  // Trailing zeros only scale: fold them into the exponent.
  const trimmed = digitStr.replace(/0+$/, '');
  exp10 += digitStr.length - trimmed.length;
  digitStr = trimmed;
  const e10 = exp10 + clampExponent(expStr);
  // Magnitude in [10^(mag-1), 10^mag). The largest long double is about 1.19e4932 and the
  // smallest subnormal about 3.65e-4951: outside a margin of those the answer is known.
  const mag = digitStr.length + e10;
  if (mag > 4934) return null; // overflow (ERANGE, HUGE_VALL)
  if (mag < -4952) return null; // underflow to zero (ERANGE)
  const d = BigInt(digitStr);
  let v: LongDouble;
  if (e10 >= 0) {
    v = round(neg, d * 10n ** BigInt(e10), 0, false);
  } else {
    const den = 10n ** BigInt(-e10);
    // Enough quotient bits that the round bit is exact and the remainder only sticky.
    const k = Math.max(0, bitLength(den) - bitLength(d) + MANT_BITS + 3);
    const num = d << BigInt(k);
    const q = num / den;
    const r = num % den;
    v = round(neg, q, -k, r !== 0n);
  }
  return checkRange(v);
}

/** a + b as the x87 FPU computes it: exact sum, rounded once to nearest even. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | 'nan' {
  if (a.kind === 'inf' || b.kind === 'inf') {
    if (a.kind === 'inf' && b.kind === 'inf' && a.neg !== b.neg) return 'nan';
    return a.kind === 'inf' ? a : b;
  }
  if (a.mant === 0n && b.mant === 0n) return { kind: 'finite', neg: a.neg && b.neg, mant: 0n, exp: 0 };
  if (a.mant === 0n) return b;
  if (b.mant === 0n) return a;
  const e = Math.min(a.exp, b.exp);
  const na = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const nb = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = na + nb;
  if (sum === 0n) return { kind: 'finite', neg: false, mant: 0n, exp: 0 };
  return round(sum < 0n, sum < 0n ? -sum : sum, e, false);
}

/** printf("%.17Lf", v) for a finite v: the exact binary value rounded half to even. */
export function formatFixed17(v: LongDouble): string {
  if (v.kind === 'inf') return v.neg ? '-inf' : 'inf';
  const scale = 10n ** 17n;
  let q: bigint;
  if (v.exp >= 0) {
    q = (v.mant << BigInt(v.exp)) * scale;
  } else {
    const n = v.mant * scale;
    const s = BigInt(-v.exp);
    q = n >> s;
    const rem = n & ((1n << s) - 1n);
    const half = 1n << (s - 1n);
    if (rem > half || (rem === half && (q & 1n) === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(18, '0');
  const body = `${digits.slice(0, -17)}.${digits.slice(-17)}`;
  return v.neg ? `-${body}` : body;
}

/**
 * Redis's ld2string(..., LD_STR_HUMAN): "%.17Lf" with the trailing zeros (and a bare '.')
 * removed, and "-0" written "0"; infinities as "inf" / "-inf".
 */
export function formatLongDouble(v: LongDouble): string {
  if (v.kind === 'inf') return v.neg ? '-inf' : 'inf';
  let s = formatFixed17(v);
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
  if (s.charCodeAt(end - 1) === 46 /* . */) end--;
  s = s.slice(0, end);
  return s === '-0' ? '0' : s;
}
