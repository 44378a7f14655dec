// ZUNION, ZINTER, ZDIFF, their STORE variants and ZINTERCARD, as Redis 7.0's
// zunionInterDiffGenericCommand: the inputs may be sorted sets or plain sets (members score 1).

import { Call } from '../command';
import { CommandError, ERR_SYNTAX, ERR_WRONGTYPE } from '../errors';
import { SetValue } from './set';
import { countLookup } from './string';
import { SortedSet } from './sortedset';
import { longArg, replyElement, replyElementsHeader, scoreArg, storeResult } from './zset-common';

// ---------------------------------------------------------------------------------------------
// ZUNION, ZINTER, ZDIFF (+STORE), ZINTERCARD

/** An input of a set operation: a sorted set, or a plain set whose members score 1. */
interface ZsetOpSource {
  readonly size: number;
  score(member: string): number | undefined;
  /** Visits every member; a visit returning false stops the walk. */
  forEach(visit: (member: string, score: number) => boolean | void): void;
}

/** A plain set as an input: every member scores 1, as in Redis. */
function setSource(set: SetValue): ZsetOpSource {
  return {
    size: set.size,
    score: (m) => (set.has(m) ? 1 : undefined),
    forEach: (visit) => {
      for (const m of set.members()) if (visit(m, 1) === false) return;
    },
  };
}

function zsetSource(z: SortedSet): ZsetOpSource {
  return {
    size: z.size,
    score: (m) => z.score(m),
    forEach: (visit) => z.range(0, z.size, false, visit),
  };
}

function sourceOf(c: Call, key: string, forWrite: boolean): ZsetOpSource | null {
  const v = forWrite ? c.db.getForWrite(key, c.nowMs) : c.db.get(key, c.nowMs);
  if (!forWrite) countLookup(c, v !== undefined);
  if (v === undefined) return null;
  if (v instanceof SortedSet) return zsetSource(v);
  if (v instanceof SetValue) return setSource(v);
  throw new CommandError(ERR_WRONGTYPE);
}

const enum SetOp {
  Union,
  Inter,
  Diff,
}

const enum Aggregate {
  Sum,
  Min,
  Max,
}

function aggregate(how: Aggregate, a: number, b: number): number {
  if (how === Aggregate.Sum) {
    const s = a + b;
    return Number.isNaN(s) ? 0 : s; // inf + -inf
  }
  return how === Aggregate.Min ? (b < a ? b : a) : b > a ? b : a;
}

/** weight × score, with NaN (0 × inf) read as 0, as Redis does. */
function weighted(weight: number, score: number): number {
  const v = weight * score;
  return Number.isNaN(v) ? 0 : v;
}

/**
 * Redis's zunionInterDiffGenericCommand. numkeys is at argv[at]; dst is the destination of
 * the STORE variants; cardinalityOnly is ZINTERCARD.
 */
