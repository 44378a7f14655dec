// Lists, as Redis 7.0's t_list.c: the type's API first, then the command handlers.
//
// A list is a quicklist (quicklist.ts): a deque of nodes that each pack many elements into one
// Buffer (listpack.ts), as Redis's. Push and pop at both ends are O(1) amortised; LINDEX, LSET,
// LRANGE, LINSERT, LPOS and LREM walk from the nearer end, skipping whole nodes. The node limit
// is list-max-listpack-size when the list is created. Redis 7.0 always reports the encoding
// "quicklist" (the listpack encoding of small lists came with 7.2).
//
// Blocking pops (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP) that find nothing ask the server to park
// the client (Call.block) and write no reply; the server runs the same command again when a push
// signals one of its keys ready, or replies null at the timeout. Inside EXEC they reply null at
// once, as Redis does for a client that may not block.

import type { ReplyWriter } from '@keel/resp';
import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_NO_SUCH_KEY, ERR_SYNTAX, ERR_WRONGTYPE, errArity } from '../errors';
import { EncodingConfig, TypedValue } from '../keyspace';
import { Int64, intArg, parseInt64 } from '../util/numbers';
import { timeoutArgMs } from '../util/timeout';
import { ListCursor, nodeLimits, Quicklist } from './quicklist';
import { countLookup } from './string';

export const ERR_OUT_OF_RANGE_POSITIVE = 'ERR value is out of range, must be positive';
const ERR_INDEX_OUT_OF_RANGE = 'ERR index out of range';
const ERR_RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const ERR_NUMKEYS = 'ERR numkeys should be greater than 0';
const ERR_COUNT_POSITIVE = 'ERR count should be greater than 0';

export class ListValue implements TypedValue {
  readonly type = 'list';

  constructor(readonly items: Quicklist = new Quicklist()) {}

  /** An empty list whose nodes follow the configured list-max-listpack-size. */
  static create(config: EncodingConfig): ListValue {
    return new ListValue(new Quicklist(nodeLimits(config.listMaxListpackSize)));
  }

  get length(): number {
    return this.items.length;
  }

  encoding(_config: EncodingConfig): string {
    return 'quicklist';
  }

  clone(): ListValue {
    return new ListValue(this.items.clone());
  }

  push(v: string, where: End): void {
    if (where === End.Head) this.items.pushFront(v);
    else this.items.pushBack(v);
  }

  pop(where: End): string | undefined {
    return where === End.Head ? this.items.popFront() : this.items.popBack();
  }

  /** Pops an element (the list is not empty) straight into a reply. */
  popTo(where: End, out: ReplyWriter): void {
    this.items.popTo(where === End.Tail, out);
  }
}

export const enum End {
  Head,
  Tail,
}

// ---------------------------------------------------------------------------------------------
// Lookups and argument parsing

