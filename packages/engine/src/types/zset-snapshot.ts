// How a sorted set is written into an engine snapshot and read back (a TypeCodec for
// snapshot/snapshot.ts), so that a restored set is indistinguishable from the original: the
// same encoding, elements, skip list shape (which lex ranges over mixed scores depend on),
// level generator state (so later inserts draw the same levels) and dict layout (ZSCAN order).
//
//   u8 encoding (0 listpack, 1 skiplist); varint n; n × (str member, double score)
//   skiplist only: n × u8 level; varint generator state; the dict (writeDict) of members

import type { Engine } from '../engine';
import type { TypedValue } from '../keyspace';
import { RecordReader, RecordWriter } from '../snapshot/codec';
import { readDict, TypeCodec, writeDict } from '../snapshot/snapshot';
import { SortedSet } from './sortedset';

/** The snapshot tag of sorted sets (the codec is registered with the others by the engine). */
export const ZSET_SNAPSHOT_TAG = 5;

function write(w: RecordWriter, v: TypedValue): void {
  const state = (v as SortedSet).exportState();
  w.u8(state.skiplist === null ? 0 : 1);
  w.varint(state.members.length);
  for (let i = 0; i < state.members.length; i++) {
    w.str(state.members[i]!);
    w.double(state.scores[i]!);
  }
  if (state.skiplist === null) return;
  for (const level of state.skiplist.levels) w.u8(level);
  w.varint(state.skiplist.seed);
  writeDict(w, state.skiplist.dict, (out, member) => out.str(member));
}

function read(r: RecordReader, _engine: Engine): TypedValue {
  const encoding = r.u8();
  const n = r.varint();
  const members: string[] = new Array<string>(n);
  const scores: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    members[i] = r.str();
    scores[i] = r.double();
  }
  if (encoding === 0) return SortedSet.importState(members, scores, null);
  const levels: number[] = new Array<number>(n);
  for (let i = 0; i < n; i++) levels[i] = r.u8();
  const seed = r.varint();
  return SortedSet.importState(members, scores, {
    levels,
    seed,
    dictFrom: (nodeOf) => readDict(r, (rr) => {
      const member = rr.str();
      return [member, nodeOf(member)];
    }),
  });
}

export const zsetSnapshotCodec: TypeCodec = { type: 'zset', tag: ZSET_SNAPSHOT_TAG, write, read };
