// The bytes in LevelDB. Keys: 'e' + 8-byte big-endian index for entries (so a range of the
// log is one ordered scan), 'm' + name for metadata. Every value starts with a CRC-32 of
// the rest, so a damaged value is detected when it is read, not used.
//
// entry value:  crc32 u32 | format u8 (1) | type u8 (0 normal, 1 confChange) | term u64 | index u64 | data
// state value:  crc32 u32 | format u8 (1) | JSON of WalState

import { ConfState, Entry, HardState } from '@keel/raft';
import { crc32 } from './crc32';

export const ENTRY_PREFIX = 0x65; // 'e'
export const FORMAT = 1;
const ENTRY_HEADER_BYTES = 22;

export const STATE_KEY: Buffer = Buffer.from('mstate', 'latin1');
/** Lower and upper bounds of the entry key space. */
export const ENTRY_KEYS_GTE: Buffer = Buffer.from([ENTRY_PREFIX]);
export const ENTRY_KEYS_LT: Buffer = Buffer.from([ENTRY_PREFIX + 1]);

/** Everything the log needs besides its entries; written in every batch (atomically with them). */
export interface WalState {
  hardState: HardState;
  /** Index and term of the last entry removed from the log (0, 0 if none): firstIndex - 1. */
  truncIndex: number;
  truncTerm: number;
  /** Index of the last entry of the log; entries with a larger index are stale (deleted lazily). */
  lastIndex: number;
  /** The snapshot the node considers current (0 if none). */
  snapIndex: number;
  snapTerm: number;
  /** The latest membership the application reported, with the index it is as of. */
  conf?: { index: number; confState: ConfState };
}

export function initialWalState(): WalState {
  return { hardState: { term: 0, vote: 0, commit: 0 }, truncIndex: 0, truncTerm: 0, lastIndex: 0, snapIndex: 0, snapTerm: 0 };
}

function writeU64(b: Buffer, v: number, off: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a u64-safe integer: ${v}`);
  b.writeUInt32BE(Math.floor(v / 0x100000000), off);
  b.writeUInt32BE(v >>> 0, off + 4);
}

function readU64(b: Uint8Array, off: number): number {
  const view = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return view.readUInt32BE(off) * 0x100000000 + view.readUInt32BE(off + 4);
}

export function entryKey(index: number): Buffer {
  const k = Buffer.allocUnsafe(9);
  k[0] = ENTRY_PREFIX;
  writeU64(k, index, 1);
  return k;
}

/** The index of an entry key, or undefined if `k` is not one. */
export function entryKeyIndex(k: Uint8Array): number | undefined {
  if (k.length !== 9 || k[0] !== ENTRY_PREFIX) return undefined;
  return readU64(k, 1);
}

export function encodeEntry(e: Entry): Buffer {
  const b = Buffer.allocUnsafe(ENTRY_HEADER_BYTES + e.data.byteLength);
  b[4] = FORMAT;
  b[5] = e.type === 'confChange' ? 1 : 0;
  writeU64(b, e.term, 6);
  writeU64(b, e.index, 14);
  b.set(e.data, ENTRY_HEADER_BYTES);
  b.writeUInt32BE(crc32(b.subarray(4)), 0);
  return b;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

/** Decodes and verifies an entry value; `expectIndex` must match the index inside it. */
export function decodeEntry(v: Uint8Array, expectIndex: number): Decoded<Entry> {
  if (v.length < ENTRY_HEADER_BYTES) return { ok: false, reason: `value too short (${v.length} bytes)` };
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const want = b.readUInt32BE(0);
  const got = crc32(b.subarray(4));
  if (want !== got) return { ok: false, reason: `checksum mismatch (stored ${hex(want)}, computed ${hex(got)})` };
  if (b[4] !== FORMAT) return { ok: false, reason: `unknown entry format ${b[4]}` };
  if (b[5] > 1) return { ok: false, reason: `unknown entry type ${b[5]}` };
  const index = readU64(b, 14);
  if (index !== expectIndex) return { ok: false, reason: `entry under key ${expectIndex} says index ${index}` };
  // Copy the payload: LevelDB's buffer may be reused and callers keep entries long.
  const data = new Uint8Array(b.length - ENTRY_HEADER_BYTES);
  data.set(b.subarray(ENTRY_HEADER_BYTES));
  return { ok: true, value: { term: readU64(b, 6), index, type: b[5] === 1 ? 'confChange' : 'normal', data } };
}

export function encodeState(s: WalState): Buffer {
  const json = Buffer.from(JSON.stringify(s), 'utf8');
  const b = Buffer.allocUnsafe(5 + json.length);
  b[4] = FORMAT;
  json.copy(b, 5);
  b.writeUInt32BE(crc32(b.subarray(4)), 0);
  return b;
}

export function decodeState(v: Uint8Array): Decoded<WalState> {
  if (v.length < 5) return { ok: false, reason: `state record too short (${v.length} bytes)` };
  const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  const want = b.readUInt32BE(0);
  const got = crc32(b.subarray(4));
  if (want !== got) return { ok: false, reason: `state record checksum mismatch (stored ${hex(want)}, computed ${hex(got)})` };
  if (b[4] !== FORMAT) return { ok: false, reason: `unknown state format ${b[4]}` };
  let s: WalState;
  try {
    s = JSON.parse(b.subarray(5).toString('utf8')) as WalState;
  } catch (e) {
    return { ok: false, reason: `state record does not parse: ${(e as Error).message}` };
  }
  const nums = [s.hardState?.term, s.hardState?.vote, s.hardState?.commit, s.truncIndex, s.truncTerm, s.lastIndex, s.snapIndex, s.snapTerm];
  if (!nums.every((n) => Number.isSafeInteger(n) && (n as number) >= 0)) return { ok: false, reason: 'state record has invalid fields' };
  if (s.lastIndex < s.truncIndex) return { ok: false, reason: `state record: last index ${s.lastIndex} below first index ${s.truncIndex + 1}` };
  return { ok: true, value: s };
}

export function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}
