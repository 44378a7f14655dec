// Number parsing and formatting with Redis's exact rules (util.c: string2ll, string2d).

import { CommandError, ERR_NOT_FLOAT, ERR_NOT_INTEGER } from '../errors';

export const INT64_MAX = 9223372036854775807n;
export const INT64_MIN = -9223372036854775808n;

/** A 64-bit integer: a number when it is a safe integer, else a bigint. */
export type Int64 = number | bigint;

/**
 * Parses a string as Redis's string2ll does: an optional '-', then digits with no leading zero
 * (except "0" itself), nothing else, within the signed 64-bit range. Returns null if invalid.
 */
export function parseInt64(s: string): Int64 | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  let i = 0;
  if (s.charCodeAt(0) === 45 /* - */) {
    if (n === 1) return null;
    i = 1;
  }
  const first = s.charCodeAt(i);
  if (first === 48 /* 0 */) return n === 1 ? 0 : null;
  if (first < 49 || first > 57) return null;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return null;
  }
  if (n - i <= 15) return Number(s);
  const b = BigInt(s);
  if (b > INT64_MAX || b < INT64_MIN) return null;
  return normalizeInt64(b);
}

export function normalizeInt64(b: bigint): Int64 {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

/** Parses an integer argument or throws "value is not an integer or out of range". */
export function intArg(s: string, error = ERR_NOT_INTEGER): Int64 {
  const v = parseInt64(s);
  if (v === null) throw new CommandError(error);
  return v;
}

/** Parses an integer argument that must fit in a JS number (counts, offsets, indexes). */
export function smallIntArg(s: string, error = ERR_NOT_INTEGER): number {
  const v = intArg(s, error);
  return typeof v === 'bigint' ? (v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER) : v;
}

/** a + b within int64, or null on overflow. */
export function addInt64(a: Int64, b: Int64): Int64 | null {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r)) return r;
  }
  const r = BigInt(a) + BigInt(b);
  if (r > INT64_MAX || r < INT64_MIN) return null;
  return normalizeInt64(r);
}

const DECIMAL_FLOAT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^([+-]?)inf(inity)?$/i;

/**
 * Parses a double as Redis's string2d does (strtod over the whole string; no leading space;
 * NaN rejected). Returns null if invalid. Hexadecimal floats are not accepted (docs/compatibility.md).
 */
export function parseDouble(s: string): number | null {
  if (s.length === 0 || s.length > 5 * 1024) return null;
  if (DECIMAL_FLOAT.test(s)) return Number(s);
  const m = INFINITY.exec(s);
  if (m !== null) return m[1] === '-' ? -Infinity : Infinity;
  return null;
}

export function doubleArg(s: string, error = ERR_NOT_FLOAT): number {
  const v = parseDouble(s);
  if (v === null) throw new CommandError(error);
  return v;
}
