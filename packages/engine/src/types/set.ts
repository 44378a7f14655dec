// Sets, as Redis 7.0's t_set.c: the type's API first, then the command handlers.
//
// Encodings, as Redis 7.0 reports them with OBJECT ENCODING (the listpack encoding of small
// sets came with 7.2, so set-max-listpack-* are not used here):
//   intset     every member is a canonical 64-bit integer and there are at most
//              set-max-intset-entries of them: a sorted array, iterated in ascending order as
//              Redis's intset is, so SMEMBERS, SSCAN, SINTER ... reply in Redis's order.
//   hashtable  otherwise: a Dict. It never goes back, as in Redis. Its iteration order is the
//              Dict's bucket order: deterministic on every replica, but not Redis's (which
//              depends on Redis's hash function); a differential test compares it unordered.
// Membership is O(1) in a hashtable and O(log n) in an intset (n is small).
//
// SPOP and SRANDMEMBER draw from the call's seeded generator (Call.random).

import { Call, command, CommandSpec } from '../command';
import { Dict } from '../dict';
import { CommandError, ERR_SYNTAX, ERR_WRONGTYPE } from '../errors';
import { EncodingConfig, TypedValue } from '../keyspace';
import { globMatch } from '../util/glob';
import { Int64, intArg, parseInt64 } from '../util/numbers';
import { parseScanCursor } from './generic';
import { cloneDict, parseScanOptions } from './hash';
import { ERR_OUT_OF_RANGE_POSITIVE } from './list';
import { countLookup } from './string';

const ERR_RANDOM_COUNT_RANGE = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';

export class SetValue implements TypedValue {
  readonly type = 'set';
  /** The intset encoding (ascending, normalized Int64s), or null once converted. */
  private ints: Int64[] | null = [];
  private dict: Dict<null> | null = null;

  get size(): number {
    return this.ints !== null ? this.ints.length : this.dict!.size;
  }

  encoding(_config: EncodingConfig): string {
    return this.ints !== null ? 'intset' : 'hashtable';
  }

  /** A deep copy that iterates, scans and draws exactly as this set does. */
  clone(): SetValue {
    return this.ints !== null ? SetValue.restore(this.ints.slice(), null) : SetValue.restore(null, cloneDict(this.dict!));
  }

  /**
   * A set from its parts (snapshot loading): the intset's integers in ascending order, or the
   * table. Exactly one of the two is given.
   */
  static restore(ints: Int64[] | null, table: Dict<null> | null): SetValue {
    const s = new SetValue();
    if (ints !== null) {
      s.ints = ints;
    } else {
      s.ints = null;
      s.dict = table;
    }
    return s;
  }

  /** The intset's integers, ascending (snapshot writing); null for a hashtable. */
  get intset(): readonly Int64[] | null {
    return this.ints;
  }

  has(member: string): boolean {
    if (this.ints === null) return this.dict!.has(member);
    const v = parseInt64(member);
    return v !== null && this.intIndex(v) >= 0;
  }

  /** Adds a member; true if it is new. Converts as Redis's setTypeAdd does. */
  add(member: string, config: EncodingConfig): boolean {
    const ints = this.ints;
    if (ints !== null) {
      const v = parseInt64(member);
      if (v !== null) {
        const i = this.intIndex(v);
        if (i >= 0) return false;
        ints.splice(-i - 1, 0, v);
        if (ints.length > config.setMaxIntsetEntries) this.convert();
        return true;
      }
      this.convert();
    }
    return this.dict!.set(member, null);
  }

  remove(member: string): boolean {
    const ints = this.ints;
    if (ints === null) return this.dict!.delete(member);
    const v = parseInt64(member);
    if (v === null) return false;
    const i = this.intIndex(v);
    if (i < 0) return false;
    ints.splice(i, 1);
    return true;
  }

  /** Every member, in the encoding's order (ascending integers, or bucket order). */
  *members(): IterableIterator<string> {
    if (this.ints !== null) {
      for (const v of this.ints) yield String(v);
      return;
    }
    yield* this.dict!.keys();
  }

