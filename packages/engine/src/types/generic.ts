// The generic key commands and expiry, as Redis's db.c, expire.c and object.c: commands that
// work on keys whatever their type, and the database-wide DBSIZE and FLUSH*.
//
// Readers (EXISTS, TYPE, TTL, KEYS, SCAN, RANDOMKEY, OBJECT ...) never modify anything: an
// expired key is invisible to them but stays in the table until a write or the leader's active
// expiry removes it. Writers run on the apply path with the entry's time, and delete an expired
// key they meet as Redis's lookupKeyWrite does. KEYS and SCAN follow the table's bucket order,
// and RANDOMKEY draws from the entry's seeded generator, so every replica replies the same.

import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_DB_INDEX, ERR_NOT_INTEGER, ERR_NO_SUCH_KEY, ERR_SYNTAX, errArity, errInvalidExpire } from '../errors';
import { Db, typeName, Value } from '../keyspace';
import { DATABASES } from '../engine';
import { globMatch } from '../util/glob';
import { INT64_MAX, INT64_MIN, parseInt64, smallIntArg } from '../util/numbers';

export const ERR_SAME_OBJECT = 'ERR source and destination objects are the same';
export const ERR_INVALID_CURSOR = 'ERR invalid cursor';
const ERR_INT_RANGE = 'ERR value is out of range, value must between -2147483648 and 2147483647';
const ERR_LFU_NOT_SELECTED =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

/** Redis's OBJ_SHARED_REFCOUNT: the refcount OBJECT REFCOUNT reports for shared integers. */
const SHARED_REFCOUNT = 2147483647;
/** Redis shares the integers 0..9999 (OBJ_SHARED_INTEGERS). */
const SHARED_INTEGERS = 10000;
/** Longest string Redis stores as embstr (OBJ_ENCODING_EMBSTR_SIZE_LIMIT). */
const EMBSTR_SIZE_LIMIT = 44;
/** RANDOMKEY: random draws before falling back to a pass over the table. */
const RANDOMKEY_TRIES_MAX = 100;
/** SCAN's default COUNT. */
const SCAN_COUNT_DEFAULT = 10;

// ---------------------------------------------------------------------------------------------
// Helpers

/** A reader's lookup that counts keyspace hits and misses, as Redis's lookupKeyRead. */
function lookupRead(c: Call, key: string, db: Db = c.db): Value | undefined {
  const v = db.get(key, c.nowMs);
  if (v === undefined) c.engine.stats.keyspaceMisses++;
  else c.engine.stats.keyspaceHits++;
  return v;
}

/** Parses a database index as Redis's getIntFromObjectOrReply then selectDb do. */
function dbArg(c: Call, s: string): Db {
  const v = parseInt64(s);
  if (v === null) throw new CommandError(ERR_NOT_INTEGER);
  if (typeof v === 'bigint' || v > 2147483647 || v < -2147483648) throw new CommandError(ERR_INT_RANGE);
  if (v < 0 || v >= DATABASES) throw new CommandError(ERR_DB_INDEX);
  return c.engine.db(v);
}

/** An integer reply for a value that may be beyond 2^53 (far-future expiry times). */
function replyInt(c: Call, n: number): void {
  if (Number.isSafeInteger(n)) c.out.integer(n);
  else c.out.integer(n >= 2 ** 63 ? INT64_MAX : BigInt(Math.trunc(n)));
}

/** A key was added: a client blocked on it may be served (lists, sorted sets, streams). */
function signalAdded(c: Call, key: string, value: Value, db: Db): void {
  if (typeof value !== 'string') c.signalReady(key, db);
}

// ---------------------------------------------------------------------------------------------
// DEL UNLINK EXISTS TYPE TOUCH

function delCommand(c: Call): void {
  const argv = c.argv;
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    if (c.db.getForWrite(key, c.nowMs) === undefined) continue;
    c.db.delete(key);
    c.touch(key);
    deleted++;
  }
  c.out.integer(deleted);
}

function existsCommand(c: Call): void {
  const argv = c.argv;
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (lookupRead(c, argv[i]!) !== undefined) n++;
  c.out.integer(n);
}

function typeCommand(c: Call): void {
  const v = lookupRead(c, c.argv[1]!);
  c.out.simple(v === undefined ? 'none' : typeName(v));
}

/** TOUCH: counts the keys that exist. Keel keeps no access times (see OBJECT IDLETIME). */
function touchCommand(c: Call): void {
  existsCommand(c);
}

