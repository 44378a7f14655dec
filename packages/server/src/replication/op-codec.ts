// The payload of a normal log entry: one WriteOp with the leader's time and seed, which every
// replica passes to Engine.apply so that all reach the same state (DESIGN.md, Determinism).
//
//   u8 version (1) | u8 kind | f64 timeMs | u32 seed | varint db | body
//   command: varint argc, argc x str
//   exec:    varint n, n x (varint argc, argc x str) | varint w, w x (varint db, str key, varint since, u8 existed)
//   expire:  varint n, n x str
//
// str is a varint length and the bytes of a binary string (one char per byte).

import type { WatchToken, WriteOp } from '@keel/engine';
import { ByteReader, ByteWriter, CodecError } from './bytes';

const VERSION = 1;
const KIND_COMMAND = 1;
const KIND_EXEC = 2;
const KIND_EXPIRE = 3;

/** A write as it is stored in an entry. */
export interface LoggedOp {
  op: WriteOp;
  /** The leader's time when it proposed the entry (ms since the epoch). */
  timeMs: number;
  /** The seed of the entry's random generator (SPOP, SRANDMEMBER, ...). */
  seed: number;
}

/** Reused between calls; encodeOp returns a copy of what it wrote. */
const scratch = new ByteWriter(4096);

export function encodeOp(op: WriteOp, timeMs: number, seed: number): Uint8Array {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new CodecError(`bad entry time ${timeMs}`);
  const w = scratch;
  w.pos = 0;
  w.u8(VERSION);
  switch (op.kind) {
    case 'command':
      w.u8(KIND_COMMAND);
      header(w, timeMs, seed, op.db);
      argvOut(w, op.argv);
      break;
    case 'exec':
      w.u8(KIND_EXEC);
      header(w, timeMs, seed, op.db);
      w.varint(op.commands.length);
      for (const argv of op.commands) argvOut(w, argv);
      w.varint(op.watches.length);
      for (const t of op.watches) {
        w.varint(t.db);
        w.str(t.key);
        w.varint(t.since);
        w.u8(t.existed ? 1 : 0);
      }
      break;
    case 'expire':
      w.u8(KIND_EXPIRE);
      header(w, timeMs, seed, op.db);
      argvOut(w, op.keys);
      break;
  }
  const out = w.finish();
  // Keep the scratch buffer from pinning one huge value's memory.
  if (w.buf.length > 1 << 20) scratch.buf = Buffer.allocUnsafe(4096);
  return out;
}

function header(w: ByteWriter, timeMs: number, seed: number, db: number): void {
  w.f64(timeMs);
  w.u32(seed >>> 0);
  w.varint(db);
}

function argvOut(w: ByteWriter, argv: string[]): void {
  w.varint(argv.length);
  for (const a of argv) w.str(a);
}

function argvIn(r: ByteReader): string[] {
  const n = r.count();
  const argv = new Array<string>(n);
  for (let i = 0; i < n; i++) argv[i] = r.str();
  return argv;
}

export function decodeOp(data: Uint8Array): LoggedOp {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== VERSION) throw new CodecError(`unknown op version ${version}`);
  const kind = r.u8();
  const timeMs = r.f64();
  const seed = r.u32();
  const db = r.varint();
  let op: WriteOp;
  switch (kind) {
    case KIND_COMMAND:
      op = { kind: 'command', db, argv: argvIn(r) };
      break;
    case KIND_EXEC: {
      const n = r.count();
      const commands: string[][] = [];
      for (let i = 0; i < n; i++) commands.push(argvIn(r));
      const nw = r.count(4);
      const watches: WatchToken[] = [];
      for (let i = 0; i < nw; i++) {
        const wdb = r.varint();
        const key = r.str();
        const since = r.varint();
        const existed = r.u8();
        if (existed > 1) throw new CodecError(`bad watch flag ${existed}`);
        watches.push({ db: wdb, key, since, existed: existed === 1 });
      }
      op = { kind: 'exec', db, commands, watches };
      break;
    }
    case KIND_EXPIRE:
      op = { kind: 'expire', db, keys: argvIn(r) };
      break;
    default:
      throw new CodecError(`unknown op kind ${kind}`);
  }
  r.expectEnd();
  return { op, timeMs, seed };
}
