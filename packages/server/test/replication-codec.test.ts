// The replication codecs: log entry payloads (op-codec) and node-to-node frames (wire).

import { WriteOp } from '@keel/engine';
import { Message, MessageType, makeMessage, confStateOf } from '@keel/raft';
import { decodeOp, decodeOps, encodeOp, OpBatch, opCount } from '../src/replication/op-codec';
import { decodeFrame, encodeHello, encodeMessage, encodeRemoved, FrameDecoder } from '../src/replication/wire';
import { CodecError } from '../src/replication/bytes';

const allBytes = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));

function roundTrip(op: WriteOp, timeMs: number, seed: number): void {
  const data = encodeOp(op, timeMs, seed);
  const back = decodeOp(data);
  expect(back).toEqual({ op, timeMs, seed: seed >>> 0 });
}

describe('op-codec', () => {
  test('a command with binary arguments', () => {
    roundTrip({ kind: 'command', db: 0, argv: ['SET', 'k', 'v'] }, 1_700_000_000_123, 42);
    roundTrip({ kind: 'command', db: 15, argv: ['SET', allBytes, allBytes + allBytes, ''] }, 0, 0xffffffff);
    roundTrip({ kind: 'command', db: 3, argv: ['APPEND', 'big', 'x'.repeat(300_000)] }, 1.5, 7);
  });

  test('EXEC with watch tokens, and an aborted-watch-shaped batch', () => {
    roundTrip(
      {
        kind: 'exec',
        db: 2,
        commands: [['INCR', 'a'], ['SELECT', '5'], ['LPUSH', allBytes, '\x00\xff'], []],
        watches: [
          { db: 2, key: 'a', since: 1, existed: true },
          { db: 9, key: allBytes, since: 2 ** 40 + 3, existed: false },
        ],
      },
      1_700_000_000_000,
      123456789,
    );
    roundTrip({ kind: 'exec', db: 0, commands: [], watches: [] }, 5, 5);
  });

  test('expire ops', () => {
    roundTrip({ kind: 'expire', db: 1, keys: ['a', 'b', allBytes] }, 99, 1);
    roundTrip({ kind: 'expire', db: 0, keys: [] }, 99, 1);
  });

  test('the encoding is compact and independent of previous calls', () => {
    const a = encodeOp({ kind: 'command', db: 0, argv: ['SET', 'k', 'v'] }, 1, 1);
    expect(a.byteLength).toBeLessThanOrEqual(1 + 1 + 8 + 4 + 1 + 1 + 4 + 2 + 2);
    encodeOp({ kind: 'command', db: 0, argv: ['SET', 'other', 'value'] }, 2, 2);
    expect(decodeOp(a).op).toEqual({ kind: 'command', db: 0, argv: ['SET', 'k', 'v'] });
  });

  test('truncated or corrupt payloads are refused, never half-decoded', () => {
    const data = encodeOp({ kind: 'exec', db: 0, commands: [['SET', 'k', 'v']], watches: [{ db: 0, key: 'k', since: 5, existed: true }] }, 10, 10);
    for (let n = 0; n < data.byteLength; n++) expect(() => decodeOp(data.subarray(0, n))).toThrow(CodecError);
    const extra = new Uint8Array(data.byteLength + 1);
    extra.set(data);
    expect(() => decodeOp(extra)).toThrow(CodecError);
    const badVersion = Uint8Array.from(data);
    badVersion[0] = 9;
    expect(() => decodeOp(badVersion)).toThrow(/version/);
  });
});

describe('op batches (one entry, the writes of one proposal)', () => {
  const ops: [WriteOp, number, number][] = [
    [{ kind: 'command', db: 0, argv: ['SET', 'k', 'v'] }, 1_700_000_000_123, 42],
    [{ kind: 'command', db: 15, argv: ['SET', allBytes, allBytes + allBytes, ''] }, 0, 0xffffffff],
    [{ kind: 'exec', db: 2, commands: [['INCR', 'a'], []], watches: [{ db: 9, key: allBytes, since: 2 ** 40 + 3, existed: false }] }, 5, 5],
    [{ kind: 'expire', db: 1, keys: ['a', 'b'] }, 99, 1],
    // Lengths of 1, 2 and 3 varint bytes in front of an op.
    [{ kind: 'command', db: 3, argv: ['APPEND', 'big', 'x'.repeat(300_000)] }, 1.5, 7],
    [{ kind: 'command', db: 0, argv: ['SET', 'mid', 'y'.repeat(200)] }, 2, 8],
  ];

  test('round trip, in order; the batch is empty again after take', () => {
    const b = new OpBatch();
    for (const [op, t, seed] of ops) b.add(op, t, seed);
    expect(b.count).toBe(ops.length);
    const data = b.take();
    expect(b.count).toBe(0);
    expect(opCount(data)).toBe(ops.length);
    expect(opCount(encodeOp(ops[0]![0], 1, 1))).toBe(1);
    expect(decodeOps(data)).toEqual(ops.map(([op, timeMs, seed]) => ({ op, timeMs, seed: seed >>> 0 })));
    b.add(ops[0]![0], 3, 3);
    expect(decodeOps(b.take())).toEqual([{ op: ops[0]![0], timeMs: 3, seed: 3 }]);
    // An entry of one op alone (version 1) decodes as a batch of one.
    expect(decodeOps(encodeOp(ops[1]![0], 4, 4))).toEqual([{ op: ops[1]![0], timeMs: 4, seed: 4 }]);
  });

  test('an op that cannot be encoded leaves the batch as it was', () => {
    const b = new OpBatch();
    b.add(ops[0]![0], 1, 1);
    expect(() => b.add(ops[0]![0], Number.NaN, 1)).toThrow(CodecError);
    expect(b.count).toBe(1);
    expect(decodeOps(b.take()).length).toBe(1);
  });

  test('truncated, padded or miscounted batches are refused', () => {
    const b = new OpBatch();
    for (const [op, t, seed] of ops.slice(0, 4)) b.add(op, t, seed);
    const data = b.take();
    for (let n = 0; n < data.byteLength; n++) expect(() => decodeOps(data.subarray(0, n))).toThrow(CodecError);
    const extra = new Uint8Array(data.byteLength + 1);
    extra.set(data);
    expect(() => decodeOps(extra)).toThrow(CodecError);
    const more = Buffer.from(data);
    more.writeUInt32BE(5, 1);
    expect(() => decodeOps(more)).toThrow(CodecError);
    const none = Buffer.from(data);
    none.writeUInt32BE(0, 1);
    expect(() => decodeOps(none)).toThrow(CodecError);
  });
});

