// Sorted sets, as Redis 7.0's t_zset.c: the value type lives in sortedset.ts (listpack or skip
// list), the shared lookups, parsers and replies in zset-common.ts, the set operations in
// zset-setops.ts; here are the other command handlers and the command table.
// Argument errors are thrown before any reply is written; ranges are parsed before the key is
// looked up, as Redis does, so a bad range wins over WRONGTYPE.

import { formatDouble } from '@keel/resp';
import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_NOT_INTEGER, ERR_SYNTAX } from '../errors';
import { globMatch } from '../util/glob';
import { parseInt64 } from '../util/numbers';
import { timeoutArgMs } from '../util/timeout';
import { parseScanCursor } from './generic';
import { SortedSet } from './sortedset';
import {
  countRun,
  deleteIfEmpty,
  LexRange,
  longArg,
  parseLexRange,
  parseScoreRange,
  rankWindow,
  readZset,
  replyElement,
  replyElementsHeader,
  replySet,
  scoreArg,
  ScoreRange,
  scoreWindow,
  storeResult,
  writeZset,
} from './zset-common';
import {
  zdiffCommand,
  zdiffstoreCommand,
  zinterCommand,
  zintercardCommand,
  zinterstoreCommand,
  zunionCommand,
  zunionstoreCommand,
} from './zset-setops';

export { SortedSet } from './sortedset';

const ERR_NAN = 'ERR resulting score is not a number (NaN)';
const ERR_NOT_POSITIVE = 'ERR value is out of range, must be positive';
const LONG_MAX = 9223372036854775807n;

// ---------------------------------------------------------------------------------------------
// ZADD, ZINCRBY

const enum ZaddFlag {
  NX = 1,
  XX = 2,
  GT = 4,
  LT = 8,
  CH = 16,
  INCR = 32,
}

/** Redis's zaddGenericCommand, for ZADD and ZINCRBY (flags INCR). */
function zaddGeneric(c: Call, flags: number): void {
  const argv = c.argv;
  const key = argv[1]!;
  let i = 2;
  for (; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'nx') flags |= ZaddFlag.NX;
    else if (opt === 'xx') flags |= ZaddFlag.XX;
    else if (opt === 'ch') flags |= ZaddFlag.CH;
    else if (opt === 'incr') flags |= ZaddFlag.INCR;
    else if (opt === 'gt') flags |= ZaddFlag.GT;
    else if (opt === 'lt') flags |= ZaddFlag.LT;
    else break;
  }
  const pairs = argv.length - i;
  if (pairs === 0 || pairs % 2 !== 0) throw new CommandError(ERR_SYNTAX);
  const elements = pairs / 2;
  const nx = (flags & ZaddFlag.NX) !== 0;
  const xx = (flags & ZaddFlag.XX) !== 0;
  const gt = (flags & ZaddFlag.GT) !== 0;
  const lt = (flags & ZaddFlag.LT) !== 0;
  const incr = (flags & ZaddFlag.INCR) !== 0;
  if (nx && xx) throw new CommandError('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw new CommandError('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (incr && elements > 1) throw new CommandError('ERR INCR option supports a single increment-element pair');
  const scores: number[] = [];
  for (let j = 0; j < elements; j++) scores.push(scoreArg(argv[i + 2 * j]!));

  let z = writeZset(c, key);
  let added = 0;
  let updated = 0;
  let processed = 0;
  let score = 0;
  if (z === undefined && !xx) {
    z = new SortedSet();
    c.db.set(key, z);
    c.signalReady(key);
  }
  if (z !== undefined) {
    const config = c.engine.config;
    for (let j = 0; j < elements; j++) {
      const member = argv[i + 2 * j + 1]!;
      score = scores[j]!;
      const cur = z.score(member);
      if (cur !== undefined) {
        if (nx) continue;
        if (incr) {
          score += cur;
          if (Number.isNaN(score)) throw new CommandError(ERR_NAN); // INCR has one element: nothing changed
        }
        if ((lt && score >= cur) || (gt && score <= cur)) continue;
        if (score !== cur) {
          z.update(member, score);
          updated++;
        }
        processed++;
      } else if (!xx) {
        z.insert(member, score, config);
        added++;
        processed++;
      }
    }
  }
  if (added || updated) c.touch(key);
  if (incr) {
    if (processed) c.out.double(score);
    else c.out.nullBulk();
  } else {
    c.out.integer(flags & ZaddFlag.CH ? added + updated : added);
  }
}