// ---------------------------------------------------------------------------------------------
// RENAME RENAMENX MOVE COPY

function renameGeneric(c: Call, nx: boolean): void {
  const src = c.argv[1]!;
  const dst = c.argv[2]!;
  const db = c.db;
  const value = db.getForWrite(src, c.nowMs);
  if (value === undefined) throw new CommandError(ERR_NO_SUCH_KEY);
  if (src === dst) {
    if (nx) c.out.integer(0);
    else c.out.ok();
    return;
  }
  const expireAt = db.expireAt(src);
  if (db.getForWrite(dst, c.nowMs) !== undefined) {
    if (nx) {
      c.out.integer(0);
      return;
    }
    db.delete(dst);
  }
  db.set(dst, value);
  if (expireAt !== undefined) db.setExpire(dst, expireAt);
  db.delete(src);
  signalAdded(c, dst, value, db);
  c.touch(src);
  c.touch(dst);
  if (nx) c.out.integer(1);
  else c.out.ok();
}

function moveCommand(c: Call): void {
  const key = c.argv[1]!;
  const src = c.db;
  const dst = dbArg(c, c.argv[2]!);
  if (src === dst) throw new CommandError(ERR_SAME_OBJECT);
  const value = src.getForWrite(key, c.nowMs);
  if (value === undefined) {
    c.out.integer(0);
    return;
  }
  const expireAt = src.expireAt(key);
  if (dst.getForWrite(key, c.nowMs) !== undefined) {
    c.out.integer(0);
    return;
  }
  dst.set(key, value);
  if (expireAt !== undefined) dst.setExpire(key, expireAt);
  src.delete(key);
  signalAdded(c, key, value, dst);
  c.touch(key, src);
  c.touch(key, dst);
  c.out.integer(1);
}

function copyCommand(c: Call): void {
  const argv = c.argv;
  const key = argv[1]!;
  const newKey = argv[2]!;
  const src = c.db;
  let dst = c.db;
  let replace = false;
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'replace') replace = true;
    else if (opt === 'db' && i + 1 < argv.length) dst = dbArg(c, argv[++i]!);
    else throw new CommandError(ERR_SYNTAX);
  }
  if (src === dst && key === newKey) throw new CommandError(ERR_SAME_OBJECT);
  // Redis looks the source up for reading; on the apply path that also removes it if expired.
  const value = src.getForWrite(key, c.nowMs);
  if (value === undefined) {
    c.engine.stats.keyspaceMisses++;
    c.out.integer(0);
    return;
  }
  c.engine.stats.keyspaceHits++;
  const expireAt = src.expireAt(key);
  if (dst.getForWrite(newKey, c.nowMs) !== undefined) {
    if (!replace) {
      c.out.integer(0);
      return;
    }
    dst.delete(newKey);
  }
  const copy = typeof value === 'string' ? value : value.clone();
  dst.set(newKey, copy);
  if (expireAt !== undefined) dst.setExpire(newKey, expireAt);
  signalAdded(c, newKey, copy, dst);
  c.touch(newKey, dst);
  c.out.integer(1);
}

// ---------------------------------------------------------------------------------------------
// KEYS SCAN RANDOMKEY

function keysCommand(c: Call): void {
  const pattern = c.argv[1]!;
  const all = pattern === '*';
  const db = c.db;
  const keys: string[] = [];
  // O(n) over the table in bucket order, as Redis's KEYS; the table is not modified meanwhile.
  for (const e of db.dict.entries()) {
    if ((all || globMatch(pattern, e.key)) && !db.isExpired(e.key, c.nowMs)) keys.push(e.key);
  }
  c.out.array(keys.length);
  for (const k of keys) c.out.bulk(k);
}

function isSpace(ch: number): boolean {
  return ch === 0x20 || (ch >= 0x09 && ch <= 0x0d);
}

const ULONG_MAX = (1n << 64n) - 1n;

/**
 * Parses a SCAN cursor as Redis does with strtoul (base 10): an optional sign, then digits up
 * to the end of the C string ("" is 0; "-1" wraps to 2^64-1; a leading space is refused).
 * Returns the low 32 bits, which are all that Dict.scan reads: bits above a table's mask do
 * not change which bucket comes next, and Keel's tables stay below 2^32 buckets.
 */
