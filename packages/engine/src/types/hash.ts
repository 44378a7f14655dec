// Hashes, as Redis 7.0's t_hash.c: the type's API first, then the command handlers.
//
// Encodings, as Redis reports them with OBJECT ENCODING:
//   listpack   a small hash: an insertion-ordered Map. Redis's listpack keeps insertion order
//              too (an update stays in place, a new field goes to the end), so HGETALL, HKEYS,
//              HVALS, HSCAN and HRANDFIELD with a count >= the size reply in Redis's order.
//   hashtable  once the hash has more than hash-max-listpack-entries fields, or a field or value
//              longer than hash-max-listpack-value bytes: a Dict. It never goes back, as in Redis.
//              Its iteration order is the Dict's bucket order: deterministic (every replica that
//              applied the same commands iterates alike) but not Redis's, whose order depends on
//              its own hash function; a differential test compares these replies unordered.
// Membership is O(1) in both (Redis's listpack is O(n), bounded by the small size).

import { Call, command, CommandSpec } from '../command';
import { Dict } from '../dict';
import { CommandError, ERR_NOT_FLOAT, ERR_OVERFLOW, ERR_SYNTAX, ERR_WRONGTYPE, errArity } from '../errors';
import { EncodingConfig, TypedValue } from '../keyspace';
import { globMatch } from '../util/glob';
import { addLongDouble, formatLongDouble, LD_ZERO, parseLongDouble } from '../util/longdouble';
import { addInt64, intArg, parseInt64 } from '../util/numbers';
import { parseScanCursor } from './generic';
import { countLookup } from './string';

const ERR_HASH_NOT_INTEGER = 'ERR hash value is not an integer';
const ERR_HASH_NOT_FLOAT = 'ERR hash value is not a float';
const ERR_RANDOM_COUNT_RANGE = 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';
/** HRANDFIELD WITHVALUES: |count| above LONG_MAX / 2 would overflow Redis's reply length. */
const WITHVALUES_COUNT_MAX = 4611686018427387903n;
const SCAN_COUNT_DEFAULT = 10;

export class HashValue implements TypedValue {
  readonly type = 'hash';
  /** The listpack encoding, or null once converted to the hashtable one. */
  private small: Map<string, string> | null = new Map();
  private big: Dict<string> | null = null;

  get size(): number {
    return this.small !== null ? this.small.size : this.big!.size;
  }

  get isListpack(): boolean {
    return this.small !== null;
  }

  encoding(_config: EncodingConfig): string {
    return this.small !== null ? 'listpack' : 'hashtable';
  }

  /** A deep copy that iterates, scans and draws exactly as this hash does. */
  clone(): HashValue {
    return this.small !== null ? HashValue.restore([...this.small], null) : HashValue.restore(null, cloneDict(this.big!));
  }

  /**
   * A hash from its parts (snapshot loading): the listpack's pairs in order, or the table.
   * Exactly one of the two is given.
   */
  static restore(listpack: Array<[string, string]> | null, table: Dict<string> | null): HashValue {
    const h = new HashValue();
    if (listpack !== null) {
      h.small = new Map(listpack);
    } else {
      h.small = null;
      h.big = table;
    }
    return h;
  }

  /** The hashtable (snapshot writing), or null while listpack-encoded. */
  get table(): Dict<string> | null {
    return this.big;
  }

  get(field: string): string | undefined {
    return this.small !== null ? this.small.get(field) : this.big!.get(field);
  }

  has(field: string): boolean {
    return this.small !== null ? this.small.has(field) : this.big!.has(field);
  }

  /**
   * Sets a field; true if it is new. Converts to a hashtable as Redis's hashTypeSet does: before
   * storing a field or value longer than the listpack limit, after growing past the entry limit.
   */
  set(field: string, value: string, config: EncodingConfig): boolean {
    const small = this.small;
    if (small !== null) {
      const max = config.hashMaxListpackValue;
      if (field.length > max || value.length > max) {
        this.convert();
      } else {
        const isNew = !small.has(field);
        small.set(field, value);
        if (isNew && small.size > config.hashMaxListpackEntries) this.convert();
        return isNew;
      }
    }
    return this.big!.set(field, value);
  }