const ALL_TYPES: MessageType[] = [
  'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader', 'MsgApp', 'MsgAppResp', 'MsgSnap',
  'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgTimeoutNow',
];

function sample(type: MessageType, i: number): Message {
  const bytes = (s: string) => Uint8Array.from(Buffer.from(s, 'latin1'));
  return makeMessage({
    type,
    to: 2 + i,
    from: 1,
    term: 2 ** 33 + i,
    logTerm: 7,
    index: 12345678901 + i,
    commit: 99,
    reject: i % 2 === 0,
    rejectHint: i,
    context: i % 3 === 0 ? bytes('ctx' + i) : new Uint8Array(0),
    entries:
      type === 'MsgApp' || type === 'MsgProp'
        ? [
            { term: 7, index: 100, type: 'normal', data: bytes(allBytes) },
            { term: 7, index: 101, type: 'confChange', data: bytes('{"t":"auto"}') },
            { term: 7, index: 102, type: 'normal', data: new Uint8Array(0) },
          ]
        : [],
    snapshot:
      type === 'MsgSnap'
        ? { metadata: { index: 500, term: 6, confState: { ...confStateOf([1, 2, 3], [4]), votersOutgoing: [1, 2], learnersNext: [5], autoLeave: true } }, data: bytes(allBytes.repeat(10)) }
        : undefined,
  });
}

function normalize(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
}

describe('wire', () => {
  test('every message type a peer receives round-trips, with entries and snapshots', () => {
    ALL_TYPES.forEach((t, i) => {
      const m = sample(t, i);
      const frame = encodeMessage(m);
      expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
      const f = decodeFrame(frame.subarray(4));
      expect(f.kind).toBe('message');
      if (f.kind === 'message') expect(normalize(f.message)).toEqual(normalize(m));
    });
  });

  test('a snapshot\'s membership context round-trips (absent, empty, non-ASCII); a removed frame too', () => {
    for (const context of [undefined, '', '{"v":1,"members":[{"id":1,"host":"127.0.0.1","clusterPort":17001}],"removed":[[4,99]]}', 'ünï']) {
      const m = sample('MsgSnap', 3);
      if (context !== undefined) m.snapshot!.metadata.context = context;
      const f = decodeFrame(encodeMessage(m).subarray(4));
      expect(f.kind).toBe('message');
      if (f.kind === 'message') {
        expect(f.message.snapshot!.metadata.context).toBe(context);
        expect(normalize(f.message)).toEqual(normalize(m));
      }
    }
    expect(decodeFrame(encodeRemoved(123456).subarray(4))).toEqual({ kind: 'removed', index: 123456 });
    const trailing = Buffer.concat([encodeRemoved(1), Buffer.from([0])]);
    expect(() => decodeFrame(trailing.subarray(4, trailing.length))).toThrow();
  });

  test('hello', () => {
    const f = decodeFrame(encodeHello({ version: 1, from: 3, to: 1 }).subarray(4));
    expect(f).toEqual({ kind: 'hello', hello: { version: 1, from: 3, to: 1 } });
  });

  test('the frame decoder finds the same frames however the stream is split', () => {
    const frames = [encodeHello({ version: 1, from: 1, to: 2 }), ...ALL_TYPES.map((t, i) => encodeMessage(sample(t, i)))];
    const stream = Buffer.concat(frames);
    const expected = frames.map((f) => f.subarray(4).toString('hex'));
    for (let split = 0; split <= stream.length; split += 7) {
      const got: string[] = [];
      const d = new FrameDecoder();
      d.feed(stream.subarray(0, split), (b) => got.push(b.toString('hex')));
      d.feed(stream.subarray(split), (b) => got.push(b.toString('hex')));
      expect(got).toEqual(expected);
    }
    const got: string[] = [];
    const d = new FrameDecoder();
    for (let i = 0; i < stream.length; i++) d.feed(stream.subarray(i, i + 1), (b) => got.push(b.toString('hex')));
    expect(got).toEqual(expected);
  });

  test('oversized frames and garbage are refused', () => {
    const d = new FrameDecoder(1024);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(4096);
    expect(() => d.feed(head, () => {})).toThrow(CodecError);
    expect(() => decodeFrame(Buffer.from([2, 200]))).toThrow(CodecError);
    expect(() => decodeFrame(Buffer.from([7]))).toThrow(CodecError);
    const good = encodeMessage(sample('MsgApp', 0)).subarray(4);
    for (let n = 1; n < good.length; n += 3) expect(() => decodeFrame(good.subarray(0, n))).toThrow(CodecError);
  });
});
