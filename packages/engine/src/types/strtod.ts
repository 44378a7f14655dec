// C's strtod as Redis 7.0 calls it for sorted-set scores, ranges, weights and SORT's values:
// leading white space, a sign, decimal or hexadecimal digits with an exponent, "inf",
// "infinity" and "nan" (any case). It reads the longest prefix that is a number and reports
// where it stopped and whether the value overflowed or underflowed (errno == ERANGE).

export interface Strtod {
  value: number;
  /** Index just after the number; `start` if there was none (then value is 0). */
  end: number;
  /** C's errno == ERANGE: the value overflowed to ±inf or underflowed to a subnormal or zero. */
  erange: boolean;
}

const DECIMAL = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const HEX = /([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?\d+))?/y;
const SPECIAL = /([+-]?)(infinity|inf|nan(?:\([0-9A-Za-z_]*\))?)/iy;
const DBL_MIN = 2.2250738585072014e-308;

function isCSpace(ch: number): boolean {
  return ch === 0x20 || (ch >= 0x09 && ch <= 0x0d);
}

export function strtod(s: string, start = 0): Strtod {
  let i = start;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  const sign = s.charCodeAt(i) === 0x2b || s.charCodeAt(i) === 0x2d ? 1 : 0;
  const x = s.charCodeAt(i + sign + 1) | 0x20;
  if (s.charCodeAt(i + sign) === 0x30 && x === 0x78) {
    HEX.lastIndex = i;
    const m = HEX.exec(s);
    if (m !== null) return hexValue(m, HEX.lastIndex);
  }
  DECIMAL.lastIndex = i;
  let m = DECIMAL.exec(s);
  if (m !== null) {
    const value = Number(m[0]);
    let erange = !Number.isFinite(value);
    // Underflow: digits that are not all zero gave a zero or subnormal result.
    if (!erange && Math.abs(value) < DBL_MIN) erange = /[1-9]/.test(m[0].replace(/[eE].*$/, ''));
    return { value, end: DECIMAL.lastIndex, erange };
  }
  SPECIAL.lastIndex = i;
  m = SPECIAL.exec(s);
  if (m !== null) {
    const word = m[2]!.toLowerCase();
    const value = word.startsWith('nan') ? NaN : m[1] === '-' ? -Infinity : Infinity;
    return { value, end: SPECIAL.lastIndex, erange: false };
  }
  return { value: 0, end: start, erange: false };
}

/** The value of a hexadecimal float matched by HEX ("0x" digits ["." digits] ["p" exponent]). */
function hexValue(m: RegExpExecArray, end: number): Strtod {
  const [int, frac = ''] = m[2]!.split('.');
  const digits = (int ?? '') + frac;
  let value = 0;
  for (const d of digits) value = value * 16 + parseInt(d, 16);
  value *= 2 ** (Number(m[3] ?? '0') - 4 * frac.length);
  if (m[1] === '-') value = -value;
  return { value, end, erange: !Number.isFinite(value) || (value === 0 && /[1-9a-f]/i.test(digits)) };
}

/**
 * Redis 7.0's getDoubleFromObject: the whole string is a number, with no leading space, no
 * overflow or underflow to zero, and not NaN. Returns null otherwise.
 */
export function parseScore(s: string): number | null {
  if (s.length === 0 || isCSpace(s.charCodeAt(0))) return null;
  const r = strtod(s);
  if (r.end !== s.length || Number.isNaN(r.value)) return null;
  if (r.erange && (!Number.isFinite(r.value) || r.value === 0)) return null;
  return r.value;
}

/**
 * strtod over a C string (up to the first NUL) that must be read to its end, as zslParseRange
 * and SORT do: leading space is accepted, "" reads as 0. Returns null if invalid or NaN.
 */
export function parseCDouble(s: string, start = 0): Strtod | null {
  const nul = s.indexOf('\0', start);
  const limit = nul < 0 ? s.length : nul;
  const r = strtod(s.slice(0, limit), start);
  if (r.end !== limit || Number.isNaN(r.value)) return null;
  return r;
}
