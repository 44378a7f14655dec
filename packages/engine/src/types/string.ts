// Strings: binary strings (one char per byte), as Redis's t_string.c.
// The type's helpers first, then the command handlers; variants share a generic helper.

import { constants as bufferConstants } from 'buffer';
import { Call, command, CommandSpec } from '../command';
import {
  CommandError,
  ERR_NOT_FLOAT,
  ERR_NOT_INTEGER,
  ERR_OFFSET,
  ERR_OVERFLOW,
  ERR_STRING_TOO_LONG,
  ERR_SYNTAX,
  ERR_WRONGTYPE,
  errArity,
  errInvalidExpire,
} from '../errors';
import { addLongDouble, formatLongDouble, LD_ZERO, parseLongDouble } from '../util/longdouble';
import { addInt64, Int64, INT64_MAX, INT64_MIN, intArg, parseInt64 } from '../util/numbers';

/** The string value of a key for a reader: undefined if absent; throws WRONGTYPE otherwise. */
export function getString(c: Call, key: string): string | undefined {
  const v = c.db.get(key, c.nowMs);
  if (v === undefined || typeof v === 'string') return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/**
 * Counts a read lookup in INFO's keyspace_hits / keyspace_misses, as Redis's lookupKeyRead
 * does for every key a command reads (not for keys it looks up to write).
 */
export function countLookup(c: Call, found: boolean): void {
  if (found) c.engine.stats.keyspaceHits++;
  else c.engine.stats.keyspaceMisses++;
}

/** A reader's string lookup that counts in the keyspace stats (Redis's lookupKeyRead). */
export function readString(c: Call, key: string): string | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  if (v === undefined || typeof v === 'string') return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** The same for a writer (deletes the key first if it has expired). */
export function getStringForWrite(c: Call, key: string): string | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || typeof v === 'string') return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/**
 * The longest string V8 can hold (2^29 - 24 chars): just under Redis's default 512 MiB
 * proto-max-bulk-len, so a value longer than this is refused as if over that limit.
 */
const STRING_LENGTH_MAX = bufferConstants.MAX_STRING_LENGTH;

/** Redis's checkStringLength: a value may not grow beyond proto-max-bulk-len. */
function checkSize(c: Call, length: number): void {
  if (length > c.engine.config.protoMaxBulkLen || length > STRING_LENGTH_MAX) {
    throw new CommandError(ERR_STRING_TOO_LONG);
  }
}

/** Option flags of SET and GETEX (Redis's OBJ_* flags). */
const enum SetFlag {
  NX = 1,
  XX = 2,
  KEEPTTL = 4,
  GET = 8,
  EX = 16,
  PX = 32,
  EXAT = 64,
  PXAT = 128,
  PERSIST = 256,
}

const EXPIRE_FLAGS = SetFlag.EX | SetFlag.PX | SetFlag.EXAT | SetFlag.PXAT;

const enum Unit {
  Seconds,
  Milliseconds,
}

interface ExtendedOptions {
  flags: number;
  /** The expire argument as given, or null. */
  expire: string | null;
}

/**
 * Redis's parseExtendedStringArgumentsOrReply: SET's options (NX XX GET KEEPTTL and the
 * expiry ones) from argv[3], GETEX's (PERSIST and the expiry ones) from argv[2]. An option
 * may repeat, but not combine with one it excludes (EX 1 EX 2 is fine, EX 1 PX 2 is not).
 */