/** A reader's lookup (counts keyspace hits and misses); throws WRONGTYPE. */
function readList(c: Call, key: string): ListValue | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  if (v === undefined || v instanceof ListValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** A writer's lookup (an expired key is deleted first); throws WRONGTYPE. */
function writeList(c: Call, key: string): ListValue | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || v instanceof ListValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** After elements were removed: deletes the key if the list is empty, and signals the change. */
function removed(c: Call, key: string, list: ListValue): void {
  if (list.length === 0) c.db.delete(key);
  c.touch(key);
}

/** Pushes onto the list at key, creating it; a created list wakes clients blocked on the key. */
function pushTo(c: Call, key: string, list: ListValue | undefined, v: string, where: End): ListValue {
  if (list === undefined) {
    list = ListValue.create(c.engine.config);
    c.db.set(key, list);
    c.signalReady(key);
  }
  list.push(v, where);
  c.touch(key);
  return list;
}

/** An int64 argument as a number for index arithmetic against lengths below 2^53. */
function toNumber(v: Int64): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

/**
 * Redis's getPositiveLongFromObjectOrReply: an int64 >= 0. Anything else, not an integer
 * included, gets `error` (by default "value is out of range, must be positive").
 */
function positiveArg(s: string, error: string | null): number {
  const v = parseInt64(s);
  if (v === null || v < 0) throw new CommandError(error ?? ERR_OUT_OF_RANGE_POSITIVE);
  return toNumber(v);
}

/** LEFT or RIGHT, case-insensitively, else a syntax error. */
function endArg(s: string): End {
  const w = s.toLowerCase();
  if (w === 'left') return End.Head;
  if (w === 'right') return End.Tail;
  throw new CommandError(ERR_SYNTAX);
}

/** Redis's getRangeLongFromObjectOrReply(1, LONG_MAX) with a custom message. */
function atLeastOneArg(s: string, error: string): number {
  const v = parseInt64(s);
  if (v === null || v < 1) throw new CommandError(error);
  return toNumber(v);
}

/** Normalizes [start, end] (negative from the end) against len; null if the range is empty. */
function clampRange(startArg: Int64, endArg: Int64, len: number): [number, number] | null {
  let start = toNumber(startArg);
  let end = toNumber(endArg);
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

// ---------------------------------------------------------------------------------------------
// Push and pop

/** LPUSH RPUSH LPUSHX RPUSHX: pushes every element in turn; the X forms need an existing list. */
function pushGeneric(c: Call, where: End, existingOnly: boolean): void {
  const key = c.argv[1]!;
  let list = writeList(c, key);
  if (list === undefined) {
    if (existingOnly) {
      c.out.integer(0);
      return;
    }
    list = ListValue.create(c.engine.config);
    c.db.set(key, list);
    c.signalReady(key);
  }
  for (let j = 2; j < c.argv.length; j++) list.push(c.argv[j]!, where);
  c.touch(key);
  c.out.integer(list.length);
}

/** Pops up to count elements into an array reply (in pop order); deletes the key if emptied. */
function popRange(c: Call, key: string, list: ListValue, where: End, count: number): void {
  const n = Math.min(count, list.length);
  c.out.array(n);
  for (let i = 0; i < n; i++) list.popTo(where, c.out);
  removed(c, key, list);
}

/** LPOP RPOP key [count] */
function popGeneric(c: Call, where: End): void {
  const argv = c.argv;
  if (argv.length > 3) throw new CommandError(errArity(argv[0]!));
  const hasCount = argv.length === 3;
  const count = hasCount ? positiveArg(argv[2]!, null) : 1;
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === undefined) {
    if (hasCount) c.out.nullArray();
    else c.out.nullBulk();
    return;
  }
  if (!hasCount) {
    list.popTo(where, c.out);
    removed(c, key, list);
    return;
  }
  if (count === 0) {
    c.out.array(0);
    return;
  }
  popRange(c, key, list, where, count);
}

// ---------------------------------------------------------------------------------------------
// Reading

function llenCommand(c: Call): void {
  const list = readList(c, c.argv[1]!);
  c.out.integer(list === undefined ? 0 : list.length);
}

function lrangeCommand(c: Call): void {
  const start = intArg(c.argv[2]!);
  const end = intArg(c.argv[3]!);
  const list = readList(c, c.argv[1]!);
  const range = list === undefined ? null : clampRange(start, end, list.length);
  if (range === null) {
    c.out.array(0);
    return;
  }
  const n = range[1] - range[0] + 1;
  c.out.array(n);
  const cur = list!.items.cursor(range[0]);
  for (let i = 0; i < n; i++, cur.next()) cur.reply(c.out);
}

/** The position of a (possibly negative) index in a list of len, or -1 if outside. */
function indexIn(arg: Int64, len: number): number {
  let i = toNumber(arg);
  if (i < 0) i = len + i;
  return i >= 0 && i < len ? i : -1;
}

function lindexCommand(c: Call): void {
  const list = readList(c, c.argv[1]!);
  if (list === undefined) {
    c.out.nullBulk();
    return;
  }
  const i = indexIn(intArg(c.argv[2]!), list.length);
  if (i < 0) c.out.nullBulk();
  else list.items.cursor(i).reply(c.out);
}

/** LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] */
function lposCommand(c: Call): void {
  const argv = c.argv;
  const element = argv[2]!;
  let rank: Int64 = 1;
  let count = -1; // -1: no COUNT option
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const more = j + 1 < argv.length;
    if (opt === 'rank' && more) {
      rank = intArg(argv[++j]!);
      if (rank === 0) throw new CommandError(ERR_RANK_ZERO);
    } else if (opt === 'count' && more) {
      count = positiveArg(argv[++j]!, "ERR COUNT can't be negative");
    } else if (opt === 'maxlen' && more) {
      maxlen = positiveArg(argv[++j]!, "ERR MAXLEN can't be negative");
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  // A negative rank searches from the tail. -2^63 cannot be negated in C: Redis then takes the
  // first match from the tail and, with COUNT, every match (its limit check overflows).
  const fromTail = rank < 0;
  const unlimited = rank === -9223372036854775808n;
  const wanted = unlimited ? 1 : Math.abs(toNumber(rank));
  if (unlimited && count > 0) count = 0;
  const list = readList(c, argv[1]!);
  if (list === undefined) {
    if (count !== -1) c.out.array(0);
    else c.out.nullBulk();
    return;
  }
  const len = list.length;
  const found: number[] = [];
  let matches = 0;
  const cur = list.items.cursor(fromTail ? len - 1 : 0);
  for (let k = 0; k < len && (maxlen === 0 || k < maxlen); k++, fromTail ? cur.prev() : cur.next()) {
    if (!cur.equals(element)) continue;
    matches++;
    if (matches < wanted) continue;
    found.push(cur.index);
    if (count === -1 || (count !== 0 && matches - wanted + 1 >= count)) break;
  }
  if (count !== -1) {
    c.out.array(found.length);
    for (const i of found) c.out.integer(i);
  } else if (found.length !== 0) {
    c.out.integer(found[0]!);
  } else {
    c.out.nullBulk();
  }
}

// ---------------------------------------------------------------------------------------------
// Changing in place

function lsetCommand(c: Call): void {
  const key = c.argv[1]!;
  const list = writeList(c, key);
  if (list === undefined) throw new CommandError(ERR_NO_SUCH_KEY);
  const i = indexIn(intArg(c.argv[2]!), list.length);
  if (i < 0) throw new CommandError(ERR_INDEX_OUT_OF_RANGE);
  list.items.set(list.items.cursor(i), c.argv[3]!);
  c.touch(key);
  c.out.ok();
}

/** A cursor on the first element equal to s, or null. */
function findFirst(items: Quicklist, s: string): ListCursor | null {
  if (items.length === 0) return null;
  const cur = items.cursor(0);
  do {
    if (cur.equals(s)) return cur;
  } while (cur.next());
  return null;
}

/** LINSERT key BEFORE|AFTER pivot element */
function linsertCommand(c: Call): void {
  const argv = c.argv;
  const where = argv[2]!.toLowerCase();
  if (where !== 'before' && where !== 'after') throw new CommandError(ERR_SYNTAX);
  const key = argv[1]!;
  const list = writeList(c, key);
  if (list === undefined) {
    c.out.integer(0);
    return;
  }
  const pivot = argv[3]!;
  const cur = findFirst(list.items, pivot);
  if (cur === null) {
    c.out.integer(-1);
    return;
  }
  list.items.insert(cur, argv[4]!, where === 'after');
  c.touch(key);
  c.out.integer(list.length);
}

/** LREM key count element: count > 0 from the head, < 0 from the tail, 0 every one. */
function lremCommand(c: Call): void {
  const count = toNumber(intArg(c.argv[2]!));
  const key = c.argv[1]!;
  const list = writeList(c, key);
  if (list === undefined) {
    c.out.integer(0);
    return;
  }
  const element = c.argv[3]!;
  const limit = count === 0 ? Infinity : Math.abs(count);
  const n = list.items.removeMatching(element, limit, count < 0);
  if (n !== 0) removed(c, key, list);
  c.out.integer(n);
}

function ltrimCommand(c: Call): void {
  const start = intArg(c.argv[2]!);
  const end = intArg(c.argv[3]!);
  const key = c.argv[1]!;
  const list = writeList(c, key);
  if (list === undefined) {
    c.out.ok();
    return;
  }
  const range = clampRange(start, end, list.length);
  if (range === null) list.items.clear();
  else list.items.trim(range[0], range[1]);
  removed(c, key, list);
  c.out.ok();
}

// ---------------------------------------------------------------------------------------------
// Moving between lists

/**
 * Redis's lmoveGenericCommand on a source known to exist: pops from one end of src and pushes
 * onto one end of dst (which may be the same list: a rotation), replying the element.
 */
function lmoveGeneric(c: Call, src: ListValue, from: End, to: End): void {
  const srcKey = c.argv[1]!;
  const dstKey = c.argv[2]!;
  const dst = writeList(c, dstKey);
  const v = src.pop(from)!;
  pushTo(c, dstKey, dst, v, to);
  // The destination was looked up before the pop, so a rotation pushes back onto the same list.
  if (src.length === 0) c.db.delete(srcKey);
  c.touch(srcKey);
  c.out.bulk(v);
}

function lmoveCommandFor(from: End | null, to: End | null): (c: Call) => void {
  return (c: Call): void => {
    const wherefrom = from ?? endArg(c.argv[3]!);
    const whereto = to ?? endArg(c.argv[4]!);
    const src = writeList(c, c.argv[1]!);
    if (src === undefined) {
      c.out.nullBulk();
      return;
    }
    lmoveGeneric(c, src, wherefrom, whereto);
  };
}

/** Pops up to count elements from the first non-empty list of keys; replies [key, [elements]]. */
function mpopFirst(c: Call, keys: string[], where: End, count: number): boolean {
  for (const key of keys) {
    const list = writeList(c, key);
    if (list === undefined) continue;
    c.out.array(2);
    c.out.bulk(key);
    popRange(c, key, list, where, count);
    return true;
  }
  return false;
}

interface MpopArgs {
  keys: string[];
  where: End;
  count: number;
}

/** LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], from numkeys at argv[at]. */
function parseMpop(c: Call, at: number): MpopArgs {
  const argv = c.argv;
  const numkeys = atLeastOneArg(argv[at]!, ERR_NUMKEYS);
  const whereAt = at + numkeys + 1;
  if (whereAt >= argv.length) throw new CommandError(ERR_SYNTAX);
  const where = endArg(argv[whereAt]!);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && argv[j]!.toLowerCase() === 'count' && j + 1 < argv.length) {
      count = atLeastOneArg(argv[++j]!, ERR_COUNT_POSITIVE);
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  return { keys: argv.slice(at + 1, whereAt), where, count: count === -1 ? 1 : count };
}

function lmpopCommand(c: Call): void {
  const { keys, where, count } = parseMpop(c, 1);
  if (!mpopFirst(c, keys, where, count)) c.out.nullArray();
}

/** Key positions of LMPOP (numkeys at 1) and BLMPOP (numkeys at 2). */
function mpopKeys(at: number): (argv: string[]) => number[] {
  return (argv: string[]): number[] => {
    const n = parseInt64(argv[at] ?? '');
    if (n === null || n < 1) return [];
    const out: number[] = [];
    for (let i = at + 1; i <= at + toNumber(n) && i < argv.length; i++) out.push(i);
    return out;
  };
}

// ---------------------------------------------------------------------------------------------
// Blocking

/**
 * Blocks the client on keys, or inside EXEC replies what a timeout would: Redis 7.0 replies
 * a null array on a timeout for every blocking list command, and inside EXEC a null array,
 * except BLMOVE and BRPOPLPUSH which reply a null bulk there.
 */
function blockOrNull(c: Call, keys: string[], timeoutMs: number, inExecReply: 'nullArray' | 'nullBulk'): void {
  if (c.client.inExec) {
    if (inExecReply === 'nullArray') c.out.nullArray();
    else c.out.nullBulk();
    return;
  }
  c.block(keys, timeoutMs, 'nullArray');
}

/** BLPOP BRPOP key [key ...] timeout */
function bpopGeneric(c: Call, where: End): void {
  const argv = c.argv;
  const timeoutMs = timeoutArgMs(argv[argv.length - 1]!);
  const keys = argv.slice(1, -1);
  for (const key of keys) {
    const list = writeList(c, key);
    if (list === undefined) continue;
    c.out.array(2);
    c.out.bulk(key);
    list.popTo(where, c.out);
    removed(c, key, list);
    return;
  }
  blockOrNull(c, keys, timeoutMs, 'nullArray');
}

function blmoveGeneric(c: Call, from: End, to: End, timeoutMs: number): void {
  const src = writeList(c, c.argv[1]!);
  if (src === undefined) {
    blockOrNull(c, [c.argv[1]!], timeoutMs, 'nullBulk');
    return;
  }
  lmoveGeneric(c, src, from, to);
}

/** BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout */
function blmoveCommand(c: Call): void {
  const from = endArg(c.argv[3]!);
  const to = endArg(c.argv[4]!);
  blmoveGeneric(c, from, to, timeoutArgMs(c.argv[5]!));
}

/** BRPOPLPUSH source destination timeout */
function brpoplpushCommand(c: Call): void {
  blmoveGeneric(c, End.Tail, End.Head, timeoutArgMs(c.argv[3]!));
}

/** BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] */
function blmpopCommand(c: Call): void {
  const { keys, where, count } = parseMpop(c, 2);
  const timeoutMs = timeoutArgMs(c.argv[1]!);
  if (mpopFirst(c, keys, where, count)) return;
  blockOrNull(c, keys, timeoutMs, 'nullArray');
}

// ---------------------------------------------------------------------------------------------
// The command table

const list = 'list';

export const listCommands: CommandSpec[] = [
  command('lpush', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], list, '1.0.0', 'Prepend one or multiple elements to a list', (c) => pushGeneric(c, End.Head, false)),
  command('rpush', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], list, '1.0.0', 'Append one or multiple elements to a list', (c) => pushGeneric(c, End.Tail, false)),
  command('lpushx', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], list, '2.2.0', 'Prepend an element to a list, only if the list exists', (c) => pushGeneric(c, End.Head, true)),
  command('rpushx', -3, ['write', 'denyoom', 'fast'], [1, 1, 1], list, '2.2.0', 'Append an element to a list, only if the list exists', (c) => pushGeneric(c, End.Tail, true)),
  command('lpop', -2, ['write', 'fast'], [1, 1, 1], list, '1.0.0', 'Remove and get the first elements in a list', (c) => popGeneric(c, End.Head)),
  command('rpop', -2, ['write', 'fast'], [1, 1, 1], list, '1.0.0', 'Remove and get the last elements in a list', (c) => popGeneric(c, End.Tail)),
  command('llen', 2, ['readonly', 'fast'], [1, 1, 1], list, '1.0.0', 'Get the length of a list', llenCommand),
  command('lrange', 4, ['readonly'], [1, 1, 1], list, '1.0.0', 'Get a range of elements from a list', lrangeCommand),
  command('lindex', 3, ['readonly'], [1, 1, 1], list, '1.0.0', 'Get an element from a list by its index', lindexCommand),
  command('lset', 4, ['write', 'denyoom'], [1, 1, 1], list, '1.0.0', 'Set the value of an element in a list by its index', lsetCommand),
  command('linsert', 5, ['write', 'denyoom'], [1, 1, 1], list, '2.2.0', 'Insert an element before or after another element in a list', linsertCommand),
  command('lrem', 4, ['write'], [1, 1, 1], list, '1.0.0', 'Remove elements from a list', lremCommand),
  command('ltrim', 4, ['write'], [1, 1, 1], list, '1.0.0', 'Trim a list to the specified range', ltrimCommand),
  command('lpos', -3, ['readonly'], [1, 1, 1], list, '6.0.6', 'Return the index of matching elements on a list', lposCommand),
  command('lmove', 5, ['write', 'denyoom'], [1, 2, 1], list, '6.2.0', 'Pop an element from a list, push it to another list and return it', lmoveCommandFor(null, null)),
  command('rpoplpush', 3, ['write', 'denyoom'], [1, 2, 1], list, '1.2.0', 'Remove the last element in a list, prepend it to another list and return it', lmoveCommandFor(End.Tail, End.Head)),
  command('lmpop', -4, ['write', 'movablekeys'], [0, 0, 0], list, '7.0.0', 'Pop elements from a list', lmpopCommand, { getKeys: mpopKeys(1) }),
  command('blpop', -3, ['write', 'noscript', 'blocking'], [1, -2, 1], list, '2.0.0', 'Remove and get the first element in a list, or block until one is available', (c) => bpopGeneric(c, End.Head)),
  command('brpop', -3, ['write', 'noscript', 'blocking'], [1, -2, 1], list, '2.0.0', 'Remove and get the last element in a list, or block until one is available', (c) => bpopGeneric(c, End.Tail)),
  command('blmove', 6, ['write', 'denyoom', 'noscript', 'blocking'], [1, 2, 1], list, '6.2.0', 'Pop an element from a list, push it to another list and return it; or block until one is available', blmoveCommand),
  command('brpoplpush', 4, ['write', 'denyoom', 'noscript', 'blocking'], [1, 2, 1], list, '2.2.0', 'Pop an element from a list, push it to another list and return it; or block until one is available', brpoplpushCommand),
  command('blmpop', -5, ['write', 'blocking', 'movablekeys'], [0, 0, 0], list, '7.0.0', 'Pop elements from a list, or block until one is available', blmpopCommand, { getKeys: mpopKeys(2) }),
];
