// What SORT reads of the other types, through their value classes' public methods: the
// elements of a list, set or sorted set, a hash field for "->" patterns, and a new list for
// STORE. Kept apart so that sort.ts depends on one small surface.

import type { EncodingConfig, Value } from '../keyspace';
import { HashValue } from './hash';
import { ListValue } from './list';
import { nodeLimits, Quicklist } from './quicklist';
import { SetValue } from './set';
import { SortedSet } from './sortedset';

/** The elements of a sortable value, in its own order. */
export interface ElementSource {
  readonly size: number;
  /** Every element, in the value's order (a set's is its iteration order). */
  all(): string[];
  /** Up to n elements from position start, counted from the head, or from the tail if reverse. */
  range(start: number, n: number, reverse: boolean): string[];
}

export function isSortable(v: Value): boolean {
  if (typeof v === 'string') return false;
  return v.type === 'zset' || v.type === 'list' || v.type === 'set';
}

function zsetElements(z: SortedSet): ElementSource {
  return {
    size: z.size,
    all: () => {
      const out: string[] = [];
      z.range(0, z.size, false, (m) => {
        out.push(m);
      });
      return out;
    },
    range: (start, n, reverse) => {
      const out: string[] = [];
      z.range(reverse ? z.size - 1 - start : start, n, reverse, (m) => {
        out.push(m);
      });
      return out;
    },
  };
}

function listElements(list: ListValue): ElementSource {
  const items = list.items;
  return {
    size: items.length,
    all: () => items.toArray(),
    range: (start, n, reverse) => {
      const out: string[] = [];
      if (start < 0 || start >= items.length || n <= 0) return out;
      const cur = items.cursor(reverse ? items.length - 1 - start : start);
      for (let i = 0; i < n && start + i < items.length; i++, reverse ? cur.prev() : cur.next()) out.push(cur.value());
      return out;
    },
  };
}

function setElements(set: SetValue): ElementSource {
  return {
    size: set.size,
    all: () => [...set.members()],
    range: (start, n) => [...set.members()].slice(start, start + n),
  };
}

export function collectionElements(v: Value): ElementSource {
  if (v instanceof SortedSet) return zsetElements(v);
  if (v instanceof ListValue) return listElements(v);
  if (v instanceof SetValue) return setElements(v);
  throw new Error(`SORT cannot read a ${typeof v === 'string' ? 'string' : v.type}`);
}

/** The value of a hash field, or null if v is not a hash or has no such field. */
export function hashField(v: Value, field: string): string | null {
  if (!(v instanceof HashValue)) return null;
  return v.get(field) ?? null;
}

/** A new list holding the items, head first (SORT ... STORE). */
export function makeList(items: string[], config: EncodingConfig): Value {
  return new ListValue(Quicklist.from(items, nodeLimits(config.listMaxListpackSize)));
}