function zaddCommand(c: Call): void {
  zaddGeneric(c, 0);
}

function zincrbyCommand(c: Call): void {
  zaddGeneric(c, ZaddFlag.INCR);
}

// ---------------------------------------------------------------------------------------------
// ZREM, ZCARD, ZSCORE, ZMSCORE, ZRANK, ZCOUNT, ZLEXCOUNT

function zremCommand(c: Call): void {
  const key = c.argv[1]!;
  const z = writeZset(c, key);
  let deleted = 0;
  if (z !== undefined) {
    for (let j = 2; j < c.argv.length; j++) {
      if (z.remove(c.argv[j]!)) deleted++;
      if (z.size === 0) break;
    }
    if (deleted > 0) {
      deleteIfEmpty(c, key, z);
      c.touch(key);
    }
  }
  c.out.integer(deleted);
}

function zcardCommand(c: Call): void {
  const z = readZset(c, c.argv[1]!);
  c.out.integer(z === undefined ? 0 : z.size);
}

function zscoreCommand(c: Call): void {
  const s = readZset(c, c.argv[1]!)?.score(c.argv[2]!);
  if (s === undefined) c.out.nullBulk();
  else c.out.double(s);
}

function zmscoreCommand(c: Call): void {
  const z = readZset(c, c.argv[1]!);
  c.out.array(c.argv.length - 2);
  for (let j = 2; j < c.argv.length; j++) {
    const s = z?.score(c.argv[j]!);
    if (s === undefined) c.out.nullBulk();
    else c.out.double(s);
  }
}

/** ZRANK and ZREVRANK key member [WITHSCORE] (WITHSCORE as Redis 7.2). */
function zrankGeneric(c: Call, reverse: boolean): void {
  const argv = c.argv;
  if (argv.length > 4) throw new CommandError(ERR_SYNTAX);
  const withScore = argv.length === 4;
  if (withScore && argv[3]!.toLowerCase() !== 'withscore') throw new CommandError(ERR_SYNTAX);
  const z = readZset(c, argv[1]!);
  const rank = z === undefined ? -1 : z.rank(argv[2]!);
  if (rank < 0) {
    if (withScore) c.out.nullArray();
    else c.out.nullBulk();
    return;
  }
  const r = reverse ? z!.size - 1 - rank : rank;
  if (!withScore) {
    c.out.integer(r);
    return;
  }
  c.out.array(2);
  c.out.integer(r);
  c.out.double(z!.score(argv[2]!)!);
}

function zrankCommand(c: Call): void {
  zrankGeneric(c, false);
}

function zrevrankCommand(c: Call): void {
  zrankGeneric(c, true);
}

function zcountCommand(c: Call): void {
  const range = parseScoreRange(c.argv[2]!, c.argv[3]!);
  const z = readZset(c, c.argv[1]!);
  if (z === undefined) {
    c.out.integer(0);
    return;
  }
  const [lo, hi] = scoreWindow(z, range);
  c.out.integer(hi - lo);
}

function zlexcountCommand(c: Call): void {
  const range = parseLexRange(c.argv[2]!, c.argv[3]!);
  const z = readZset(c, c.argv[1]!);
  const first = z === undefined || range.empty ? -1 : z.lexFirst(range.gteMin, range.lteMax);
  if (first < 0) {
    c.out.integer(0);
    return;
  }
  if (z!.isListpack) {
    c.out.integer(countRun(z!, first, false, range.lteMax));
    return;
  }
  // Redis's skiplist answer: from the ranks of the first and last elements in range.
  const last = z!.lexLast(range.gteMin, range.lteMax);
  c.out.integer(last < 0 ? z!.size - first : last - first + 1);
}

