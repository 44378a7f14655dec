// The pieces of leader-proxy.ts that need no sockets: how a forwarded command is encoded, and
// the bounded scanner that finds the end of a handshake reply (every frame split at every
// offset is incomplete, never misread).

import { RequestDecoder } from '@keel/resp';
import { encodeCommand, needsLeader, replyEnd } from '../src/replication/leader-proxy';
import { KeelServer } from '../src/server';

test('encodeCommand writes a multibulk that the request decoder reads back byte for byte', () => {
  const argv = ['SET', 'k\r\n', '\x00\xff\x80', '', 'x'.repeat(70000)];
  const bytes = encodeCommand(argv);
  expect(bytes.subarray(0, 22).toString('latin1')).toBe('*5\r\n$3\r\nSET\r\n$3\r\nk\r\n\r\n');
  const got: string[][] = [];
  expect(new RequestDecoder().feed(bytes, (a) => got.push(a))).toBeNull();
  expect(got).toEqual([argv]);
});

const FRAMES = [
  '+OK\r\n',
  '-ERR no\r\n',
  ':42\r\n',
  '$5\r\nhello\r\n',
  '$-1\r\n',
  '$0\r\n\r\n',
  '*-1\r\n',
  '*2\r\n$1\r\na\r\n*1\r\n:1\r\n',
  '%2\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:3\r\n',
  '~1\r\n,1.5\r\n',
  '>3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nm\r\n',
  '|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n',
  '_\r\n',
  '#t\r\n',
  '(123456789012345678901234567890\r\n',
  '=8\r\ntxt:abcd\r\n',
  '!3\r\nbad\r\n',
];

test('replyEnd finds the end of every RESP2/RESP3 reply, and says "incomplete" for every prefix', () => {
  for (const f of FRAMES) {
    const b = Buffer.from(f, 'latin1');
    expect([f, replyEnd(b, 0, 0)]).toEqual([f, b.length]);
    for (let cut = 0; cut < b.length; cut++) expect([f, cut, replyEnd(b.subarray(0, cut), 0, 0)]).toEqual([f, cut, -1]);
    // Followed by more bytes, it still ends where the frame ends.
    const two = Buffer.concat([b, Buffer.from('+NEXT\r\n')]);
    expect(replyEnd(two, 0, 0)).toBe(b.length);
    expect(replyEnd(two, b.length, 0)).toBe(two.length);
  }
});

test('replyEnd says "not RESP" for bad bytes, and for nesting deeper than its bound', () => {
  for (const bad of ['?x\r\n', '+OK\n', '\r\n', '$5\r\nhelloXY', '$abc\r\n', '*-2\r\n', '$-5\r\n', '*x\r\n']) {
    expect([bad, replyEnd(Buffer.from(bad, 'latin1'), 0, 0)]).toEqual([bad, -2]);
  }
  const deep = '*1\r\n'.repeat(40) + ':1\r\n';
  expect(replyEnd(Buffer.from(deep), 0, 0)).toBe(-2);
  const ok = '*1\r\n'.repeat(10) + ':1\r\n';
  expect(replyEnd(Buffer.from(ok), 0, 0)).toBe(ok.length);
});

test('needsLeader: data reads and writes, transactions, pub/sub and blocking commands; not connection or node commands', () => {
  const server = new KeelServer({});
  const spec = (...argv: string[]) => {
    const s = server.engine.commands.resolve(argv);
    if (typeof s === 'string') throw new Error(s);
    return s;
  };
  for (const argv of [['GET', 'k'], ['SET', 'k', 'v'], ['DBSIZE'], ['KEYS', '*'], ['MULTI'], ['EXEC'], ['WATCH', 'k'], ['SUBSCRIBE', 'c'], ['PUBLISH', 'c', 'm'], ['BLPOP', 'k', '0'], ['OBJECT', 'ENCODING', 'k'], ['FLUSHALL']]) {
    expect([argv.join(' '), needsLeader(spec(...argv))]).toEqual([argv.join(' '), true]);
  }
  for (const argv of [['PING'], ['ECHO', 'x'], ['HELLO', '3'], ['AUTH', 'p'], ['SELECT', '1'], ['INFO'], ['CONFIG', 'GET', 'port'], ['CLIENT', 'ID'], ['COMMAND', 'COUNT'], ['TIME'], ['QUIT'], ['RESET']]) {
    expect([argv.join(' '), needsLeader(spec(...argv))]).toEqual([argv.join(' '), false]);
  }
});
