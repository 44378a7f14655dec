// Shared by the sorted-set commands (zset.ts, zset-setops.ts): key lookups, the argument
// parsers (scores, score and lex ranges, rank windows) and the element replies.

import { Call } from '../command';
import { CommandError, ERR_NOT_INTEGER, ERR_WRONGTYPE } from '../errors';
import { intArg } from '../util/numbers';
import { countLookup } from './string';
import { SortedSet } from './sortedset';
import { parseCDouble, parseScore } from './strtod';

const ERR_MIN_MAX_FLOAT = 'ERR min or max is not a float';
const ERR_MIN_MAX_LEX = 'ERR min or max not valid string range item';
const ERR_NOT_FLOAT = 'ERR value is not a valid float';

// ---------------------------------------------------------------------------------------------
// Lookups

/** A reader's sorted set: undefined if absent; WRONGTYPE if the key holds another type. */
export function readZset(c: Call, key: string): SortedSet | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  if (v === undefined || v instanceof SortedSet) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** A writer's sorted set (an expired key is deleted first). */
export function writeZset(c: Call, key: string): SortedSet | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || v instanceof SortedSet) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** Deletes a key its command emptied. */
export function deleteIfEmpty(c: Call, key: string, z: SortedSet): void {
  if (z.size === 0) c.db.delete(key);
}

/**
 * Stores a command's result at dst as Redis's setKey does (replacing any value and its TTL),
 * or deletes dst when the result is empty. Replies the result's size.
 */
export function storeResult(c: Call, dst: string, z: SortedSet): void {
  if (z.size > 0) {
    c.db.getForWrite(dst, c.nowMs);
    c.db.set(dst, z);
    c.touch(dst);
    c.signalReady(dst);
  } else {
    if (c.db.getForWrite(dst, c.nowMs) !== undefined) {
      c.db.delete(dst);
      c.touch(dst);
    }
  }
  c.out.integer(z.size);
}

// ---------------------------------------------------------------------------------------------
// Parsers

/** A score, increment or weight argument (Redis's getDoubleFromObject). */
export function scoreArg(s: string, error = ERR_NOT_FLOAT): number {
  const v = parseScore(s);
  if (v === null) throw new CommandError(error);
  return v;
}

/** An integer that must fit a C long (indexes, offsets, counts). */
export function longArg(s: string, error = ERR_NOT_INTEGER): number {
  const v = intArg(s, error);
  return typeof v === 'bigint' ? Number(v) : v;
}

export interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function scoreBound(s: string): [number, boolean] {
  const ex = s.startsWith('(');
  const r = parseCDouble(s, ex ? 1 : 0);
  if (r === null) throw new CommandError(ERR_MIN_MAX_FLOAT);
  return [r.value, ex];
}

/** Redis's zslParseRange: "(" makes a bound exclusive; "inf", "-inf", "+inf" are accepted. */
export function parseScoreRange(min: string, max: string): ScoreRange {
  const [lo, minex] = scoreBound(min);
  const [hi, maxex] = scoreBound(max);
  return { min: lo, max: hi, minex, maxex };
}

/** A lex range bound: "-" and "+" are the extremes, else "[" inclusive or "(" exclusive. */
interface LexBound {
  kind: 'min' | 'max' | 'value';
  value: string;
  ex: boolean;
}

function lexBound(s: string): LexBound {
  if (s === '-') return { kind: 'min', value: '', ex: false };
  if (s === '+') return { kind: 'max', value: '', ex: false };
  if (s.startsWith('[')) return { kind: 'value', value: s.slice(1), ex: false };
  if (s.startsWith('(')) return { kind: 'value', value: s.slice(1), ex: true };
  throw new CommandError(ERR_MIN_MAX_LEX);
}

/** A parsed lex range with Redis's zslLexValueGteMin / zslLexValueLteMax tests. */
export interface LexRange {
  gteMin: (m: string) => boolean;
  lteMax: (m: string) => boolean;
  /** min > max, or min == max with an exclusive end: nothing can be in range. */
  empty: boolean;
}

const LEX_KIND_ORDER = { min: -1, value: 0, max: 1 };

/** Redis's sdscmplex over bounds: "-" below every string, "+" above. */
function compareBounds(a: LexBound, b: LexBound): number {
  if (a.kind !== b.kind) return LEX_KIND_ORDER[a.kind] - LEX_KIND_ORDER[b.kind];
  if (a.kind !== 'value') return 0;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

export function parseLexRange(minArg: string, maxArg: string): LexRange {
  const min = lexBound(minArg);
  const max = lexBound(maxArg);
  const cmp = compareBounds(min, max);
  const v = min.value;
  const w = max.value;
  return {
    gteMin: min.kind === 'min' ? () => true : min.kind === 'max' ? () => false : min.ex ? (m) => m > v : (m) => m >= v,
    lteMax: max.kind === 'max' ? () => true : max.kind === 'min' ? () => false : max.ex ? (m) => m < w : (m) => m <= w,
    empty: cmp > 0 || (cmp === 0 && (min.ex || max.ex)),
  };
}

/** How many elements from rank `start` on, in a direction, pass a test, stopping at the first that fails. */
export function countRun(z: SortedSet, start: number, reverse: boolean, pass: (m: string) => boolean, max = Infinity): number {
  let n = 0;
  z.range(start, z.size, reverse, (m) => {
    if (n >= max || !pass(m)) return false;
    n++;
  });
  return n;
}

/** The ascending ranks [lo, hi) of the elements within a score range. */
export function scoreWindow(z: SortedSet, r: ScoreRange): [number, number] {
  if (r.min > r.max || (r.min === r.max && (r.minex || r.maxex))) return [0, 0];
  const lo = z.countBelowScore(r.min, r.minex);
  const hi = z.countBelowScore(r.max, !r.maxex);
  return hi > lo ? [lo, hi] : [0, 0];
}

/** Clamps a rank range as Redis does (negative from the end). Returns [start, end] or null if empty. */
export function rankWindow(n: number, start: number, end: number): [number, number] | null {
  if (start < 0) start = n + start;
  if (end < 0) end = n + end;
  if (start < 0) start = 0;
  if (start > end || start >= n) return null;
  if (end >= n) end = n - 1;
  return [start, end];
}

// ---------------------------------------------------------------------------------------------
// Replies

/** An element list: flat member (score) pairs in RESP2, [member, score] pairs in RESP3 with scores. */
export function replyElementsHeader(c: Call, n: number, withScores: boolean): void {
  if (withScores && c.out.protocol === 2) c.out.array(2 * n);
  else c.out.array(n);
}

export function replyElement(c: Call, member: string, score: number, withScores: boolean): void {
  if (!withScores) {
    c.out.bulk(member);
    return;
  }
  if (c.out.protocol === 3) c.out.array(2);
  c.out.bulk(member);
  c.out.double(score);
}

export function replySet(c: Call, z: SortedSet, withScores: boolean): void {
  replyElementsHeader(c, z.size, withScores);
  z.range(0, z.size, false, (m, s) => replyElement(c, m, s, withScores));
}
