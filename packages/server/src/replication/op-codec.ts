// The payload of a normal log entry: the writes the leader proposed in one event-loop turn,
// each a WriteOp with the leader's time and seed, which every replica passes to Engine.apply
// so that all reach the same state (DESIGN.md, Determinism). One entry per batch rather than
// per write: raft, the WAL and LevelDB then pay their per-entry costs (an entry object, a
// key, a checksum, a cache slot, an append message item) once per batch.
//
//   batch:  u8 version (2) | u32 n | n x (varint length, op)
//   op:     u8 version (1) | u8 kind | f64 timeMs | u32 seed | varint db | body
//   command: varint argc, argc x str
//   exec:    varint n, n x (varint argc, argc x str) | varint w, w x (varint db, str key, varint since, u8 existed)
//   expire:  varint n, n x str
//
// str is a varint length and the bytes of a binary string (one char per byte).

import type { WatchToken, WriteOp } from '@keel/engine';
import { ByteReader, ByteWriter, CodecError } from './bytes';

const VERSION = 1;
const BATCH_VERSION = 2;
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

/** One op, alone (an entry of version 1; batches are written by OpBatch). */
export function encodeOp(op: WriteOp, timeMs: number, seed: number): Uint8Array {
  scratch.pos = 0;
  writeOp(scratch, op, timeMs, seed);
  const out = scratch.finish();
  // Keep the scratch buffer from pinning one huge value's memory.
  if (scratch.buf.length > 1 << 20) scratch.buf = Buffer.allocUnsafe(4096);
  return out;
}

/**
 * The writes of one proposal, encoded as they are submitted into one buffer: `add` each op,
 * then `take` the entry's payload (a copy; the batch is empty again).
 */
export class OpBatch {
  private readonly w = new ByteWriter(4096);
  private n = 0;

  constructor() {
    this.reset();
  }

  get count(): number {
    return this.n;
  }

  get bytes(): number {
    return this.w.pos;
  }

  add(op: WriteOp, timeMs: number, seed: number): void {
    const start = this.w.pos;
    // A length of up to 5 varint bytes is reserved in front of the op, then moved up to it.
    this.w.pos += 5;
    try {
      writeOp(this.w, op, timeMs, seed);
    } catch (e) {
      this.w.pos = start;
      throw e;
    }
    const len = this.w.pos - start - 5;
    const buf = this.w.buf;
    let at = start;
    let v = len;
    while (v >= 0x80) {
      buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[at++] = v;
    if (at !== start + 5) buf.copyWithin(at, start + 5, start + 5 + len);
    this.w.pos = at + len;
    this.n++;
  }

  take(): Buffer {
    this.w.buf.writeUInt32BE(this.n, 1);
    const out = this.w.finish();
    if (this.w.buf.length > 1 << 22) this.w.buf = Buffer.allocUnsafe(4096);
    this.reset();
    return out;
  }

  private reset(): void {
    this.w.pos = 0;
    this.w.u8(BATCH_VERSION);
    this.w.u32(0);
    this.n = 0;
  }
}

function writeOp(w: ByteWriter, op: WriteOp, timeMs: number, seed: number): void {
  if (!Number.isFinite(timeMs) || timeMs < 0) throw new CodecError(`bad entry time ${timeMs}`);
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

/** The ops of an entry's payload: a batch (version 2), or one op alone (version 1). */
export function decodeOps(data: Uint8Array): LoggedOp[] {
  if (data.byteLength === 0) throw new CodecError('an empty op payload');
  if (data[0] !== BATCH_VERSION) return [decodeOp(data)];
  const r = new ByteReader(data);
  r.u8();
  const n = r.u32();
  if (n === 0 || n * 2 > r.remaining) throw new CodecError(`a batch of ${n} ops in ${r.remaining} bytes`);
  const ops = new Array<LoggedOp>(n);
  for (let i = 0; i < n; i++) {
    const len = r.varint();
    if (len > r.remaining) throw new CodecError(`truncated: op ${i} of ${len} bytes, ${r.remaining} left`);
    ops[i] = decodeOp(data, r.pos, r.pos + len);
    r.pos += len;
  }
  r.expectEnd();
  return ops;
}

/** How many ops an entry's payload holds, without decoding them. */
export function opCount(data: Uint8Array): number {
  return data.byteLength >= 5 && data[0] === BATCH_VERSION ? ((data[1]! << 24) | (data[2]! << 16) | (data[3]! << 8) | data[4]!) >>> 0 : 1;
}

/** One op (version 1), alone in `data` or in its range [start, end). */
export function decodeOp(data: Uint8Array, start = 0, end = data.byteLength): LoggedOp {
  const r = new ByteReader(data, start, end);
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