  delete(field: string): boolean {
    return this.small !== null ? this.small.delete(field) : this.big!.delete(field);
  }

  /** Every field and value, in the encoding's order (insertion order, or bucket order). */
  *entries(): IterableIterator<[string, string]> {
    if (this.small !== null) {
      yield* this.small.entries();
      return;
    }
    for (const e of this.big!.entries()) yield [e.key, e.value];
  }

  /** A uniformly chosen field and value, drawn with the given generator. */
  randomEntry(random: () => number): [string, string] {
    if (this.small !== null) {
      let k = Math.floor(random() * this.small.size);
      for (const e of this.small.entries()) if (k-- === 0) return e;
    }
    const e = this.big!.randomEntry(random)!;
    return [e.key, e.value];
  }

  /** HSCAN's walk over the hashtable (see Dict.scan); null for a listpack (one full pass). */
  get dict(): Dict<string> | null {
    return this.big;
  }

  private convert(): void {
    const d = new Dict<string>();
    for (const [f, v] of this.small!) d.set(f, v);
    this.small = null;
    this.big = d;
  }
}

/** A copy of a table with its layout (size, rehash state, chain order), so it iterates alike. */
export function cloneDict<V>(d: Dict<V>): Dict<V> {
  const layout = d.captureLayout();
  return Dict.restore(layout, layout.keys, layout.keys.map((k) => d.get(k) as V));
}

// ---------------------------------------------------------------------------------------------
// Lookups

