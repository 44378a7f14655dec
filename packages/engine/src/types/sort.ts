// SORT and SORT_RO, as Redis 7.0's sort.c: sort the elements of a list, set or sorted set
// numerically or (ALPHA) as binary strings, by themselves or by the values of other keys
// (BY pattern, with "->field" for a hash field), take a LIMIT window, and reply the elements
// or the values of GET patterns ("#" is the element itself), or STORE them as a list.

import { Call, command, CommandSpec } from '../command';
import { CommandError, ERR_NOT_INTEGER, ERR_SYNTAX, ERR_WRONGTYPE } from '../errors';
import type { Value } from '../keyspace';
import { intArg } from '../util/numbers';
import { countLookup } from './string';
import { SortedSet } from './sortedset';
import { parseCDouble } from './strtod';
import { collectionElements, hashField, isSortable, makeList } from './sort-access';

const ERR_SCORES = "ERR One or more scores can't be converted into double";

interface SortItem {
  element: string;
  /** Numeric sort key (0 when the BY key is missing). */
  score: number;
  /** ALPHA sort key from a BY pattern, or null when the BY key is missing. */
  by: string | null;
}

function longArg(s: string): number {
  const v = intArg(s, ERR_NOT_INTEGER);
  return typeof v === 'bigint' ? Number(v) : v;
}

/** A read lookup that counts in the keyspace stats, as Redis's lookupKeyRead. */
function lookupRead(c: Call, key: string): Value | undefined {
  const v = c.db.get(key, c.nowMs);
  countLookup(c, v !== undefined);
  return v;
}

/**
 * Redis's lookupKeyByPattern: "#" is the element itself; otherwise the first "*" is replaced
 * by the element to name a key, whose string value is the result; "key*->field" reads a hash
 * field instead. A pattern without "*", a missing key or one of another type give null.
 */