// ---------------------------------------------------------------------------------------------
// ZRANGE and its variants

const enum RangeType {
  Auto,
  Rank,
  Score,
  Lex,
}

const enum Direction {
  Auto,
  Forward,
  Reverse,
}

/**
 * Redis's zrangeGenericCommand: ZRANGE, ZRANGESTORE, Z[REV]RANGE, Z[REV]RANGEBYSCORE and
 * Z[REV]RANGEBYLEX. `first` is the index of the source key; options follow min and max.
 * With `store`, the result goes to argv[1].
 */
function zrangeGeneric(c: Call, first: number, store: boolean, type: RangeType, direction: Direction): void {
  const argv = c.argv;
  const key = argv[first]!;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = first + 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const left = argv.length - j - 1;
    if (!store && opt === 'withscores') {
      withScores = true;
    } else if (opt === 'limit' && left >= 2) {
      offset = longArg(argv[j + 1]!);
      limit = longArg(argv[j + 2]!);
      j += 2;
    } else if (direction === Direction.Auto && opt === 'rev') {
      direction = Direction.Reverse;
    } else if (type === RangeType.Auto && opt === 'bylex') {
      type = RangeType.Lex;
    } else if (type === RangeType.Auto && opt === 'byscore') {
      type = RangeType.Score;
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  if (direction === Direction.Auto) direction = Direction.Forward;
  if (type === RangeType.Auto) type = RangeType.Rank;
  if (limit !== -1 && type === RangeType.Rank) {
    throw new CommandError('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (withScores && type === RangeType.Lex) {
    throw new CommandError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  const reverse = direction === Direction.Reverse;
  // BYSCORE and BYLEX take their range as max min when reversed.
  let minArg = argv[first + 1]!;
  let maxArg = argv[first + 2]!;
  if (reverse && type !== RangeType.Rank) [minArg, maxArg] = [maxArg, minArg];
  let rankStart = 0;
  let rankEnd = 0;
  let scoreRange: ScoreRange | null = null;
  let lexRange: LexRange | null = null;
  if (type === RangeType.Rank) {
    rankStart = longArg(minArg);
    rankEnd = longArg(maxArg);
  } else if (type === RangeType.Score) {
    scoreRange = parseScoreRange(minArg, maxArg);
  } else {
    lexRange = parseLexRange(minArg, maxArg);
  }

  const z = readZset(c, key);
  if (z === undefined) {
    if (store) storeResult(c, argv[1]!, new SortedSet());
    else c.out.array(0);
    return;
  }

  // The window [lo, hi) in ascending ranks, then offset and limit in the reply's direction.
  let lo = 0;
  let hi = 0;
  const n = z.size;
  if (type === RangeType.Rank) {
    const w = rankWindow(n, rankStart, rankEnd);
    if (w !== null) {
      [lo, hi] = reverse ? [n - 1 - w[1], n - w[0]] : [w[0], w[1] + 1];
    }
    offset = 0; // LIMIT -1 is all that a rank range accepts

  } else if (scoreRange !== null) {
    [lo, hi] = scoreWindow(z, scoreRange);
  }
  let count = offset < 0 ? 0 : Math.max(0, hi - lo - offset);
  if (limit >= 0 && limit < count) count = limit;
  let start = reverse ? hi - 1 - offset : lo + offset;
  if (lexRange !== null) {
    // As Redis: from the first (or last) element in range, skip offset, then take elements
    // while they are in range (with mixed scores the run can end early).
    const r = lexRange;
    const from = r.empty ? -1 : reverse ? z.lexLast(r.gteMin, r.lteMax) : z.lexFirst(r.gteMin, r.lteMax);
    start = reverse ? from - offset : from + offset;
    count = from < 0 || offset < 0 ? 0 : countRun(z, start, reverse, reverse ? r.gteMin : r.lteMax, limit < 0 ? Infinity : limit);
  }

  if (store) {
    const members: string[] = [];
    const scores: number[] = [];
    z.range(start, count, reverse, (m, s) => {
      members.push(m);
      scores.push(s);
    });
    if (reverse) {
      members.reverse();
      scores.reverse();
    }
    storeResult(c, argv[1]!, SortedSet.fromSorted(members, scores, c.engine.config));
    return;
  }
  replyElementsHeader(c, count, withScores);
  z.range(start, count, reverse, (m, s) => replyElement(c, m, s, withScores));
}

function zrangeCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Auto, Direction.Auto);
}

function zrangestoreCommand(c: Call): void {
  zrangeGeneric(c, 2, true, RangeType.Auto, Direction.Auto);
}

function zrevrangeCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Rank, Direction.Reverse);
}

function zrangebyscoreCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Score, Direction.Forward);
}

function zrevrangebyscoreCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Score, Direction.Reverse);
}

function zrangebylexCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Lex, Direction.Forward);
}

function zrevrangebylexCommand(c: Call): void {
  zrangeGeneric(c, 1, false, RangeType.Lex, Direction.Reverse);
}

// ---------------------------------------------------------------------------------------------
// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX

function zremrangeGeneric(c: Call, type: RangeType): void {
  const key = c.argv[1]!;
  let window: (z: SortedSet) => [number, number];
  if (type === RangeType.Rank) {
    const start = longArg(c.argv[2]!);
    const end = longArg(c.argv[3]!);
    window = (z) => {
      const w = rankWindow(z.size, start, end);
      return w === null ? [0, 0] : [w[0], w[1] + 1];
    };
  } else if (type === RangeType.Score) {
    const range = parseScoreRange(c.argv[2]!, c.argv[3]!);
    window = (z) => scoreWindow(z, range);
  } else {
    // Redis's zslDeleteRangeByLex / zzlDeleteRangeByLex: from the first element in range
    // (found by descent alone in a skiplist), every element up to the first above max.
    const range = parseLexRange(c.argv[2]!, c.argv[3]!);
    window = (z) => {
      const from = z.isListpack ? (range.empty ? -1 : z.lexFirst(range.gteMin, range.lteMax)) : z.lexDescend(range.gteMin);
      if (from < 0) return [0, 0];
      return [from, from + countRun(z, from, false, range.lteMax)];
    };
  }
  const z = writeZset(c, key);
  if (z === undefined) {
    c.out.integer(0);
    return;
  }
  const [lo, hi] = window(z);
  const deleted = z.removeRange(lo, hi - 1);
  if (deleted > 0) {
    deleteIfEmpty(c, key, z);
    c.touch(key);
  }
  c.out.integer(deleted);
}

function zremrangebyrankCommand(c: Call): void {
  zremrangeGeneric(c, RangeType.Rank);
}

function zremrangebyscoreCommand(c: Call): void {
  zremrangeGeneric(c, RangeType.Score);
}

function zremrangebylexCommand(c: Call): void {
  zremrangeGeneric(c, RangeType.Lex);
}

// ---------------------------------------------------------------------------------------------
// ZPOPMIN, ZPOPMAX, ZMPOP and the blocking variants

const enum PopReply {
  /** ZPOPMIN key: member score, flat. */
  Single,
  /** ZPOPMIN key count: flat in RESP2, pairs in RESP3. */
  Counted,
  /** BZPOPMIN: key member score. */
  WithKey,
  /** ZMPOP, BZMPOP: key [[member score] ...]. */
  Nested,
}