function parseExtendedOptions(c: Call, forSet: boolean): ExtendedOptions {
  const argv = c.argv;
  let flags = 0;
  let expire: string | null = null;
  for (let j = forSet ? 3 : 2; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    let expireFlag = 0;
    if (opt === 'nx' && forSet && !(flags & SetFlag.XX)) flags |= SetFlag.NX;
    else if (opt === 'xx' && forSet && !(flags & SetFlag.NX)) flags |= SetFlag.XX;
    else if (opt === 'get' && forSet) flags |= SetFlag.GET;
    else if (opt === 'keepttl' && forSet && !(flags & (SetFlag.PERSIST | EXPIRE_FLAGS))) flags |= SetFlag.KEEPTTL;
    else if (opt === 'persist' && !forSet && !(flags & (SetFlag.KEEPTTL | EXPIRE_FLAGS))) flags |= SetFlag.PERSIST;
    else if (opt === 'ex') expireFlag = SetFlag.EX;
    else if (opt === 'px') expireFlag = SetFlag.PX;
    else if (opt === 'exat') expireFlag = SetFlag.EXAT;
    else if (opt === 'pxat') expireFlag = SetFlag.PXAT;
    else throw new CommandError(ERR_SYNTAX);
    if (expireFlag !== 0) {
      // An expiry option excludes KEEPTTL, PERSIST and the other three, and needs a value.
      const excluded = SetFlag.KEEPTTL | SetFlag.PERSIST | (EXPIRE_FLAGS & ~expireFlag);
      if (flags & excluded || j + 1 >= argv.length) throw new CommandError(ERR_SYNTAX);
      flags |= expireFlag;
      expire = argv[++j]!;
    }
  }
  return { flags, expire };
}

/** The unit of the expiry option in flags. */
function expireUnit(flags: number): Unit {
  return flags & (SetFlag.PX | SetFlag.PXAT) ? Unit.Milliseconds : Unit.Seconds;
}

/**
 * Redis's getExpireMillisecondsOrReply: an expire argument as an absolute time in ms, with
 * its checks in its order (not an integer; not positive or too large to scale; overflowing
 * once the current time is added). Times beyond 2^53 ms are kept as the nearest double.
 */
function expireTimeArg(c: Call, s: string, unit: Unit, absolute: boolean, name: string): number {
  const v = intArg(s);
  if (v <= 0 || (unit === Unit.Seconds && v > INT64_MAX / 1000n)) throw new CommandError(errInvalidExpire(name));
  let ms = unit === Unit.Seconds ? BigInt(v) * 1000n : BigInt(v);
  if (!absolute) ms += BigInt(c.nowMs);
  if (ms > INT64_MAX) throw new CommandError(errInvalidExpire(name)); // C's signed overflow
  return Number(ms);
}

/** A string value as Redis's getGenericCommand replies it: the bulk, or null if absent. */
function replyString(c: Call, v: string | undefined): void {
  if (v === undefined) c.out.nullBulk();
  else c.out.bulk(v);
}

/**
 * Redis's setGenericCommand, for SET, SETNX, SETEX and PSETEX: validates the expiry, replies
 * the old value first under GET, then sets key to value unless NX or XX forbids it. `reply`
 * chooses the replies: SET's (+OK / null) or SETNX's (1 / 0).
 */
function setGeneric(c: Call, key: string, value: string, flags: number, expire: string | null, reply: 'ok' | 'int'): void {
  let expireAtMs = -1;
  if (expire !== null) {
    const absolute = (flags & (SetFlag.EXAT | SetFlag.PXAT)) !== 0;
    expireAtMs = expireTimeArg(c, expire, expireUnit(flags), absolute, c.argv[0]!);
  }
  const db = c.db;
  const old = db.getForWrite(key, c.nowMs);
  if (flags & SetFlag.GET) {
    if (old !== undefined && typeof old !== 'string') throw new CommandError(ERR_WRONGTYPE);
    countLookup(c, old !== undefined);
    replyString(c, old);
  }
  const exists = old !== undefined;
  if ((flags & SetFlag.NX && exists) || (flags & SetFlag.XX && !exists)) {
    if (flags & SetFlag.GET) return;
    if (reply === 'int') c.out.integer(0);
    else c.out.nullBulk();
    return;
  }
  db.set(key, value, (flags & SetFlag.KEEPTTL) !== 0);
  if (expireAtMs >= 0) db.setExpire(key, expireAtMs);
  c.touch(key);
  if (flags & SetFlag.GET) return;
  if (reply === 'int') c.out.integer(1);
  else c.out.ok();
}