function zsetOpGeneric(c: Call, dst: string | null, at: number, op: SetOp, cardinalityOnly: boolean): void {
  const argv = c.argv;
  const name = argv[0]!.toLowerCase();
  const setnum = longArg(argv[at]!);
  if (setnum < 1) throw new CommandError(`ERR at least 1 input key is needed for '${name}' command`);
  if (setnum > argv.length - (at + 1)) throw new CommandError(ERR_SYNTAX);
  const sources: Array<ZsetOpSource | null> = [];
  const weights: number[] = [];
  let j = at + 1;
  for (let i = 0; i < setnum; i++, j++) {
    sources.push(sourceOf(c, argv[j]!, dst !== null));
    weights.push(1);
  }
  let how = Aggregate.Sum;
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const opt = argv[j]!.toLowerCase();
    const remaining = argv.length - j;
    if (op !== SetOp.Diff && !cardinalityOnly && remaining >= setnum + 1 && opt === 'weights') {
      j++;
      for (let i = 0; i < setnum; i++, j++) weights[i] = scoreArg(argv[j]!, 'ERR weight value is not a float');
    } else if (op !== SetOp.Diff && !cardinalityOnly && remaining >= 2 && opt === 'aggregate') {
      const a = argv[j + 1]!.toLowerCase();
      if (a === 'sum') how = Aggregate.Sum;
      else if (a === 'min') how = Aggregate.Min;
      else if (a === 'max') how = Aggregate.Max;
      else throw new CommandError(ERR_SYNTAX);
      j += 2;
    } else if (dst === null && !cardinalityOnly && opt === 'withscores') {
      withScores = true;
      j++;
    } else if (cardinalityOnly && remaining >= 2 && opt === 'limit') {
      limit = longArg(argv[j + 1]!, "ERR LIMIT can't be negative");
      if (limit < 0) throw new CommandError("ERR LIMIT can't be negative");
      j += 2;
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }

  // Inter and union visit the inputs from the smallest (a stable sort, as glibc's qsort).
  const order = sources.map((s, i) => ({ s, w: weights[i]! }));
  if (op !== SetOp.Diff) order.sort((a, b) => (a.s?.size ?? 0) - (b.s?.size ?? 0));
  const result = new Map<string, number>();
  let cardinality = 0;
  if (op === SetOp.Inter) {
    const first = order[0]!;
    if (order.every((o) => o.s !== null && o.s.size > 0)) {
      const rest = order.slice(1);
      first.s!.forEach((m, s) => {
        let score = weighted(first.w, s);
        for (const o of rest) {
          const other = o.s!.score(m);
          if (other === undefined) return;
          score = aggregate(how, score, weighted(o.w, other));
        }
        if (!cardinalityOnly) result.set(m, score);
        else if (++cardinality === limit) return false; // ZINTERCARD LIMIT stops early
      });
    }
  } else if (op === SetOp.Union) {
    for (const o of order) {
      if (o.s === null) continue;
      o.s.forEach((m, s) => {
        const score = weighted(o.w, s);
        const cur = result.get(m);
        result.set(m, cur === undefined ? score : aggregate(how, cur, score));
      });
    }
  } else {
    const first = order[0]!;
    if (first.s !== null) {
      const rest = order.slice(1).filter((o) => o.s !== null);
      first.s.forEach((m, s) => {
        for (const o of rest) if (o.s!.score(m) !== undefined) return;
        result.set(m, s);
      });
    }
  }

  if (cardinalityOnly) {
    c.out.integer(cardinality);
    return;
  }
  const entries = [...result].sort((a, b) => (a[1] !== b[1] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const members = entries.map((e) => e[0]);
  const scores = entries.map((e) => e[1]);
  if (dst !== null) {
    storeResult(c, dst, SortedSet.fromSorted(members, scores, c.engine.config));
    return;
  }
  replyElementsHeader(c, members.length, withScores);
  for (let i = 0; i < members.length; i++) replyElement(c, members[i]!, scores[i]!, withScores);
}

export function zunionCommand(c: Call): void {
  zsetOpGeneric(c, null, 1, SetOp.Union, false);
}

export function zinterCommand(c: Call): void {
  zsetOpGeneric(c, null, 1, SetOp.Inter, false);
}

export function zdiffCommand(c: Call): void {
  zsetOpGeneric(c, null, 1, SetOp.Diff, false);
}

export function zunionstoreCommand(c: Call): void {
  zsetOpGeneric(c, c.argv[1]!, 2, SetOp.Union, false);
}

export function zinterstoreCommand(c: Call): void {
  zsetOpGeneric(c, c.argv[1]!, 2, SetOp.Inter, false);
}

export function zdiffstoreCommand(c: Call): void {
  zsetOpGeneric(c, c.argv[1]!, 2, SetOp.Diff, false);
}

export function zintercardCommand(c: Call): void {
  zsetOpGeneric(c, null, 1, SetOp.Inter, true);
}