/** Pops up to count elements of the first existing key among keys; null if there is none. */
function popFirst(c: Call, keys: string[], max: boolean, count: number, how: PopReply): boolean {
  let key: string | undefined;
  let z: SortedSet | undefined;
  for (const k of keys) {
    z = writeZset(c, k);
    if (z !== undefined) {
      key = k;
      break;
    }
  }
  if (z === undefined || key === undefined) return false;
  const n = Math.min(count, z.size);
  const members: string[] = [];
  const scores: number[] = [];
  z.range(max ? z.size - 1 : 0, n, max, (m, s) => {
    members.push(m);
    scores.push(s);
  });
  if (max) z.removeRange(z.size - n, z.size - 1);
  else z.removeRange(0, n - 1);
  deleteIfEmpty(c, key, z);
  c.touch(key);

  const out = c.out;
  if (how === PopReply.WithKey) {
    out.array(3);
    out.bulk(key);
    out.bulk(members[0]!);
    out.double(scores[0]!);
    return true;
  }
  if (how === PopReply.Nested) {
    out.array(2);
    out.bulk(key);
    out.array(n);
    for (let i = 0; i < n; i++) {
      out.array(2);
      out.bulk(members[i]!);
      out.double(scores[i]!);
    }
    return true;
  }
  const pairs = how === PopReply.Counted && out.protocol === 3;
  out.array(pairs ? n : 2 * n);
  for (let i = 0; i < n; i++) {
    if (pairs) out.array(2);
    out.bulk(members[i]!);
    out.double(scores[i]!);
  }
  return true;
}

/** ZPOPMIN and ZPOPMAX key [count]. */
function zpopGeneric(c: Call, max: boolean): void {
  const argv = c.argv;
  if (argv.length > 3) throw new CommandError(ERR_SYNTAX);
  let count = 1;
  if (argv.length === 3) {
    count = longArg(argv[2]!, ERR_NOT_POSITIVE);
    if (count < 0) throw new CommandError(ERR_NOT_POSITIVE);
    if (count === 0) {
      writeZset(c, argv[1]!); // still WRONGTYPE on another type, as Redis
      c.out.array(0);
      return;
    }
  }
  if (!popFirst(c, [argv[1]!], max, count, argv.length === 3 ? PopReply.Counted : PopReply.Single)) c.out.array(0);
}

function zpopminCommand(c: Call): void {
  zpopGeneric(c, false);
}

function zpopmaxCommand(c: Call): void {
  zpopGeneric(c, true);
}

/** BZPOPMIN and BZPOPMAX key [key ...] timeout. */
function bzpopGeneric(c: Call, max: boolean): void {
  const argv = c.argv;
  const timeoutMs = timeoutArgMs(argv[argv.length - 1]!);
  const keys = argv.slice(1, -1);
  if (popFirst(c, keys, max, 1, PopReply.WithKey)) return;
  if (c.client.inExec) c.out.nullArray();
  else c.block(keys, timeoutMs, 'nullArray');
}

function bzpopminCommand(c: Call): void {
  bzpopGeneric(c, false);
}

function bzpopmaxCommand(c: Call): void {
  bzpopGeneric(c, true);
}

interface MpopArgs {
  keys: string[];
  max: boolean;
  count: number;
}

/** Parses numkeys key [key ...] MIN|MAX [COUNT count] starting at argv[at]. */
function parseMpop(argv: string[], at: number): MpopArgs {
  const numkeys = longArg(argv[at]!, 'ERR numkeys should be greater than 0');
  if (numkeys < 1) throw new CommandError('ERR numkeys should be greater than 0');
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) throw new CommandError(ERR_SYNTAX);
  const where = argv[whereAt]!.toLowerCase();
  if (where !== 'min' && where !== 'max') throw new CommandError(ERR_SYNTAX);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && argv[j]!.toLowerCase() === 'count' && j + 1 < argv.length) {
      count = longArg(argv[++j]!, 'ERR count should be greater than 0');
      if (count < 1) throw new CommandError('ERR count should be greater than 0');
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  return { keys: argv.slice(at + 1, whereAt), max: where === 'max', count: count === -1 ? 1 : count };
}

function zmpopCommand(c: Call): void {
  const { keys, max, count } = parseMpop(c.argv, 1);
  if (!popFirst(c, keys, max, count, PopReply.Nested)) c.out.nullArray();
}