  /** A uniformly chosen member, drawn with the given generator. */
  randomMember(random: () => number): string {
    if (this.ints !== null) return String(this.ints[Math.floor(random() * this.ints.length)]!);
    return this.dict!.randomEntry(random)!.key;
  }

  /** SSCAN's walk over the hashtable (see Dict.scan); null for an intset (one full pass). */
  get table(): Dict<null> | null {
    return this.dict;
  }

  get isIntset(): boolean {
    return this.ints !== null;
  }

  /** The index of v in the intset, or -(insertion point) - 1. */
  private intIndex(v: Int64): number {
    const ints = this.ints!;
    let lo = 0;
    let hi = ints.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const m = ints[mid]!;
      if (m === v) return mid;
      if (m < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  private convert(): void {
    const d = new Dict<null>();
    for (const v of this.ints!) d.set(String(v), null);
    this.ints = null;
    this.dict = d;
  }
}

// ---------------------------------------------------------------------------------------------
// Lookups and replies

function readSet(c: Call, key: string): SetValue | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  if (v === undefined || v instanceof SetValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

function writeSet(c: Call, key: string): SetValue | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || v instanceof SetValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** A set reply (RESP3 ~) of members. */
function replySet(c: Call, members: string[]): void {
  c.out.set(members.length);
  for (const m of members) c.out.bulk(m);
}

function replyArray(c: Call, members: string[]): void {
  c.out.array(members.length);
  for (const m of members) c.out.bulk(m);
}

/**
 * `count` distinct members of s, count < size. An intset is sampled in one ordered pass; a
 * hashtable by random draws when count is small against the size, else by discarding random
 * members from a full copy (Redis's SRANDMEMBER cases 3 and 4).
 */
function sampleUnique(s: SetValue, count: number, random: () => number): string[] {
  const size = s.size;
  if (s.isIntset) {
    const out: string[] = [];
    let remaining = size;
    let needed = count;
    for (const m of s.members()) {
      if (random() * remaining < needed) {
        out.push(m);
        needed--;
      }
      remaining--;
    }
    return out;
  }
  if (count * 3 > size) {
    const all = [...s.members()];
    while (all.length > count) {
      const i = Math.floor(random() * all.length);
      all[i] = all[all.length - 1]!;
      all.pop();
    }
    return all;
  }
  const picked = new Set<string>();
  while (picked.size < count) picked.add(s.randomMember(random));
  return [...picked];
}

// ---------------------------------------------------------------------------------------------
// Writing

function saddCommand(c: Call): void {
  const key = c.argv[1]!;
  let s = writeSet(c, key);
  if (s === undefined) {
    s = new SetValue();
    c.db.set(key, s);
  }
  const config = c.engine.config;
  let added = 0;
  for (let j = 2; j < c.argv.length; j++) if (s.add(c.argv[j]!, config)) added++;
  if (added !== 0) c.touch(key);
  c.out.integer(added);
}

function sremCommand(c: Call): void {
  const key = c.argv[1]!;
  const s = writeSet(c, key);
  let deleted = 0;
  if (s !== undefined) {
    for (let j = 2; j < c.argv.length; j++) {
      if (!s.remove(c.argv[j]!)) continue;
      deleted++;
      if (s.size === 0) {
        c.db.delete(key);
        break;
      }
    }
    if (deleted !== 0) c.touch(key);
  }
  c.out.integer(deleted);
}

/** SMOVE source destination member */
function smoveCommand(c: Call): void {
  const [, srcKey, dstKey, member] = c.argv as [string, string, string, string];
  const src = c.db.getForWrite(srcKey, c.nowMs);
  const dst = c.db.getForWrite(dstKey, c.nowMs);
  if (src === undefined) {
    c.out.integer(0);
    return;
  }
  if (!(src instanceof SetValue) || (dst !== undefined && !(dst instanceof SetValue))) {
    throw new CommandError(ERR_WRONGTYPE);
  }
  if (src === dst) {
    c.out.integer(src.has(member) ? 1 : 0);
    return;
  }
  if (!src.remove(member)) {
    c.out.integer(0);
    return;
  }
  if (src.size === 0) c.db.delete(srcKey);
  let target = dst;
  if (target === undefined) {
    target = new SetValue();
    c.db.set(dstKey, target);
  }
  c.touch(srcKey);
  c.touch(dstKey);
  target.add(member, c.engine.config);
  c.out.integer(1);
}

/** SPOP key [count] */
function spopCommand(c: Call): void {
  const argv = c.argv;
  if (argv.length > 3) throw new CommandError(ERR_SYNTAX);
  const key = argv[1]!;
  const random = (): number => c.random();
  if (argv.length === 2) {
    const s = writeSet(c, key);
    if (s === undefined) {
      c.out.nullBulk();
      return;
    }
    const m = s.randomMember(random);
    s.remove(m);
    if (s.size === 0) c.db.delete(key);
    c.touch(key);
    c.out.bulk(m);
    return;
  }
  const v = parseInt64(argv[2]!);
  if (v === null || v < 0) throw new CommandError(ERR_OUT_OF_RANGE_POSITIVE);
  const count = Number(v);
  const s = writeSet(c, key);
  if (s === undefined || count === 0) {
    c.out.set(0);
    return;
  }
  if (count >= s.size) {
    // The whole set, and the key goes.
    replySet(c, wholeSet(c, s));
    c.db.delete(key);
    c.touch(key);
    return;
  }
  const popped: string[] = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const m = s.randomMember(random);
    s.remove(m);
    popped[i] = m;
  }
  c.touch(key);
  replySet(c, popped);
}

// ---------------------------------------------------------------------------------------------
// Reading

function sismemberCommand(c: Call): void {
  c.out.integer(readSet(c, c.argv[1]!)?.has(c.argv[2]!) ? 1 : 0);
}

function smismemberCommand(c: Call): void {
  const s = readSet(c, c.argv[1]!);
  c.out.array(c.argv.length - 2);
  for (let j = 2; j < c.argv.length; j++) c.out.integer(s?.has(c.argv[j]!) ? 1 : 0);
}

function scardCommand(c: Call): void {
  c.out.integer(readSet(c, c.argv[1]!)?.size ?? 0);
}

function smembersCommand(c: Call): void {
  const s = readSet(c, c.argv[1]!);
  replySet(c, s === undefined ? [] : [...s.members()]);
}

/** SRANDMEMBER key [count]: Redis 7.0 replies an array (repeats are possible). */
function srandmemberCommand(c: Call): void {
  const argv = c.argv;
  if (argv.length > 3) throw new CommandError(ERR_SYNTAX);
  const random = (): number => c.random();
  if (argv.length === 2) {
    const s = readSet(c, argv[1]!);
    if (s === undefined) c.out.nullBulk();
    else c.out.bulk(s.randomMember(random));
    return;
  }
  const l = intArg(argv[2]!);
  if (l === -9223372036854775808n) throw new CommandError(ERR_RANDOM_COUNT_RANGE);
  const s = readSet(c, argv[1]!);
  if (s === undefined || l === 0) {
    c.out.array(0);
    return;
  }
  if (l < 0) {
    const n = Number(-BigInt(l));
    c.out.array(n);
    for (let i = 0; i < n; i++) c.out.bulk(s.randomMember(random));
    return;
  }
  const count = Number(l);
  if (count >= s.size) replyArray(c, wholeSet(c, s));
  else replyArray(c, sampleUnique(s, count, random));
}

/** SSCAN key cursor [MATCH pattern] [COUNT count] */
function sscanCommand(c: Call): void {
  let cursor = parseScanCursor(c.argv[2]!);
  const s = readSet(c, c.argv[1]!);
  if (s === undefined) {
    c.out.array(2);
    c.out.bulk('0');
    c.out.array(0);
    return;
  }
  const { count, pattern } = parseScanOptions(c.argv, 3);
  let found: string[] = [];
  const table = s.table;
  if (table === null) {
    found = [...s.members()];
    cursor = 0;
  } else {
    let iterationsLeft = count * 10;
    do {
      cursor = table.scan(cursor, (e) => {
        found.push(e.key);
      });
    } while (cursor !== 0 && iterationsLeft-- > 0 && found.length < count);
  }
  if (pattern !== null) found = found.filter((m) => globMatch(pattern, m));
  c.out.array(2);
  c.out.bulk(String(cursor));
  replyArray(c, found);
}

// ---------------------------------------------------------------------------------------------
// Intersection, union, difference

/** Stores a computed set at dstKey (replacing whatever was there), or deletes dstKey if empty. */
function storeResult(c: Call, dstKey: string, result: SetValue): void {
  if (result.size > 0) {
    c.db.set(dstKey, result);
    c.touch(dstKey);
  } else if (c.db.delete(dstKey)) {
    c.touch(dstKey);
  }
  c.out.integer(result.size);
}

/**
 * Redis's sinterGenericCommand, for SINTER, SINTERSTORE (dstKey) and SINTERCARD (cardOnly,
 * stopping at limit when it is not 0). Every key is type-checked; a missing key makes the
 * result empty. The smallest set is walked (the first of equal sizes) and each member tested
 * against the others, so the result comes in that set's order.
 */
function sinterGeneric(c: Call, keys: string[], dstKey: string | null, cardOnly: boolean, limit: number): void {
  const sets: SetValue[] = [];
  let empty = false;
  for (const key of keys) {
    const s = dstKey !== null ? writeSet(c, key) : readSet(c, key);
    if (s === undefined) empty = true;
    else sets.push(s);
  }
  const result: string[] = [];
  if (!empty) {
    // A stable sort, as glibc's qsort (a merge sort) is for equal cardinalities.
    const order = sets.map((s, i) => ({ s, i })).sort((a, b) => a.s.size - b.s.size || a.i - b.i);
    const first = order[0]!.s;
    const others = order.slice(1).map((o) => o.s).filter((s) => s !== first);
    for (const m of first.members()) {
      if (!others.every((s) => s.has(m))) continue;
      result.push(m);
      if (cardOnly && limit !== 0 && result.length >= limit) break;
    }
  }
  if (cardOnly) {
    c.out.integer(result.length);
  } else if (dstKey !== null) {
    storeResult(c, dstKey, toSet(c, result));
  } else {
    replySet(c, result);
  }
}

/**
 * The members of s as Redis replies the whole set from SPOP and SRANDMEMBER: through a union
 * into a new set, which is an intset (ascending) whenever every member is an integer.
 */
function wholeSet(c: Call, s: SetValue): string[] {
  return s.isIntset ? [...s.members()] : [...toSet(c, s.members()).members()];
}

function toSet(c: Call, members: Iterable<string>): SetValue {
  const s = new SetValue();
  for (const m of members) s.add(m, c.engine.config);
  return s;
}

/**
 * Redis's sunionDiffGenericCommand, for SUNION, SDIFF and their STORE forms. The result is built
 * as a new set (an intset while it can be one), and replied in its own order: ascending when
 * it is an intset.
 */
function sunionDiffGeneric(c: Call, keys: string[], dstKey: string | null, diff: boolean): void {
  const sets: Array<SetValue | undefined> = keys.map((key) => (dstKey !== null ? writeSet(c, key) : readSet(c, key)));
  const result = new SetValue();
  const config = c.engine.config;
  if (!diff) {
    for (const s of sets) if (s !== undefined) for (const m of s.members()) result.add(m, config);
  } else {
    const first = sets[0];
    const sameSet = first !== undefined && sets.slice(1).includes(first);
    if (first !== undefined && !sameSet) {
      const others = sets.slice(1).filter((s): s is SetValue => s !== undefined);
      for (const m of first.members()) if (!others.some((s) => s.has(m))) result.add(m, config);
    }
  }
  if (dstKey !== null) storeResult(c, dstKey, result);
  else replySet(c, [...result.members()]);
}

/** SINTERCARD numkeys key [key ...] [LIMIT limit] */
function sintercardCommand(c: Call): void {
  const argv = c.argv;
  const n = parseInt64(argv[1]!);
  if (n === null || n < 1) throw new CommandError(ERR_NUMKEYS);
  const numkeys = Number(n);
  if (numkeys > argv.length - 2) throw new CommandError("ERR Number of keys can't be greater than number of args");
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (argv[j]!.toLowerCase() === 'limit' && j + 1 < argv.length) {
      const v = parseInt64(argv[++j]!);
      if (v === null || v < 0) throw new CommandError("ERR LIMIT can't be negative");
      limit = Number(v);
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  sinterGeneric(c, argv.slice(2, 2 + numkeys), null, true, limit);
}

/** SINTERCARD's key positions: numkeys at 1, then the keys. */
function sintercardKeys(argv: string[]): number[] {
  const n = parseInt64(argv[1] ?? '');
  if (n === null || n < 1) return [];
  const out: number[] = [];
  for (let i = 2; i < 2 + Number(n) && i < argv.length; i++) out.push(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The command table

const set = 'set';

export const setCommands: CommandSpec[] = [
  command('sadd', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], set, '1.0.0', 'Add one or more members to a set', saddCommand),
  command('srem', -3, ['write', 'fast'], [1, 1, 1], set, '1.0.0', 'Remove one or more members from a set', sremCommand),
  command('sismember', 3, ['readonly', 'fast'], [1, 1, 1], set, '1.0.0', 'Determine if a given value is a member of a set', sismemberCommand),
  command('smismember', -3, ['readonly', 'fast'], [1, 1, 1], set, '6.2.0', 'Returns the membership associated with the given elements for a set', smismemberCommand),
  command('smembers', 2, ['readonly'], [1, 1, 1], set, '1.0.0', 'Get all the members in a set', smembersCommand),
  command('scard', 2, ['readonly', 'fast'], [1, 1, 1], set, '1.0.0', 'Get the number of members in a set', scardCommand),
  command('spop', -2, ['write', 'fast'], [1, 1, 1], set, '1.0.0', 'Remove and return one or multiple random members from a set', spopCommand),
  command('srandmember', -2, ['readonly'], [1, 1, 1], set, '1.0.0', 'Get one or multiple random members from a set', srandmemberCommand),
  command('smove', 4, ['write', 'fast'], [1, 2, 1], set, '1.0.0', 'Move a member from one set to another', smoveCommand),
  command('sinter', -2, ['readonly'], [1, -1, 1], set, '1.0.0', 'Intersect multiple sets', (c) => sinterGeneric(c, c.argv.slice(1), null, false, 0)),
  command('sintercard', -3, ['readonly', 'movablekeys'], [0, 0, 0], set, '7.0.0', 'Intersect multiple sets and return the cardinality of the result', sintercardCommand, {
    getKeys: sintercardKeys,
  }),
  command('sinterstore', -3, ['write', 'denyoom'], [1, -1, 1], set, '1.0.0', 'Intersect multiple sets and store the resulting set in a key', (c) =>
    sinterGeneric(c, c.argv.slice(2), c.argv[1]!, false, 0),
  ),
  command('sunion', -2, ['readonly'], [1, -1, 1], set, '1.0.0', 'Add multiple sets', (c) => sunionDiffGeneric(c, c.argv.slice(1), null, false)),
  command('sunionstore', -3, ['write', 'denyoom'], [1, -1, 1], set, '1.0.0', 'Add multiple sets and store the resulting set in a key', (c) =>
    sunionDiffGeneric(c, c.argv.slice(2), c.argv[1]!, false),
  ),
  command('sdiff', -2, ['readonly'], [1, -1, 1], set, '1.0.0', 'Subtract multiple sets', (c) => sunionDiffGeneric(c, c.argv.slice(1), null, true)),
  command('sdiffstore', -3, ['write', 'denyoom'], [1, -1, 1], set, '1.0.0', 'Subtract multiple sets and store the resulting set in a key', (c) =>
    sunionDiffGeneric(c, c.argv.slice(2), c.argv[1]!, true),
  ),
  command('sscan', -3, ['readonly'], [1, 1, 1], set, '2.0.0', 'Incrementally iterate Set elements', sscanCommand),
];