function readHash(c: Call, key: string): HashValue | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  if (v === undefined || v instanceof HashValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

function writeHash(c: Call, key: string): HashValue | undefined {
  const v = c.db.getForWrite(key, c.nowMs);
  if (v === undefined || v instanceof HashValue) return v;
  throw new CommandError(ERR_WRONGTYPE);
}

/** Redis's hashTypeLookupWriteOrCreate: the hash at key, created empty if missing. */
function writeOrCreateHash(c: Call, key: string): HashValue {
  let h = writeHash(c, key);
  if (h === undefined) {
    h = new HashValue();
    c.db.set(key, h);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// Writing

/** HSET key field value [field value ...] (replies the new fields) and HMSET (replies OK). */
function hsetGeneric(c: Call, replyOk: boolean): void {
  const argv = c.argv;
  if (argv.length % 2 === 1) throw new CommandError(errArity(argv[0]!));
  const key = argv[1]!;
  const h = writeOrCreateHash(c, key);
  const config = c.engine.config;
  let created = 0;
  for (let j = 2; j < argv.length; j += 2) {
    if (h.set(argv[j]!, argv[j + 1]!, config)) created++;
  }
  c.touch(key);
  if (replyOk) c.out.ok();
  else c.out.integer(created);
}

function hsetnxCommand(c: Call): void {
  const key = c.argv[1]!;
  const h = writeOrCreateHash(c, key);
  if (h.has(c.argv[2]!)) {
    c.out.integer(0);
    return;
  }
  h.set(c.argv[2]!, c.argv[3]!, c.engine.config);
  c.touch(key);
  c.out.integer(1);
}

function hdelCommand(c: Call): void {
  const key = c.argv[1]!;
  const h = writeHash(c, key);
  let deleted = 0;
  if (h !== undefined) {
    for (let j = 2; j < c.argv.length; j++) {
      if (!h.delete(c.argv[j]!)) continue;
      deleted++;
      if (h.size === 0) {
        c.db.delete(key);
        break;
      }
    }
    if (deleted !== 0) c.touch(key);
  }
  c.out.integer(deleted);
}

function hincrbyCommand(c: Call): void {
  const incr = intArg(c.argv[3]!);
  const key = c.argv[1]!;
  const field = c.argv[2]!;
  const h = writeOrCreateHash(c, key);
  const old = h.get(field);
  const value = old === undefined ? 0 : parseInt64(old);
  if (value === null) throw new CommandError(ERR_HASH_NOT_INTEGER);
  const sum = addInt64(value, incr);
  if (sum === null) throw new CommandError(ERR_OVERFLOW);
  h.set(field, String(sum), c.engine.config);
  c.touch(key);
  c.out.integer(sum);
}

/** HINCRBYFLOAT in C long double arithmetic, formatted as INCRBYFLOAT (util/longdouble.ts). */
function hincrbyfloatCommand(c: Call): void {
  const incr = parseLongDouble(c.argv[3]!);
  if (incr === null) throw new CommandError(ERR_NOT_FLOAT);
  if (incr.kind === 'inf') throw new CommandError('ERR value is NaN or Infinity');
  const key = c.argv[1]!;
  const field = c.argv[2]!;
  const h = writeOrCreateHash(c, key);
  const old = h.get(field);
  const value = old === undefined ? LD_ZERO : parseLongDouble(old);
  if (value === null) throw new CommandError(ERR_HASH_NOT_FLOAT);
  const sum = addLongDouble(value, incr);
  if (sum === 'nan' || sum.kind === 'inf') throw new CommandError('ERR increment would produce NaN or Infinity');
  const s = formatLongDouble(sum);
  h.set(field, s, c.engine.config);
  c.touch(key);
  c.out.bulk(s);
}

// ---------------------------------------------------------------------------------------------
// Reading

function hgetCommand(c: Call): void {
  const v = readHash(c, c.argv[1]!)?.get(c.argv[2]!);
  if (v === undefined) c.out.nullBulk();
  else c.out.bulk(v);
}

function hmgetCommand(c: Call): void {
  const h = readHash(c, c.argv[1]!);
  c.out.array(c.argv.length - 2);
  for (let j = 2; j < c.argv.length; j++) {
    const v = h?.get(c.argv[j]!);
    if (v === undefined) c.out.nullBulk();
    else c.out.bulk(v);
  }
}

function hlenCommand(c: Call): void {
  c.out.integer(readHash(c, c.argv[1]!)?.size ?? 0);
}

function hstrlenCommand(c: Call): void {
  c.out.integer(readHash(c, c.argv[1]!)?.get(c.argv[2]!)?.length ?? 0);
}

function hexistsCommand(c: Call): void {
  c.out.integer(readHash(c, c.argv[1]!)?.has(c.argv[2]!) ? 1 : 0);
}

/** HKEYS, HVALS and HGETALL (a map in RESP3). */
function hgetallGeneric(c: Call, keys: boolean, values: boolean): void {
  const h = readHash(c, c.argv[1]!);
  const n = h?.size ?? 0;
  if (keys && values) c.out.map(n);
  else c.out.array(n);
  if (h === undefined) return;
  for (const [f, v] of h.entries()) {
    if (keys) c.out.bulk(f);
    if (values) c.out.bulk(v);
  }
}

/** HRANDFIELD key [count [WITHVALUES]] */
function hrandfieldCommand(c: Call): void {
  const argv = c.argv;
  if (argv.length === 2) {
    const h = readHash(c, argv[1]!);
    if (h === undefined) c.out.nullBulk();
    else c.out.bulk(h.randomEntry(() => c.random())[0]);
    return;
  }
  const l = intArg(argv[2]!);
  if (l === -9223372036854775808n) throw new CommandError(ERR_RANDOM_COUNT_RANGE);
  if (argv.length > 4 || (argv.length === 4 && argv[3]!.toLowerCase() !== 'withvalues')) throw new CommandError(ERR_SYNTAX);
  const withValues = argv.length === 4;
  if (withValues && (BigInt(l) > WITHVALUES_COUNT_MAX || BigInt(l) < -WITHVALUES_COUNT_MAX)) {
    throw new CommandError('ERR value is out of range');
  }
  const h = readHash(c, argv[1]!);
  if (h === undefined || l === 0) {
    c.out.array(0);
    return;
  }
  const random = (): number => c.random();
  // Each pick is [field, value]; RESP3 nests pairs, RESP2 flattens them.
  const nested = withValues && c.out.protocol === 3;
  const reply = (picks: Array<[string, string]>): void => {
    c.out.array(withValues && !nested ? picks.length * 2 : picks.length);
    for (const [f, v] of picks) {
      if (nested) c.out.array(2);
      c.out.bulk(f);
      if (withValues) c.out.bulk(v);
    }
  };
  const size = h.size;
  if (l < 0) {
    // A negative count: that many independent draws, repeats allowed.
    const n = Number(-BigInt(l));
    const picks: Array<[string, string]> = [];
    // A listpack has no O(1) random access: index a copy of its entries instead.
    const pool = h.isListpack ? [...h.entries()] : null;
    for (let i = 0; i < n; i++) picks.push(pool !== null ? pool[Math.floor(random() * pool.length)]! : h.randomEntry(random));
    reply(picks);
    return;
  }
  const count = Number(l);
  if (count >= size) {
    reply([...h.entries()]);
    return;
  }
  reply(sampleUnique(h, count, random));
}

/**
 * `count` distinct entries of h, count < size. A listpack is sampled in one ordered pass (the
 * picks come in hash order, as Redis's lpRandomPairsUnique); a hashtable by random draws when
 * count is small against the size, else by discarding random entries from a full copy.
 */
function sampleUnique(h: HashValue, count: number, random: () => number): Array<[string, string]> {
  const size = h.size;
  if (h.isListpack) {
    const out: Array<[string, string]> = [];
    let remaining = size;
    let needed = count;
    for (const e of h.entries()) {
      if (random() * remaining < needed) {
        out.push(e);
        needed--;
      }
      remaining--;
    }
    return out;
  }
  if (count * 3 > size) {
    const all = [...h.entries()];
    while (all.length > count) {
      const i = Math.floor(random() * all.length);
      all[i] = all[all.length - 1]!;
      all.pop();
    }
    return all;
  }
  const picked = new Map<string, string>();
  while (picked.size < count) {
    const [f, v] = h.randomEntry(random);
    picked.set(f, v);
  }
  return [...picked.entries()];
}

/** HSCAN key cursor [MATCH pattern] [COUNT count] */
function hscanCommand(c: Call): void {
  let cursor = parseScanCursor(c.argv[2]!);
  const h = readHash(c, c.argv[1]!);
  if (h === undefined) {
    c.out.array(2);
    c.out.bulk('0');
    c.out.array(0);
    return;
  }
  const { count, pattern } = parseScanOptions(c.argv, 3);
  const found: string[] = [];
  const dict = h.dict;
  if (dict === null) {
    for (const [f, v] of h.entries()) found.push(f, v);
    cursor = 0;
  } else {
    // As Redis: COUNT counts fields and values, and at most 10 × COUNT buckets are visited.
    const limit = count * 2;
    let iterationsLeft = limit * 10;
    do {
      cursor = dict.scan(cursor, (e) => {
        found.push(e.key, e.value);
      });
    } while (cursor !== 0 && iterationsLeft-- > 0 && found.length < limit);
  }
  let n = found.length;
  if (pattern !== null) {
    n = 0;
    for (let i = 0; i < found.length; i += 2) {
      if (!globMatch(pattern, found[i]!)) continue;
      found[n++] = found[i]!;
      found[n++] = found[i + 1]!;
    }
  }
  c.out.array(2);
  c.out.bulk(String(cursor));
  c.out.array(n);
  for (let i = 0; i < n; i++) c.out.bulk(found[i]!);
}

/**
 * The options of HSCAN, SSCAN and ZSCAN from argv[from]: COUNT (>= 1, default 10) and MATCH
 * ("*" matches everything), as Redis's scanGenericCommand; anything else is a syntax error.
 */
export function parseScanOptions(argv: string[], from: number): { count: number; pattern: string | null } {
  let count = SCAN_COUNT_DEFAULT;
  let pattern: string | null = null;
  for (let i = from; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const hasArg = i + 1 < argv.length;
    if (opt === 'count' && hasArg) {
      const v = intArg(argv[i + 1]!);
      if (v < 1) throw new CommandError(ERR_SYNTAX);
      count = typeof v === 'bigint' ? Number.MAX_SAFE_INTEGER : v;
    } else if (opt === 'match' && hasArg) {
      pattern = argv[i + 1]! === '*' ? null : argv[i + 1]!;
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }
  return { count, pattern };
}

// ---------------------------------------------------------------------------------------------
// The command table

const hash = 'hash';

export const hashCommands: CommandSpec[] = [
  command('hset', -4, ['write', 'denyoom', 'fast'], [1, 1, 1], hash, '2.0.0', 'Set the string value of a hash field', (c) => hsetGeneric(c, false)),
  command('hsetnx', 4, ['write', 'denyoom', 'fast'], [1, 1, 1], hash, '2.0.0', 'Set the value of a hash field, only if the field does not exist', hsetnxCommand),
  command('hget', 3, ['readonly', 'fast'], [1, 1, 1], hash, '2.0.0', 'Get the value of a hash field', hgetCommand),
  command('hmget', -3, ['readonly', 'fast'], [1, 1, 1], hash, '2.0.0', 'Get the values of all the given hash fields', hmgetCommand),
  command('hmset', -4, ['write', 'denyoom', 'fast'], [1, 1, 1], hash, '2.0.0', 'Set multiple hash fields to multiple values', (c) => hsetGeneric(c, true)),
  command('hdel', -3, ['write', 'fast'], [1, 1, 1], hash, '2.0.0', 'Delete one or more hash fields', hdelCommand),
  command('hlen', 2, ['readonly', 'fast'], [1, 1, 1], hash, '2.0.0', 'Get the number of fields in a hash', hlenCommand),
  command('hstrlen', 3, ['readonly', 'fast'], [1, 1, 1], hash, '3.2.0', 'Get the length of the value of a hash field', hstrlenCommand),
  command('hexists', 3, ['readonly', 'fast'], [1, 1, 1], hash, '2.0.0', 'Determine if a hash field exists', hexistsCommand),
  command('hkeys', 2, ['readonly'], [1, 1, 1], hash, '2.0.0', 'Get all the fields in a hash', (c) => hgetallGeneric(c, true, false)),
  command('hvals', 2, ['readonly'], [1, 1, 1], hash, '2.0.0', 'Get all the values in a hash', (c) => hgetallGeneric(c, false, true)),
  command('hgetall', 2, ['readonly'], [1, 1, 1], hash, '2.0.0', 'Get all the fields and values in a hash', (c) => hgetallGeneric(c, true, true)),
  command('hincrby', 4, ['write', 'denyoom', 'fast'], [1, 1, 1], hash, '2.0.0', 'Increment the integer value of a hash field by the given number', hincrbyCommand),
  command('hincrbyfloat', 4, ['write', 'denyoom', 'fast'], [1, 1, 1], hash, '2.6.0', 'Increment the float value of a hash field by the given amount', hincrbyfloatCommand),
  command('hrandfield', -2, ['readonly'], [1, 1, 1], hash, '6.2.0', 'Get one or multiple random fields from a hash', hrandfieldCommand),
  command('hscan', -3, ['readonly'], [1, 1, 1], hash, '2.8.0', 'Incrementally iterate hash fields and associated values', hscanCommand),
];