function bzmpopCommand(c: Call): void {
  // Redis 7.0 parses the timeout last: BZMPOP -1 1 k MAX COUNT 0 complains about the count.
  const { keys, max, count } = parseMpop(c.argv, 2);
  const timeoutMs = timeoutArgMs(c.argv[1]!);
  if (popFirst(c, keys, max, count, PopReply.Nested)) return;
  if (c.client.inExec) c.out.nullArray();
  else c.block(keys, timeoutMs, 'nullArray');
}

// ---------------------------------------------------------------------------------------------
// ZRANDMEMBER

function zrandmemberCommand(c: Call): void {
  const argv = c.argv;
  if (argv.length === 2) {
    const z = readZset(c, argv[1]!);
    if (z === undefined) {
      c.out.nullBulk();
      return;
    }
    c.out.bulk(z.at(Math.floor(c.random() * z.size))![0]);
    return;
  }
  const v = parseInt64(argv[2]!);
  if (v === null) throw new CommandError(ERR_NOT_INTEGER);
  if (BigInt(v) < -LONG_MAX) {
    throw new CommandError('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
  }
  let withScores = false;
  if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== 'withscores')) throw new CommandError(ERR_SYNTAX);
  if (argv.length === 4) {
    withScores = true;
    if (BigInt(v) < -LONG_MAX / 2n || BigInt(v) > LONG_MAX / 2n) throw new CommandError('ERR value is out of range');
  }
  const z = readZset(c, argv[1]!);
  if (z === undefined || v === 0 || v === 0n) {
    c.out.array(0);
    return;
  }
  const n = z.size;
  const unique = v > 0;
  const count = Math.abs(Number(v));
  if (!unique || count === 1) {
    // With repetition, in draw order.
    replyElementsHeader(c, count, withScores);
    for (let i = 0; i < count; i++) {
      const [m, s] = z.at(Math.floor(c.random() * n))!;
      replyElement(c, m, s, withScores);
    }
    return;
  }
  if (count >= n) {
    replySet(c, z, withScores);
    return;
  }
  // Distinct ranks: a partial Fisher-Yates shuffle when many are wanted, else rejection.
  const ranks: number[] = [];
  if (count * 3 > n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(c.random() * (n - i));
      [all[i], all[j]] = [all[j]!, all[i]!];
      ranks.push(all[i]!);
    }
  } else {
    const seen = new Set<number>();
    while (ranks.length < count) {
      const r = Math.floor(c.random() * n);
      if (seen.has(r)) continue;
      seen.add(r);
      ranks.push(r);
    }
  }
  replyElementsHeader(c, count, withScores);
  for (const r of ranks) {
    const [m, s] = z.at(r)!;
    replyElement(c, m, s, withScores);
  }
}

// ---------------------------------------------------------------------------------------------
// ZSCAN

const SCAN_COUNT_DEFAULT = 10;