export function parseScanCursor(arg: string): number {
  const nul = arg.indexOf('\0');
  const s = nul >= 0 ? arg.slice(0, nul) : arg;
  if (s.length === 0) return 0;
  if (isSpace(s.charCodeAt(0))) throw new CommandError(ERR_INVALID_CURSOR);
  let i = 0;
  const sign = s[0];
  if (sign === '+' || sign === '-') i = 1;
  if (i === s.length) throw new CommandError(ERR_INVALID_CURSOR);
  for (let j = i; j < s.length; j++) {
    const ch = s.charCodeAt(j);
    if (ch < 0x30 || ch > 0x39) throw new CommandError(ERR_INVALID_CURSOR);
  }
  let v = BigInt(s.slice(i));
  if (v > ULONG_MAX) throw new CommandError(ERR_INVALID_CURSOR);
  if (sign === '-') v = (ULONG_MAX + 1n - v) & ULONG_MAX;
  return Number(v & 0xffffffffn);
}

function scanCommand(c: Call): void {
  const argv = c.argv;
  let cursor = parseScanCursor(argv[1]!);
  let count = SCAN_COUNT_DEFAULT;
  let pattern: string | null = null;
  let type: string | null = null;
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const hasArg = i + 1 < argv.length;
    if (opt === 'count' && hasArg) {
      count = smallIntArg(argv[i + 1]!);
      if (count < 1) throw new CommandError(ERR_SYNTAX);
    } else if (opt === 'match' && hasArg) {
      pattern = argv[i + 1]!;
      if (pattern === '*') pattern = null;
    } else if (opt === 'type' && hasArg) {
      type = argv[i + 1]!.toLowerCase();
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }

  // Collect from whole buckets until COUNT keys (before filtering) or the end, visiting at most
  // 10 × COUNT buckets so that a sparse table cannot stall the call.
  const db = c.db;
  const found: string[] = [];
  let iterationsLeft = count * 10;
  do {
    cursor = db.dict.scan(cursor, (e) => {
      found.push(e.key);
    });
  } while (cursor !== 0 && iterationsLeft-- > 0 && found.length < count);

  const keys: string[] = [];
  for (const key of found) {
    if (pattern !== null && !globMatch(pattern, key)) continue;
    const v = db.get(key, c.nowMs);
    if (v === undefined) continue; // expired: invisible, left for expiry to delete
    if (type !== null && typeName(v) !== type) continue;
    keys.push(key);
  }
  c.out.array(2);
  c.out.bulk(String(cursor));
  c.out.array(keys.length);
  for (const k of keys) c.out.bulk(k);
}