/** Stores a string a command computed from the key's old one, keeping the key's TTL. */
function overwrite(c: Call, key: string, value: string): void {
  c.db.set(key, value, true);
  c.touch(key);
}

/** An int64 argument as a number for index arithmetic against lengths below 2^53. */
function toNumber(v: Int64): number {
  return typeof v === 'bigint' ? Number(v) : v;
}

// ---------------------------------------------------------------------------------------
// Commands

function getCommand(c: Call): void {
  replyString(c, readString(c, c.argv[1]!));
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT ts | PXAT ms-ts | KEEPTTL] */
function setCommand(c: Call): void {
  const { flags, expire } = parseExtendedOptions(c, true);
  setGeneric(c, c.argv[1]!, c.argv[2]!, flags, expire, 'ok');
}

function setnxCommand(c: Call): void {
  setGeneric(c, c.argv[1]!, c.argv[2]!, SetFlag.NX, null, 'int');
}

function setexCommand(c: Call): void {
  setGeneric(c, c.argv[1]!, c.argv[3]!, SetFlag.EX, c.argv[2]!, 'ok');
}

function psetexCommand(c: Call): void {
  setGeneric(c, c.argv[1]!, c.argv[3]!, SetFlag.PX, c.argv[2]!, 'ok');
}

function getsetCommand(c: Call): void {
  const key = c.argv[1]!;
  const old = getStringForWrite(c, key);
  countLookup(c, old !== undefined);
  replyString(c, old);
  c.db.set(key, c.argv[2]!);
  c.touch(key);
}

function getdelCommand(c: Call): void {
  const key = c.argv[1]!;
  const v = getStringForWrite(c, key);
  countLookup(c, v !== undefined);
  replyString(c, v);
  if (v !== undefined) {
    c.db.delete(key);
    c.touch(key);
  }
}

/** GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] */
function getexCommand(c: Call): void {
  const { flags, expire } = parseExtendedOptions(c, false);
  const key = c.argv[1]!;
  const v = getStringForWrite(c, key);
  countLookup(c, v !== undefined);
  if (v === undefined) {
    c.out.nullBulk();
    return;
  }
  const absolute = (flags & (SetFlag.EXAT | SetFlag.PXAT)) !== 0;
  const expireAtMs = expire === null ? -1 : expireTimeArg(c, expire, expireUnit(flags), absolute, 'getex');
  c.out.bulk(v);
  if (absolute && expireAtMs <= c.nowMs) {
    // An absolute time already past deletes the key (Redis's checkAlreadyExpired).
    c.db.delete(key);
    c.touch(key);
  } else if (expire !== null) {
    c.db.setExpire(key, expireAtMs);
    c.touch(key);
  } else if (flags & SetFlag.PERSIST) {
    if (c.db.persist(key)) c.touch(key);
  }
}

function mgetCommand(c: Call): void {
  const argv = c.argv;
  c.out.array(argv.length - 1);
  for (let j = 1; j < argv.length; j++) {
    const v = c.db.get(argv[j]!, c.nowMs);
    countLookup(c, v !== undefined);
    if (typeof v === 'string') c.out.bulk(v);
    else c.out.nullBulk();
  }
}

/** MSET and MSETNX: key value pairs; MSETNX sets nothing if any key exists. */
function msetGeneric(c: Call, nx: boolean): void {
  const argv = c.argv;
  if (argv.length % 2 === 0) throw new CommandError(errArity(argv[0]!));
  if (nx) {
    for (let j = 1; j < argv.length; j += 2) {
      if (c.db.getForWrite(argv[j]!, c.nowMs) !== undefined) {
        c.out.integer(0);
        return;
      }
    }
  }
  for (let j = 1; j < argv.length; j += 2) {
    c.db.set(argv[j]!, argv[j + 1]!);
    c.touch(argv[j]!);
  }
  if (nx) c.out.integer(1);
  else c.out.ok();
}

function msetCommand(c: Call): void {
  msetGeneric(c, false);
}

function msetnxCommand(c: Call): void {
  msetGeneric(c, true);
}