function zscanCommand(c: Call): void {
  const argv = c.argv;
  let cursor = parseScanCursor(argv[2]!);
  const z = readZset(c, argv[1]!);
  if (z === undefined) {
    c.out.array(2);
    c.out.bulk('0');
    c.out.array(0);
    return;
  }
  let count = SCAN_COUNT_DEFAULT;
  let pattern: string | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const hasArg = i + 1 < argv.length;
    if (opt === 'count' && hasArg) {
      count = longArg(argv[i + 1]!);
      if (count < 1) throw new CommandError(ERR_SYNTAX);
    } else if (opt === 'match' && hasArg) {
      pattern = argv[i + 1]!;
      if (pattern === '*') pattern = null;
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  const found: Array<[string, number]> = [];
  let iterationsLeft = count * 10;
  do {
    cursor = z.scan(cursor, (m, s) => {
      found.push([m, s]);
    });
  } while (cursor !== 0 && iterationsLeft-- > 0 && found.length < count);
  const items = pattern === null ? found : found.filter(([m]) => globMatch(pattern!, m));
  c.out.array(2);
  c.out.bulk(String(cursor));
  c.out.array(items.length * 2);
  for (const [m, s] of items) {
    c.out.bulk(m);
    c.out.bulk(formatDouble(s));
  }
}

// ---------------------------------------------------------------------------------------------
// The command table

/** Keys of a command whose numkeys is at argv[at] (none if numkeys is invalid, as Redis). */
function numkeysKeys(argv: string[], at: number, before: number[] = []): number[] {
  const n = parseInt64(argv[at] ?? '');
  if (n === null || n < 1 || n > argv.length - at - 1) return before;
  const keys = before.slice();
  for (let i = 0; i < Number(n); i++) keys.push(at + 1 + i);
  return keys;
}

const zsetGroup = 'sorted-set';

export const zsetCommands: CommandSpec[] = [
  command('zadd', -4, ['write', 'denyoom', 'fast'], [1, 1, 1], zsetGroup, '1.2.0', 'Add one or more members to a sorted set, or update its score if it already exists', zaddCommand, {
    complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.',
  }),
  command('zincrby', 4, ['write', 'denyoom', 'fast'], [1, 1, 1], zsetGroup, '1.2.0', 'Increment the score of a member in a sorted set', zincrbyCommand),
  command('zrem', -3, ['write', 'fast'], [1, 1, 1], zsetGroup, '1.2.0', 'Remove one or more members from a sorted set', zremCommand),
  command('zcard', 2, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '1.2.0', 'Get the number of members in a sorted set', zcardCommand),
  command('zscore', 3, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '1.2.0', 'Get the score associated with the given member in a sorted set', zscoreCommand),
  command('zmscore', -3, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '6.2.0', 'Get the score associated with the given members in a sorted set', zmscoreCommand),
  command('zrank', -3, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '2.0.0', 'Determine the index of a member in a sorted set', zrankCommand),
  command('zrevrank', -3, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '2.0.0', 'Determine the index of a member in a sorted set, with scores ordered from high to low', zrevrankCommand),
  command('zcount', 4, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '2.0.0', 'Count the members in a sorted set with scores within the given values', zcountCommand),
  command('zlexcount', 4, ['readonly', 'fast'], [1, 1, 1], zsetGroup, '2.8.9', 'Count the number of members in a sorted set between a given lexicographical range', zlexcountCommand),
  command('zrange', -4, ['readonly'], [1, 1, 1], zsetGroup, '1.2.0', 'Return a range of members in a sorted set', zrangeCommand),
  command('zrangestore', -5, ['write', 'denyoom'], [1, 2, 1], zsetGroup, '6.2.0', 'Store a range of members from sorted set into another key', zrangestoreCommand),
  command('zrangebyscore', -4, ['readonly'], [1, 1, 1], zsetGroup, '1.0.5', 'Return a range of members in a sorted set, by score', zrangebyscoreCommand),
  command('zrevrangebyscore', -4, ['readonly'], [1, 1, 1], zsetGroup, '2.2.0', 'Return a range of members in a sorted set, by score, with scores ordered from high to low', zrevrangebyscoreCommand),
  command('zrangebylex', -4, ['readonly'], [1, 1, 1], zsetGroup, '2.8.9', 'Return a range of members in a sorted set, by lexicographical range', zrangebylexCommand),
  command('zrevrangebylex', -4, ['readonly'], [1, 1, 1], zsetGroup, '2.8.9', 'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.', zrevrangebylexCommand),
  command('zrevrange', -4, ['readonly'], [1, 1, 1], zsetGroup, '1.2.0', 'Return a range of members in a sorted set, by index, with scores ordered from high to low', zrevrangeCommand),
  command('zremrangebyrank', 4, ['write'], [1, 1, 1], zsetGroup, '2.0.0', 'Remove all members in a sorted set within the given indexes', zremrangebyrankCommand),
  command('zremrangebyscore', 4, ['write'], [1, 1, 1], zsetGroup, '1.2.0', 'Remove all members in a sorted set within the given scores', zremrangebyscoreCommand),
  command('zremrangebylex', 4, ['write'], [1, 1, 1], zsetGroup, '2.8.9', 'Remove all members in a sorted set between the given lexicographical range', zremrangebylexCommand),
  command('zpopmin', -2, ['write', 'fast'], [1, 1, 1], zsetGroup, '5.0.0', 'Remove and return members with the lowest scores in a sorted set', zpopminCommand),
  command('zpopmax', -2, ['write', 'fast'], [1, 1, 1], zsetGroup, '5.0.0', 'Remove and return members with the highest scores in a sorted set', zpopmaxCommand),
  command('zmpop', -4, ['write', 'movablekeys'], [0, 0, 0], zsetGroup, '7.0.0', 'Remove and return members with scores in a sorted set', zmpopCommand, {
    getKeys: (argv) => numkeysKeys(argv, 1),
  }),
  command('bzpopmin', -3, ['write', 'noscript', 'blocking', 'fast'], [1, -2, 1], zsetGroup, '5.0.0', 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available', bzpopminCommand),
  command('bzpopmax', -3, ['write', 'noscript', 'blocking', 'fast'], [1, -2, 1], zsetGroup, '5.0.0', 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available', bzpopmaxCommand),
  command('bzmpop', -5, ['write', 'blocking', 'movablekeys'], [0, 0, 0], zsetGroup, '7.0.0', 'Remove and return members with scores in a sorted set or block until one is available', bzmpopCommand, {
    getKeys: (argv) => numkeysKeys(argv, 2),
  }),
  command('zrandmember', -2, ['readonly'], [1, 1, 1], zsetGroup, '6.2.0', 'Get one or multiple random elements from a sorted set', zrandmemberCommand),
  command('zunion', -3, ['readonly', 'movablekeys'], [0, 0, 0], zsetGroup, '6.2.0', 'Add multiple sorted sets', zunionCommand, {
    getKeys: (argv) => numkeysKeys(argv, 1),
  }),
  command('zinter', -3, ['readonly', 'movablekeys'], [0, 0, 0], zsetGroup, '6.2.0', 'Intersect multiple sorted sets', zinterCommand, {
    getKeys: (argv) => numkeysKeys(argv, 1),
  }),
  command('zdiff', -3, ['readonly', 'movablekeys'], [0, 0, 0], zsetGroup, '6.2.0', 'Subtract multiple sorted sets', zdiffCommand, {
    getKeys: (argv) => numkeysKeys(argv, 1),
  }),
  command('zunionstore', -4, ['write', 'denyoom', 'movablekeys'], [1, 1, 1], zsetGroup, '2.0.0', 'Add multiple sorted sets and store the resulting sorted set in a new key', zunionstoreCommand, {
    getKeys: (argv) => numkeysKeys(argv, 2, [1]),
  }),
  command('zinterstore', -4, ['write', 'denyoom', 'movablekeys'], [1, 1, 1], zsetGroup, '2.0.0', 'Intersect multiple sorted sets and store the resulting sorted set in a new key', zinterstoreCommand, {
    getKeys: (argv) => numkeysKeys(argv, 2, [1]),
  }),
  command('zdiffstore', -4, ['write', 'denyoom', 'movablekeys'], [1, 1, 1], zsetGroup, '6.2.0', 'Subtract multiple sorted sets and store the resulting sorted set in a new key', zdiffstoreCommand, {
    getKeys: (argv) => numkeysKeys(argv, 2, [1]),
  }),
  command('zintercard', -3, ['readonly', 'movablekeys'], [0, 0, 0], zsetGroup, '7.0.0', 'Intersect multiple sorted sets and return the cardinality of the result', zintercardCommand, {
    getKeys: (argv) => numkeysKeys(argv, 1),
  }),
  command('zscan', -3, ['readonly'], [1, 1, 1], zsetGroup, '2.8.0', 'Incrementally iterate sorted sets elements and associated scores', zscanCommand),
];
