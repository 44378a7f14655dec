// Node-to-node frames: a u32 big-endian body length, then the body, whose first byte says
// what it is:
//
//   1 hello:   u8 version | varint from | varint to       (first frame of every connection)
//   2 message: a raft Message (every type a peer may receive, with entries and snapshot)
//   3 snapshot begin: a MsgSnap (as 2) whose payload follows in chunks, not inline
//   4 snapshot chunk: bytes of the payload, in order
//   5 snapshot end: varint total payload bytes; the receiver then steps the MsgSnap
//   6 removed: varint index — sent back on a connection whose sender is a node the shard
//              removed (at that log index), instead of accepting its hello
//
// Version 2 (membership changes): a snapshot's metadata ends with its membership context
// (u8 present, then a length-prefixed UTF-8 string); frame 6 is new. A version 1 peer's hello
// is refused with both versions named.
//
// A snapshot's payload is streamed (3, 4..., 5) so that no frame holds a whole snapshot and
// other messages keep flowing between its chunks.
//
// FrameDecoder is a pure parser in the style of pg-protocol: feed() chunks, get whole frames.

import { ConfState, Entry, EntryType, Message, MessageType, NodeId, Snapshot } from '@keel/raft';
import { ByteReader, ByteWriter, CodecError } from './bytes';

export const WIRE_VERSION = 2;
const FRAME_HELLO = 1;
const FRAME_MESSAGE = 2;
const FRAME_SNAP_BEGIN = 3;
const FRAME_SNAP_CHUNK = 4;
const FRAME_SNAP_END = 5;
const FRAME_REMOVED = 6;
/** A snapshot's membership context longer than this is a protocol error. */
const CONTEXT_BYTES_MAX = 1024 * 1024;
/** A frame larger than this is a protocol error (snapshots are to be chunked below it). */
export const FRAME_BYTES_MAX = 256 * 1024 * 1024;

const MESSAGE_TYPES: MessageType[] = [
  'MsgHup', 'MsgBeat', 'MsgUnreachable', 'MsgSnapStatus', 'MsgCheckQuorum',
  'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader',
  'MsgApp', 'MsgAppResp', 'MsgSnap', 'MsgHeartbeat', 'MsgHeartbeatResp',
  'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgTimeoutNow',
];
const MESSAGE_TYPE_CODES = new Map<MessageType, number>(MESSAGE_TYPES.map((t, i) => [t, i]));
const ENTRY_TYPES: EntryType[] = ['normal', 'confChange'];

export interface Hello {
  version: number;
  from: NodeId;
  to: NodeId;
}

export type Frame =
  | { kind: 'hello'; hello: Hello }
  | { kind: 'message'; message: Message }
  | { kind: 'snapBegin'; message: Message }
  | { kind: 'snapChunk'; data: Uint8Array }
  | { kind: 'snapEnd'; totalBytes: number }
  | { kind: 'removed'; index: number };

/** Tells a removed node that it is not a member any more (as of log index `index`). */
export function encodeRemoved(index: number): Buffer {
  const w = new ByteWriter(16);
  w.u32(0);
  w.u8(FRAME_REMOVED);
  w.varint(index);
  return sealFrame(w);
}

/** The first frame of a streamed snapshot: the MsgSnap, with metadata only. */
export function encodeSnapBegin(m: Message): Buffer {
  if (m.type !== 'MsgSnap' || m.snapshot === undefined) throw new CodecError('a snapshot stream begins with a MsgSnap');
  const f = encodeMessage({ ...m, snapshot: { metadata: m.snapshot.metadata, data: new Uint8Array(0) } });
  f[4] = FRAME_SNAP_BEGIN;
  return f;
}

export function encodeSnapChunk(data: Uint8Array): Buffer {
  const w = new ByteWriter(data.byteLength + 16);
  w.u32(0);
  w.u8(FRAME_SNAP_CHUNK);
  w.bytes(data);
  return sealFrame(w);
}

export function encodeSnapEnd(totalBytes: number): Buffer {
  const w = new ByteWriter(16);
  w.u32(0);
  w.u8(FRAME_SNAP_END);
  w.varint(totalBytes);
  return sealFrame(w);
}

export function encodeHello(h: Hello): Buffer {
  const w = new ByteWriter(32);
  w.u32(0);
  w.u8(FRAME_HELLO);
  w.u8(h.version);
  w.varint(h.from);
  w.varint(h.to);
  return sealFrame(w);
}

export function encodeMessage(m: Message): Buffer {
  let size = 64 + m.context.byteLength;
  for (const e of m.entries) size += e.data.byteLength + 24;
  if (m.snapshot) size += m.snapshot.data.byteLength + 64;
  const w = new ByteWriter(size);
  w.u32(0);
  w.u8(FRAME_MESSAGE);
  const code = MESSAGE_TYPE_CODES.get(m.type);
  if (code === undefined) throw new CodecError(`unknown message type ${m.type}`);
  w.u8(code);
  w.varint(m.to);
  w.varint(m.from);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.u8(m.reject ? 1 : 0);
  w.varint(m.rejectHint);
  w.bytes(m.context);
  w.varint(m.entries.length);
  for (const e of m.entries) {
    w.varint(e.term);
    w.varint(e.index);
    w.u8(e.type === 'normal' ? 0 : 1);
    w.bytes(e.data);
  }
  if (m.snapshot === undefined) {
    w.u8(0);
  } else {
    w.u8(1);
    encodeSnapshot(w, m.snapshot);
  }
  return sealFrame(w);
}