function appendCommand(c: Call): void {
  const key = c.argv[1]!;
  const tail = c.argv[2]!;
  const old = getStringForWrite(c, key);
  let value: string;
  if (old === undefined) {
    value = tail;
    c.db.set(key, value);
    c.touch(key);
  } else {
    checkSize(c, old.length + tail.length);
    value = old + tail;
    overwrite(c, key, value);
  }
  c.out.integer(value.length);
}

function strlenCommand(c: Call): void {
  const v = readString(c, c.argv[1]!);
  c.out.integer(v === undefined ? 0 : v.length);
}

/** GETRANGE and SUBSTR: the bytes from start to end inclusive, negative from the end. */
function getrangeCommand(c: Call): void {
  const start = intArg(c.argv[2]!);
  const end = intArg(c.argv[3]!);
  const v = readString(c, c.argv[1]!);
  if (v === undefined || (start < 0 && end < 0 && start > end)) {
    c.out.bulk('');
    return;
  }
  const len = v.length;
  let s = toNumber(start);
  let e = toNumber(end);
  if (s < 0) s = len + s;
  if (e < 0) e = len + e;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= len) e = len - 1;
  if (s > e || len === 0) c.out.bulk('');
  else c.out.bulk(v.slice(s, e + 1));
}

function setrangeCommand(c: Call): void {
  const key = c.argv[1]!;
  const offset = toNumber(intArg(c.argv[2]!));
  const patch = c.argv[3]!;
  if (offset < 0) throw new CommandError(ERR_OFFSET);
  const old = getStringForWrite(c, key);
  if (old === undefined) {
    // Setting nothing on a missing key creates nothing.
    if (patch.length === 0) {
      c.out.integer(0);
      return;
    }
    checkSize(c, offset + patch.length);
    const value = '\0'.repeat(offset) + patch;
    c.db.set(key, value);
    c.touch(key);
    c.out.integer(value.length);
    return;
  }
  if (patch.length === 0) {
    c.out.integer(old.length);
    return;
  }
  checkSize(c, offset + patch.length);
  const head = offset <= old.length ? old.slice(0, offset) : old + '\0'.repeat(offset - old.length);
  const value = head + patch + old.slice(offset + patch.length);
  overwrite(c, key, value);
  c.out.integer(value.length);
}

/** INCR, DECR, INCRBY, DECRBY: the value as an int64, plus incr, within int64. */
function incrDecr(c: Call, incr: Int64): void {
  const key = c.argv[1]!;
  const old = getStringForWrite(c, key);
  const value = old === undefined ? 0 : parseInt64(old);
  if (value === null) throw new CommandError(ERR_NOT_INTEGER);
  const sum = addInt64(value, incr);
  if (sum === null) throw new CommandError(ERR_OVERFLOW);
  c.db.set(key, String(sum), true);
  c.touch(key);
  c.out.integer(sum);
}

function incrCommand(c: Call): void {
  incrDecr(c, 1);
}

function decrCommand(c: Call): void {
  incrDecr(c, -1);
}

function incrbyCommand(c: Call): void {
  incrDecr(c, intArg(c.argv[2]!));
}

function decrbyCommand(c: Call): void {
  const decr = intArg(c.argv[2]!);
  if (decr === INT64_MIN) throw new CommandError('ERR decrement would overflow');
  incrDecr(c, typeof decr === 'bigint' ? -decr : 0 - decr);
}

/**
 * INCRBYFLOAT in C long double arithmetic (util/longdouble.ts), stored and replied as Redis
 * formats it ("%.17Lf" with trailing zeros removed).
 */
function incrbyfloatCommand(c: Call): void {
  const key = c.argv[1]!;
  const old = getStringForWrite(c, key);
  const value = old === undefined ? LD_ZERO : parseLongDouble(old);
  if (value === null) throw new CommandError(ERR_NOT_FLOAT);
  const incr = parseLongDouble(c.argv[2]!);
  if (incr === null) throw new CommandError(ERR_NOT_FLOAT);
  const sum = addLongDouble(value, incr);
  if (sum === 'nan' || sum.kind === 'inf') throw new CommandError('ERR increment would produce NaN or Infinity');
  const s = formatLongDouble(sum);
  c.db.set(key, s, true);
  c.touch(key);
  c.out.bulk(s);
}