function lookupByPattern(c: Call, pattern: string, element: string): string | null {
  if (pattern === '#') return element;
  const star = pattern.indexOf('*');
  if (star < 0) return null;
  const arrow = pattern.indexOf('->', star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length;
  const key = pattern.slice(0, star) + element + pattern.slice(star + 1, hasField ? arrow : pattern.length);
  const v = lookupRead(c, key);
  if (v === undefined) return null;
  if (hasField) return hashField(v, pattern.slice(arrow + 2));
  return typeof v === 'string' ? v : null;
}

/** Binary comparison of two strings (memcmp, then length). */
function compareBinary(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortGeneric(c: Call, readonly: boolean): void {
  const argv = c.argv;
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let dontsort = false;
  let sortby: string | null = null;
  let storeKey: string | null = null;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const left = argv.length - j - 1;
    if (opt === 'asc') desc = false;
    else if (opt === 'desc') desc = true;
    else if (opt === 'alpha') alpha = true;
    else if (opt === 'limit' && left >= 2) {
      limitStart = longArg(argv[j + 1]!);
      limitCount = longArg(argv[j + 2]!);
      j += 2;
    } else if (!readonly && opt === 'store' && left >= 1) {
      storeKey = argv[++j]!;
    } else if (opt === 'by' && left >= 1) {
      sortby = argv[++j]!;
      // A constant BY pattern sorts nothing (BY nosort).
      if (!sortby.includes('*')) dontsort = true;
    } else if (opt === 'get' && left >= 1) {
      gets.push(argv[++j]!);
    } else {
      throw new CommandError(ERR_SYNTAX);
    }
  }

  const value = lookupRead(c, argv[1]!);
  if (value !== undefined && !isSortable(value)) throw new CommandError(ERR_WRONGTYPE);
  const type = value === undefined ? 'list' : typeof value === 'string' ? 'string' : value.type;
  // An unsorted set would come out in its internal order: force a deterministic one when storing.
  if (dontsort && type === 'set' && storeKey !== null) {
    dontsort = false;
    alpha = true;
    sortby = null;
  }
  // Redis sorts a sorted set from its skiplist form, converting a small one on the way.
  if (!readonly && value instanceof SortedSet && value.isListpack) {
    c.db.getForWrite(argv[1]!, c.nowMs); // a change, as far as a snapshot in progress is concerned
    value.convertToSkiplist();
  }

  let length = value === undefined ? 0 : collectionElements(value).size;
  let start = Math.min(Math.max(limitStart, 0), length);
  const count = Math.min(Math.max(limitCount, -1), length);
  let end = count < 0 ? length - 1 : start + count - 1;
  if (start >= length) {
    start = length - 1;
    end = length - 2;
  }
  if (end >= length) end = length - 1;

  // Load the elements: an ordered type with nothing to sort gives just the window.
  let elements: string[];
  if (value === undefined) {
    elements = [];
  } else if (dontsort && type !== 'set') {
    const window = Math.max(0, end - start + 1);
    elements = collectionElements(value).range(start, window, desc);
    end -= start;
    start = 0;
    length = elements.length;
  } else {
    elements = collectionElements(value).all();
  }

  const items: SortItem[] = elements.map((element) => ({ element, score: 0, by: null }));
  if (!dontsort) {
    let conversionError = false;
    for (const item of items) {
      let byval: string | null;
      if (sortby !== null) {
        byval = lookupByPattern(c, sortby, item.element);
        if (byval === null) continue;
      } else {
        byval = item.element;
      }
      if (alpha) {
        if (sortby !== null) item.by = byval;
      } else {
        const r = parseCDouble(byval);
        if (r === null || r.erange) conversionError = true;
        else item.score = r.value;
      }
    }
    if (conversionError) throw new CommandError(ERR_SCORES);
    const byPattern = sortby !== null;
    items.sort((a, b) => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : compareBinary(a.element, b.element);
      } else if (byPattern) {
        if (a.by === null || b.by === null) cmp = a.by === b.by ? 0 : a.by === null ? -1 : 1;
        else cmp = compareBinary(a.by, b.by);
      } else {
        cmp = compareBinary(a.element, b.element);
      }
      return desc ? -cmp : cmp;
    });
  }

  const n = Math.max(0, end - start + 1);
  const outputLength = gets.length > 0 ? gets.length * n : n;
  if (storeKey === null) {
    c.out.array(outputLength);
    for (let j = start; j <= end; j++) {
      const element = items[j]!.element;
      if (gets.length === 0) c.out.bulk(element);
      for (const pattern of gets) {
        const v = lookupByPattern(c, pattern, element);
        if (v === null) c.out.nullBulk();
        else c.out.bulk(v);
      }
    }
    return;
  }
  const stored: string[] = [];
  for (let j = start; j <= end; j++) {
    const element = items[j]!.element;
    if (gets.length === 0) stored.push(element);
    for (const pattern of gets) stored.push(lookupByPattern(c, pattern, element) ?? '');
  }
  if (stored.length > 0) {
    c.db.getForWrite(storeKey, c.nowMs);
    c.db.set(storeKey, makeList(stored, c.engine.config));
    c.touch(storeKey);
    c.signalReady(storeKey);
  } else if (c.db.getForWrite(storeKey, c.nowMs) !== undefined) {
    c.db.delete(storeKey);
    c.touch(storeKey);
  }
  c.out.integer(outputLength);
}

function sortCommand(c: Call): void {
  sortGeneric(c, false);
}

function sortroCommand(c: Call): void {
  sortGeneric(c, true);
}

/** Redis's sortGetKeys: the sorted key, and the STORE destination if any. */
function sortKeys(argv: string[]): number[] {
  const keys = [1];
  let store = -1;
  for (let i = 2; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'limit') i += 2;
    else if (opt === 'get' || opt === 'by') i += 1;
    else if (opt === 'store' && i + 1 < argv.length) store = ++i;
  }
  if (store >= 0) keys.push(store);
  return keys;
}

const sortCategories = ['@set', '@sortedset', '@list', '@slow', '@dangerous'];

export const sortCommands: CommandSpec[] = [
  command('sort', -2, ['write', 'denyoom', 'movablekeys'], [1, 1, 1], 'generic', '1.0.0', 'Sort the elements in a list, set or sorted set', sortCommand, {
    getKeys: sortKeys,
    aclCategories: ['@write', ...sortCategories],
    complexity: 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements.',
  }),
  command('sort_ro', -2, ['readonly', 'movablekeys'], [1, 1, 1], 'generic', '7.0.0', 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.', sortroCommand, {
    getKeys: () => [1],
    aclCategories: ['@read', ...sortCategories],
  }),
];
