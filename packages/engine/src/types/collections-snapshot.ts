// How lists, hashes and sets are written into an engine snapshot and read back (TypeCodecs for
// snapshot/snapshot.ts). Each restores the same encoding, order and table layout, so a
// restored value iterates, scans and draws random members exactly as the original.
//
//   list:  varint n; n × str (head first)
//   hash:  u8 0 (listpack): varint n; n × (str field, str value)   — insertion order
//          u8 1 (hashtable): the table with its layout (writeDict), each (str field, str value)
//   set:   u8 0 (intset): varint n; n × str (the integers, ascending)
//          u8 1 (hashtable): the table with its layout (writeDict), each str member

import { readDict, registerTypeCodec, TypeCodec, writeDict } from '../snapshot/snapshot';
import { Int64, parseInt64 } from '../util/numbers';
import { HashValue } from './hash';
import { ListValue } from './list';
import { Quicklist } from './quicklist';
import { SetValue } from './set';
import { zsetSnapshotCodec } from './zset-snapshot';

const listCodec: TypeCodec = {
  type: 'list',
  tag: 2,
  write(w, v) {
    const items = (v as ListValue).items;
    w.varint(items.length);
    for (const item of items.values()) w.str(item);
  },
  read(r) {
    // The node layout is not part of the snapshot: the restored list packs its elements with
    // the default limits, which changes no reply.
    const n = r.varint();
    const items = new Quicklist();
    for (let i = 0; i < n; i++) items.pushBack(r.str());
    return new ListValue(items);
  },
};

const hashCodec: TypeCodec = {
  type: 'hash',
  tag: 3,
  write(w, v) {
    const h = v as HashValue;
    const table = h.table;
    if (table === null) {
      w.u8(0);
      w.varint(h.size);
      for (const [f, val] of h.entries()) {
        w.str(f);
        w.str(val);
      }
    } else {
      w.u8(1);
      writeDict(w, table, (out, f, val) => {
        out.str(f);
        out.str(val);
      });
    }
  },
  read(r) {
    if (r.u8() === 0) {
      const n = r.varint();
      const pairs: Array<[string, string]> = [];
      for (let i = 0; i < n; i++) pairs.push([r.str(), r.str()]);
      return HashValue.restore(pairs, null);
    }
    return HashValue.restore(null, readDict(r, (rr) => [rr.str(), rr.str()]));
  },
};

const setCodec: TypeCodec = {
  type: 'set',
  tag: 4,
  write(w, v) {
    const s = v as SetValue;
    const ints = s.intset;
    if (ints !== null) {
      w.u8(0);
      w.varint(ints.length);
      for (const i of ints) w.str(String(i));
    } else {
      w.u8(1);
      writeDict(w, s.table!, (out, m) => out.str(m));
    }
  },
  read(r) {
    if (r.u8() === 0) {
      const n = r.varint();
      const ints: Int64[] = new Array<Int64>(n);
      for (let i = 0; i < n; i++) {
        const x = parseInt64(r.str());
        if (x === null) throw new Error('snapshot: an intset member is not an integer');
        ints[i] = x;
      }
      return SetValue.restore(ints, null);
    }
    return SetValue.restore(null, readDict(r, (rr) => [rr.str(), null]));
  },
};

let registered = false;

/** Registers the codecs of every collection type (idempotent). */
export function registerCollectionCodecs(): void {
  if (registered) return;
  registered = true;
  for (const c of [listCodec, hashCodec, setCodec, zsetSnapshotCodec]) registerTypeCodec(c);
}