// ---------------------------------------------------------------------------------------
// LCS

interface LcsOptions {
  getLen: boolean;
  getIdx: boolean;
  withMatchLen: boolean;
  minMatchLen: number;
}

function parseLcsOptions(argv: string[]): LcsOptions {
  const o: LcsOptions = { getLen: false, getIdx: false, withMatchLen: false, minMatchLen: 0 };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'idx') o.getIdx = true;
    else if (opt === 'len') o.getLen = true;
    else if (opt === 'withmatchlen') o.withMatchLen = true;
    else if (opt === 'minmatchlen' && j + 1 < argv.length) {
      const v = toNumber(intArg(argv[++j]!));
      o.minMatchLen = v < 0 ? 0 : v;
    } else throw new CommandError(ERR_SYNTAX);
  }
  if (o.getLen && o.getIdx) throw new CommandError('ERR If you want both the length and indexes, please just use IDX.');
  return o;
}

/** The dynamic programming table: cell (i, j) at i * (b.length + 1) + j is LCS(a[0..i), b[0..j)). */
function lcsTable(a: string, b: string): Uint32Array {
  const width = b.length + 1;
  const table = new Uint32Array((a.length + 1) * width);
  for (let i = 1; i <= a.length; i++) {
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const at = i * width + j;
      if (ca === b.charCodeAt(j - 1)) table[at] = table[at - width - 1]! + 1;
      else {
        const up = table[at - width]!;
        const left = table[at - 1]!;
        table[at] = up > left ? up : left;
      }
    }
  }
  return table;
}

/** A matching range: [aStart, aEnd, bStart, bEnd, length]. */
type LcsRange = [number, number, number, number, number];

/**
 * Walks the table back from the end as Redis does, collecting the LCS and its matching
 * ranges (last first) that are at least minMatchLen long.
 */
function lcsWalk(a: string, b: string, table: Uint32Array, minMatchLen: number): { lcs: string; ranges: LcsRange[] } {
  const alen = a.length;
  const width = b.length + 1;
  const chars: string[] = new Array<string>(table[alen * width + b.length]!);
  const ranges: LcsRange[] = [];
  let idx = chars.length;
  let i = alen;
  let j = b.length;
  let aStart = alen; // alen: no range open
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a.charCodeAt(i - 1) === b.charCodeAt(j - 1)) {
      chars[--idx] = a[i - 1]!;
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      // A range touching the start of either string is complete.
      if (aStart === 0 || bStart === 0) emit = true;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j]! > table[i * width + j - 1]!) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (minMatchLen === 0 || matchLen >= minMatchLen) ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  return { lcs: chars.join(''), ranges };
}

/** LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] */
function lcsCommand(c: Call): void {
  const argv = c.argv;
  const va = c.db.get(argv[1]!, c.nowMs);
  const vb = c.db.get(argv[2]!, c.nowMs);
  countLookup(c, va !== undefined);
  countLookup(c, vb !== undefined);
  if ((va !== undefined && typeof va !== 'string') || (vb !== undefined && typeof vb !== 'string')) {
    throw new CommandError('ERR The specified keys must contain string values');
  }
  const a = va ?? '';
  const b = vb ?? '';
  const o = parseLcsOptions(argv);
  // The table Redis allocates, (alen+1) * (blen+1) uint32s, is bounded by proto-max-bulk-len.
  if ((a.length + 1) * (b.length + 1) * 4 > c.engine.config.protoMaxBulkLen) {
    throw new CommandError('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  }
  const table = lcsTable(a, b);
  const total = table[table.length - 1]!;
  if (o.getLen) {
    c.out.integer(total);
    return;
  }
  const { lcs, ranges } = lcsWalk(a, b, table, o.minMatchLen);
  if (!o.getIdx) {
    c.out.bulk(lcs);
    return;
  }
  c.out.map(2);
  c.out.bulk('matches');
  c.out.array(ranges.length);
  for (const [aStart, aEnd, bStart, bEnd, matchLen] of ranges) {
    c.out.array(o.withMatchLen ? 3 : 2);
    c.out.array(2);
    c.out.integer(aStart);
    c.out.integer(aEnd);
    c.out.array(2);
    c.out.integer(bStart);
    c.out.integer(bEnd);
    if (o.withMatchLen) c.out.integer(matchLen);
  }
  c.out.bulk('len');
  c.out.integer(total);
}

export { checkSize, expireTimeArg, setGeneric, SetFlag, Unit };

const string = 'string';

export const stringCommands: CommandSpec[] = [
  command('get', 2, ['readonly', 'fast'], [1, 1, 1], string, '1.0.0', 'Get the value of a key', getCommand),
  command('set', -3, ['write', 'denyoom'], [1, 1, 1], string, '1.0.0', 'Set the string value of a key', setCommand),
  command('setnx', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Set the value of a key, only if the key does not exist', setnxCommand),
  command('setex', 4, ['write', 'denyoom'], [1, 1, 1], string, '2.0.0', 'Set the value and expiration of a key', setexCommand),
  command('psetex', 4, ['write', 'denyoom'], [1, 1, 1], string, '2.6.0', 'Set the value and expiration in milliseconds of a key', psetexCommand),
  command('getset', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Set the string value of a key and return its old value', getsetCommand),
  command('getdel', 2, ['write', 'fast'], [1, 1, 1], string, '6.2.0', 'Get the value of a key and delete the key', getdelCommand),
  command('getex', -2, ['write', 'fast'], [1, 1, 1], string, '6.2.0', 'Get the value of a key and optionally set its expiration', getexCommand),
  command('mget', -2, ['readonly', 'fast'], [1, -1, 1], string, '1.0.0', 'Get the values of all the given keys', mgetCommand, {
    complexity: 'O(N) where N is the number of keys to retrieve.',
  }),
  command('mset', -3, ['write', 'denyoom'], [1, -1, 2], string, '1.0.1', 'Set multiple keys to multiple values', msetCommand, {
    complexity: 'O(N) where N is the number of keys to set.',
  }),
  command('msetnx', -3, ['write', 'denyoom'], [1, -1, 2], string, '1.0.1', 'Set multiple keys to multiple values, only if none of the keys exist', msetnxCommand, {
    complexity: 'O(N) where N is the number of keys to set.',
  }),
  command('append', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '2.0.0', 'Append a value to a key', appendCommand),
  command('strlen', 2, ['readonly', 'fast'], [1, 1, 1], string, '2.2.0', 'Get the length of the value stored in a key', strlenCommand),
  command('getrange', 4, ['readonly'], [1, 1, 1], string, '2.4.0', 'Get a substring of the string stored at a key', getrangeCommand, {
    complexity: 'O(N) where N is the length of the returned string.',
  }),
  command('substr', 4, ['readonly'], [1, 1, 1], string, '1.0.0', 'Get a substring of the string stored at a key', getrangeCommand, {
    complexity: 'O(N) where N is the length of the returned string.',
  }),
  command('setrange', 4, ['write', 'denyoom'], [1, 1, 1], string, '2.2.0', 'Overwrite part of a string at key starting at the specified offset', setrangeCommand),
  command('incr', 2, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Increment the integer value of a key by one', incrCommand),
  command('decr', 2, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Decrement the integer value of a key by one', decrCommand),
  command('incrby', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Increment the integer value of a key by the given amount', incrbyCommand),
  command('decrby', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '1.0.0', 'Decrement the integer value of a key by the given number', decrbyCommand),
  command('incrbyfloat', 3, ['write', 'denyoom', 'fast'], [1, 1, 1], string, '2.6.0', 'Increment the float value of a key by the given amount', incrbyfloatCommand),
  command('lcs', -3, ['readonly'], [1, 2, 1], string, '7.0.0', 'Find longest common substring', lcsCommand, {
    complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively',
  }),
];