function randomkeyCommand(c: Call): void {
  const db = c.db;
  const random = (): number => c.random();
  for (let tries = 0; tries < RANDOMKEY_TRIES_MAX; tries++) {
    const e = db.dict.randomEntry(random);
    if (e === null) {
      c.out.nullBulk();
      return;
    }
    if (!db.isExpired(e.key, c.nowMs)) {
      c.out.bulk(e.key);
      return;
    }
  }
  // Nearly every key has expired and is still waiting for its deletion: Redis would delete
  // them as it draws; a reader may not, so pick uniformly among the live keys in one pass.
  let live = 0;
  for (const e of db.dict.entries()) if (!db.isExpired(e.key, c.nowMs)) live++;
  if (live === 0) {
    c.out.nullBulk();
    return;
  }
  let k = Math.floor(c.random() * live);
  for (const e of db.dict.entries()) {
    if (db.isExpired(e.key, c.nowMs)) continue;
    if (k-- === 0) {
      c.out.bulk(e.key);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// OBJECT

/**
 * The encoding Redis would report for a string value, computed from its content: "int" for a
 * canonical 64-bit integer, "embstr" up to 44 bytes, else "raw". Redis's answer also depends
 * on how the value was written: APPEND, SETRANGE, SETBIT and BITOP leave "raw" strings, and
 * INCRBYFLOAT stores "3" as "embstr"; Keel does not track that and answers from the content.
 */
export function stringEncoding(v: string): string {
  if (v.length <= 20 && parseInt64(v) !== null) return 'int';
  return v.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
}

/** OBJECT REFCOUNT: Redis shares the integers 0..9999 (with no maxmemory LRU/LFU policy). */
function refcount(v: Value): number {
  if (typeof v !== 'string' || v.length > 4) return 1;
  const n = parseInt64(v);
  return n !== null && n >= 0 && n < SHARED_INTEGERS ? SHARED_REFCOUNT : 1;
}

/** The value of OBJECT's key argument, or a null reply (true if the caller should stop). */
function objectLookup(c: Call): Value | undefined {
  const v = lookupRead(c, c.argv[2]!);
  if (v === undefined) c.out.nullBulk();
  return v;
}

function objectEncodingCommand(c: Call): void {
  const v = objectLookup(c);
  if (v === undefined) return;
  c.out.bulk(typeof v === 'string' ? stringEncoding(v) : v.encoding(c.engine.config));
}

function objectRefcountCommand(c: Call): void {
  const v = objectLookup(c);
  if (v !== undefined) c.out.integer(refcount(v));
}

/**
 * Keel keeps no access times: a read may not change state, and the times would differ between
 * replicas. The idle time is reported as 0.
 */
function objectIdletimeCommand(c: Call): void {
  const v = objectLookup(c);
  if (v !== undefined) c.out.integer(0);
}

/** As Redis under its default (non-LFU) maxmemory policy. */
function objectFreqCommand(c: Call): void {
  if (lookupRead(c, c.argv[2]!) === undefined) {
    c.out.nullBulk();
    return;
  }
  throw new CommandError(ERR_LFU_NOT_SELECTED);
}

const OBJECT_HELP = [
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
];

/** Redis's addReplyHelp: a header naming the command, the lines, and HELP itself. */
function replyHelp(c: Call, lines: string[]): void {
  c.out.array(lines.length + 3);
  c.out.simple(`${c.argv[0]!.toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const l of lines) c.out.simple(l);
  c.out.simple('HELP');
  c.out.simple('    Prints this help.');
}

function objectHelpCommand(c: Call): void {
  replyHelp(c, OBJECT_HELP);
}

const objectSubcommands: CommandSpec[] = [
  command('object|encoding', 3, ['readonly'], [2, 2, 1], 'generic', '2.2.3', 'Inspect the internal encoding of a Redis object', objectEncodingCommand),
  command('object|freq', 3, ['readonly'], [2, 2, 1], 'generic', '4.0.0', 'Get the logarithmic access frequency counter of a Redis object', objectFreqCommand),
  command('object|help', 2, ['loading', 'stale'], [0, 0, 0], 'generic', '6.2.0', 'Show helpful text about the different subcommands', objectHelpCommand),
  command('object|idletime', 3, ['readonly'], [2, 2, 1], 'generic', '2.2.3', 'Get the time since a Redis object was last accessed', objectIdletimeCommand),
  command('object|refcount', 3, ['readonly'], [2, 2, 1], 'generic', '2.2.3', 'Get the number of references to the value of the key', objectRefcountCommand),
];

/**
 * The OBJECT container: finds the subcommand and checks its arity with Redis's errors, so that
 * it works whether or not dispatch resolved the subcommand first.
 */
function objectCommand(c: Call): void {
  const name = c.argv[1]!;
  const sub = objectSubcommands.find((s) => s.name === `object|${name.toLowerCase()}`);
  if (sub === undefined) {
    throw new CommandError(`ERR unknown subcommand '${name.slice(0, 128)}'. Try ${c.argv[0]!.toUpperCase()} HELP.`);
  }
  const argc = c.argv.length;
  if ((sub.arity > 0 && argc !== sub.arity) || argc < -sub.arity) throw new CommandError(errArity(sub.name));
  sub.handler!(c);
}

// ---------------------------------------------------------------------------------------------
// EXPIRE PEXPIRE EXPIREAT PEXPIREAT TTL PTTL EXPIRETIME PEXPIRETIME PERSIST

const enum ExpireFlag {
  NX = 1,
  XX = 2,
  GT = 4,
  LT = 8,
}

/** Parses NX XX GT LT from argv[3], with Redis's errors and their order. */
function parseExpireFlags(c: Call): number {
  const argv = c.argv;
  let flags = 0;
  for (let i = 3; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'nx') flags |= ExpireFlag.NX;
    else if (opt === 'xx') flags |= ExpireFlag.XX;
    else if (opt === 'gt') flags |= ExpireFlag.GT;
    else if (opt === 'lt') flags |= ExpireFlag.LT;
    else throw new CommandError(`ERR Unsupported option ${argv[i]!}`);
  }
  if (flags & ExpireFlag.NX && flags & (ExpireFlag.XX | ExpireFlag.GT | ExpireFlag.LT)) {
    throw new CommandError('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if (flags & ExpireFlag.GT && flags & ExpireFlag.LT) {
    throw new CommandError('ERR GT and LT options at the same time are not compatible');
  }
  return flags;
}

/** Whether NX XX GT LT allow replacing the expiry `at` (undefined: none) by `when`. */
function expireAllowed(flags: number, at: number | undefined, when: bigint): boolean {
  if (at === undefined) {
    // No expiry counts as an infinite one: GT never beats it, LT always does.
    return !(flags & (ExpireFlag.XX | ExpireFlag.GT));
  }
  const current = BigInt(Math.trunc(at));
  if (flags & ExpireFlag.NX) return false;
  if (flags & ExpireFlag.GT && when <= current) return false;
  if (flags & ExpireFlag.LT && when >= current) return false;
  return true;
}

const MS_LIMIT_HI = INT64_MAX / 1000n;
const MS_LIMIT_LO = INT64_MIN / 1000n;

/**
 * Redis's expireGenericCommand. `relative`: the time counts from now (EXPIRE, PEXPIRE), else
 * it is a Unix time. A time not after now deletes the key (and replies 1).
 */
function expireGeneric(c: Call, name: string, relative: boolean, seconds: boolean): void {
  const key = c.argv[1]!;
  const flags = parseExpireFlags(c);
  const arg = parseInt64(c.argv[2]!);
  if (arg === null) throw new CommandError(ERR_NOT_INTEGER);
  // Overflow checks in int64, as Redis: the unit conversion, then adding the base time.
  let when = BigInt(arg);
  if (seconds) {
    if (when > MS_LIMIT_HI || when < MS_LIMIT_LO) throw new CommandError(errInvalidExpire(name));
    when *= 1000n;
  }
  const base = relative ? BigInt(c.nowMs) : 0n;
  if (when > INT64_MAX - base) throw new CommandError(errInvalidExpire(name));
  when += base;

  const db = c.db;
  if (db.getForWrite(key, c.nowMs) === undefined) {
    c.out.integer(0);
    return;
  }
  if (flags !== 0 && !expireAllowed(flags, db.expireAt(key), when)) {
    c.out.integer(0);
    return;
  }
  if (when <= BigInt(c.nowMs)) {
    db.delete(key);
  } else {
    // Times beyond 2^53 ms (the year 287396) are kept as the nearest double.
    db.setExpire(key, Number(when));
  }
  c.touch(key);
  c.out.integer(1);
}

/** TTL PTTL EXPIRETIME PEXPIRETIME: -2 if no key, -1 if no expiry. */
function ttlGeneric(c: Call, ms: boolean, absolute: boolean): void {
  const key = c.argv[1]!;
  if (lookupRead(c, key) === undefined) {
    c.out.integer(-2);
    return;
  }
  const at = c.db.expireAt(key);
  if (at === undefined) {
    c.out.integer(-1);
    return;
  }
  let ttl = absolute ? at : at - c.nowMs;
  if (ttl < 0) ttl = 0;
  replyInt(c, ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function persistCommand(c: Call): void {
  const key = c.argv[1]!;
  if (c.db.getForWrite(key, c.nowMs) !== undefined && c.db.persist(key)) {
    c.touch(key);
    c.out.integer(1);
  } else {
    c.out.integer(0);
  }
}

// ---------------------------------------------------------------------------------------------
// DBSIZE FLUSHDB FLUSHALL

/** DBSIZE counts keys whose time has passed but that were not deleted yet, as Redis does. */
function dbsizeCommand(c: Call): void {
  c.out.integer(c.db.size);
}

/** FLUSHDB and FLUSHALL take nothing, ASYNC or SYNC; Keel always flushes at once. */
function checkFlushArgs(c: Call): void {
  const argv = c.argv;
  if (argv.length === 1) return;
  const opt = argv[1]!.toLowerCase();
  if (argv.length === 2 && (opt === 'sync' || opt === 'async')) return;
  throw new CommandError(ERR_SYNTAX);
}

function flushdbCommand(c: Call): void {
  checkFlushArgs(c);
  const removed = c.db.size;
  c.db.clear();
  c.engine.modlog.flushed(c.db.index);
  c.engine.stats.dirty += removed;
  c.out.ok();
}

function flushallCommand(c: Call): void {
  checkFlushArgs(c);
  let removed = 0;
  for (const db of c.engine.dbs) removed += db.size;
  c.engine.flushAll();
  c.engine.stats.dirty += removed + 1;
  c.out.ok();
}

// ---------------------------------------------------------------------------------------------
// The table: arity, flags, key positions, group, since and summary as Redis 7.0's.

function ttlCommandFor(ms: boolean, absolute: boolean): (c: Call) => void {
  return (c) => ttlGeneric(c, ms, absolute);
}

function expireCommandFor(name: string, relative: boolean, seconds: boolean): (c: Call) => void {
  return (c) => expireGeneric(c, name, relative, seconds);
}

export const genericCommands: CommandSpec[] = [
  command('del', -2, ['write'], [1, -1, 1], 'generic', '1.0.0', 'Delete a key', delCommand),
  command('unlink', -2, ['write', 'fast'], [1, -1, 1], 'generic', '4.0.0', 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.', delCommand),
  command('exists', -2, ['readonly', 'fast'], [1, -1, 1], 'generic', '1.0.0', 'Determine if a key exists', existsCommand),
  command('type', 2, ['readonly', 'fast'], [1, 1, 1], 'generic', '1.0.0', 'Determine the type stored at key', typeCommand),
  command('touch', -2, ['readonly', 'fast'], [1, -1, 1], 'generic', '3.2.1', 'Alters the last access time of a key(s). Returns the number of existing keys specified.', touchCommand),
  command('rename', 3, ['write'], [1, 2, 1], 'generic', '1.0.0', 'Rename a key', (c) => renameGeneric(c, false)),
  command('renamenx', 3, ['write', 'fast'], [1, 2, 1], 'generic', '1.0.0', 'Rename a key, only if the new key does not exist', (c) => renameGeneric(c, true)),
  command('move', 3, ['write', 'fast'], [1, 1, 1], 'generic', '1.0.0', 'Move a key to another database', moveCommand),
  command('copy', -3, ['write', 'denyoom'], [1, 2, 1], 'generic', '6.2.0', 'Copy a key', copyCommand),
  command('keys', 2, ['readonly'], [0, 0, 0], 'generic', '1.0.0', 'Find all keys matching the given pattern', keysCommand),
  command('scan', -2, ['readonly'], [0, 0, 0], 'generic', '2.8.0', 'Incrementally iterate the keys space', scanCommand),
  command('randomkey', 1, ['readonly'], [0, 0, 0], 'generic', '1.0.0', 'Return a random key from the keyspace', randomkeyCommand),
  command('object', -2, [], [0, 0, 0], 'generic', '2.2.3', 'A container for object introspection commands', objectCommand, { subcommands: objectSubcommands }),
  command('expire', -3, ['write', 'fast'], [1, 1, 1], 'generic', '1.0.0', "Set a key's time to live in seconds", expireCommandFor('expire', true, true)),
  command('pexpire', -3, ['write', 'fast'], [1, 1, 1], 'generic', '2.6.0', "Set a key's time to live in milliseconds", expireCommandFor('pexpire', true, false)),
  command('expireat', -3, ['write', 'fast'], [1, 1, 1], 'generic', '1.2.0', 'Set the expiration for a key as a UNIX timestamp', expireCommandFor('expireat', false, true)),
  command('pexpireat', -3, ['write', 'fast'], [1, 1, 1], 'generic', '2.6.0', 'Set the expiration for a key as a UNIX timestamp specified in milliseconds', expireCommandFor('pexpireat', false, false)),
  command('ttl', 2, ['readonly', 'fast'], [1, 1, 1], 'generic', '1.0.0', 'Get the time to live for a key in seconds', ttlCommandFor(false, false)),
  command('pttl', 2, ['readonly', 'fast'], [1, 1, 1], 'generic', '2.6.0', 'Get the time to live for a key in milliseconds', ttlCommandFor(true, false)),
  command('expiretime', 2, ['readonly', 'fast'], [1, 1, 1], 'generic', '7.0.0', 'Get the expiration Unix timestamp for a key', ttlCommandFor(false, true)),
  command('pexpiretime', 2, ['readonly', 'fast'], [1, 1, 1], 'generic', '7.0.0', 'Get the expiration Unix timestamp for a key in milliseconds', ttlCommandFor(true, true)),
  command('persist', 2, ['write', 'fast'], [1, 1, 1], 'generic', '2.2.0', 'Remove the expiration from a key', persistCommand),
  command('dbsize', 1, ['readonly', 'fast'], [0, 0, 0], 'server', '1.0.0', 'Return the number of keys in the selected database', dbsizeCommand),
  command('flushdb', -1, ['write'], [0, 0, 0], 'server', '1.0.0', 'Remove all keys from the current database', flushdbCommand),
  command('flushall', -1, ['write'], [0, 0, 0], 'server', '1.0.0', 'Remove all keys from all databases', flushallCommand),
];