function sealFrame(w: ByteWriter): Buffer {
  const body = w.pos - 4;
  if (body > FRAME_BYTES_MAX) throw new CodecError(`frame of ${body} bytes exceeds ${FRAME_BYTES_MAX}`);
  w.buf.writeUInt32BE(body, 0);
  return w.view();
}

function encodeSnapshot(w: ByteWriter, s: Snapshot): void {
  w.varint(s.metadata.index);
  w.varint(s.metadata.term);
  const cs = s.metadata.confState;
  for (const list of [cs.voters, cs.learners, cs.votersOutgoing, cs.learnersNext]) {
    w.varint(list.length);
    for (const id of list) w.varint(id);
  }
  w.u8(cs.autoLeave ? 1 : 0);
  w.bytes(s.data);
  const ctx = s.metadata.context;
  if (ctx === undefined) {
    w.u8(0);
  } else {
    w.u8(1);
    w.bytes(Buffer.from(ctx, 'utf8'));
  }
}

function decodeSnapshot(r: ByteReader): Snapshot {
  const index = r.varint();
  const term = r.varint();
  const lists: NodeId[][] = [];
  for (let k = 0; k < 4; k++) {
    const n = r.count();
    const ids: NodeId[] = [];
    for (let i = 0; i < n; i++) ids.push(r.varint());
    lists.push(ids);
  }
  const autoLeave = bool(r.u8());
  const confState: ConfState = { voters: lists[0]!, learners: lists[1]!, votersOutgoing: lists[2]!, learnersNext: lists[3]!, autoLeave };
  const data = r.bytes();
  const s: Snapshot = { metadata: { index, term, confState }, data };
  if (bool(r.u8())) {
    const ctx = r.bytes();
    if (ctx.byteLength > CONTEXT_BYTES_MAX) throw new CodecError(`snapshot context of ${ctx.byteLength} bytes exceeds ${CONTEXT_BYTES_MAX}`);
    s.metadata.context = Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('utf8');
  }
  return s;
}

function bool(b: number): boolean {
  if (b > 1) throw new CodecError(`bad boolean ${b}`);
  return b === 1;
}

/** Decodes one frame body (without its length prefix). */
export function decodeFrame(body: Uint8Array): Frame {
  const r = new ByteReader(body);
  const kind = r.u8();
  if (kind === FRAME_HELLO) {
    const hello = { version: r.u8(), from: r.varint(), to: r.varint() };
    r.expectEnd();
    return { kind: 'hello', hello };
  }
  if (kind === FRAME_SNAP_CHUNK) {
    const data = r.bytes();
    r.expectEnd();
    return { kind: 'snapChunk', data };
  }
  if (kind === FRAME_SNAP_END) {
    const totalBytes = r.varint();
    r.expectEnd();
    return { kind: 'snapEnd', totalBytes };
  }
  if (kind === FRAME_REMOVED) {
    const index = r.varint();
    r.expectEnd();
    return { kind: 'removed', index };
  }
  if (kind !== FRAME_MESSAGE && kind !== FRAME_SNAP_BEGIN) throw new CodecError(`unknown frame kind ${kind}`);
  const type = MESSAGE_TYPES[r.u8()];
  if (type === undefined) throw new CodecError('unknown message type');
  const to = r.varint();
  const from = r.varint();
  const term = r.varint();
  const logTerm = r.varint();
  const index = r.varint();
  const commit = r.varint();
  const reject = bool(r.u8());
  const rejectHint = r.varint();
  const context = r.bytes();
  const n = r.count(4);
  const entries: Entry[] = [];
  for (let i = 0; i < n; i++) {
    const eTerm = r.varint();
    const eIndex = r.varint();
    const eType = ENTRY_TYPES[r.u8()];
    if (eType === undefined) throw new CodecError('unknown entry type');
    entries.push({ term: eTerm, index: eIndex, type: eType, data: r.bytes() });
  }
  const snapshot = bool(r.u8()) ? decodeSnapshot(r) : undefined;
  r.expectEnd();
  const message: Message = { type, to, from, term, logTerm, index, entries, commit, snapshot, reject, rejectHint, context };
  if (kind === FRAME_SNAP_BEGIN) {
    if (type !== 'MsgSnap' || snapshot === undefined) throw new CodecError('a snapshot stream must begin with a MsgSnap');
    return { kind: 'snapBegin', message };
  }
  return { kind: 'message', message };
}

/**
 * Splits a byte stream into frame bodies. Keeps leftover bytes between chunks; a large frame
 * is gathered from its chunks with one copy at the end.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxFrameBytes = FRAME_BYTES_MAX) {}

  /** Calls onFrame for each whole frame body; throws CodecError on a bad length. */
  feed(chunk: Buffer, onFrame: (body: Buffer) => void): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 4) return;
      const head = this.chunks[0]!.length >= 4 ? this.chunks[0]! : this.merge();
      const len = head.readUInt32BE(0);
      if (len > this.maxFrameBytes) throw new CodecError(`frame of ${len} bytes exceeds ${this.maxFrameBytes}`);
      if (this.buffered < 4 + len) return;
      const buf = this.chunks.length === 1 ? this.chunks[0]! : this.merge();
      const body = buf.subarray(4, 4 + len);
      const rest = buf.subarray(4 + len);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      onFrame(body);
    }
  }

  private merge(): Buffer {
    const b = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [b];
    return b;
  }
}
