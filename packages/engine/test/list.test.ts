// The list commands (types/list.ts), driven through the Engine. The transcript's replies are
// redis-server 7.0.15's, byte for byte, in RESP2 and RESP3 (recorded from a real server).

import { Deque } from '../src/util/deque';
import { seededRandom } from '../src';
import { arr, bulk, Harness, Row, runTranscript, T0 } from './harness';

const transcript: Row[] = [
  [["rpush", "l", "a", "b", "c", "d", "e"], ":5\r\n"],
  [["lpush", "l", "x", "y", "z"], ":8\r\n"],
  [["lpushx", "nokey", "a"], ":0\r\n"],
  [["rpushx", "nokey", "a"], ":0\r\n"],
  [["lpushx", "l", "q"], ":9\r\n"],
  [["rpushx", "l", "r1", "r2"], ":11\r\n"],
  [["llen", "l"], ":11\r\n"],
  [["llen", "nokey"], ":0\r\n"],
  [["lrange", "l", "0", "-1"], "*11\r\n$1\r\nq\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nr1\r\n$2\r\nr2\r\n"],
  [["lrange", "l", "-3", "-1"], "*3\r\n$1\r\ne\r\n$2\r\nr1\r\n$2\r\nr2\r\n"],
  [["lrange", "l", "5", "2"], "*0\r\n"],
  [["lrange", "l", "-100", "100"], "*11\r\n$1\r\nq\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nr1\r\n$2\r\nr2\r\n"],
  [["lrange", "l", "100", "200"], "*0\r\n"],
  [["lrange", "l", "0", "-100"], "*0\r\n"],
  [["lrange", "l", "x", "1"], "-ERR value is not an integer or out of range\r\n"],
  [["lrange", "nokey", "x", "1"], "-ERR value is not an integer or out of range\r\n"],
  [["lrange", "l", "0", "9223372036854775807"], "*11\r\n$1\r\nq\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nr1\r\n$2\r\nr2\r\n"],
  [["lrange", "l", "-9223372036854775808", "2"], "*3\r\n$1\r\nq\r\n$1\r\nz\r\n$1\r\ny\r\n"],
  [["lindex", "l", "0"], "$1\r\nq\r\n"],
  [["lindex", "l", "-1"], "$2\r\nr2\r\n"],
  [["lindex", "l", "100"], "$-1\r\n", "_\r\n"],
  [["lindex", "l", "-100"], "$-1\r\n", "_\r\n"],
  [["lindex", "l", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["lindex", "nokey", "0"], "$-1\r\n", "_\r\n"],
  [["lset", "l", "0", "NEW"], "+OK\r\n"],
  [["lset", "l", "-1", "LAST"], "+OK\r\n"],
  [["lset", "l", "100", "x"], "-ERR index out of range\r\n"],
  [["lset", "l", "x", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["lset", "nokey", "0", "x"], "-ERR no such key\r\n"],
  [["lrange", "l", "0", "-1"], "*11\r\n$3\r\nNEW\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nr1\r\n$4\r\nLAST\r\n"],
  [["linsert", "l", "before", "c", "C1"], ":12\r\n"],
  [["linsert", "l", "AFTER", "c", "C2"], ":13\r\n"],
  [["linsert", "l", "before", "zz", "x"], ":-1\r\n"],
  [["linsert", "l", "foo", "c", "x"], "-ERR syntax error\r\n"],
  [["linsert", "nokey", "before", "a", "b"], ":0\r\n"],
  [["lrange", "l", "0", "-1"], "*13\r\n$3\r\nNEW\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\nx\r\n$1\r\na\r\n$1\r\nb\r\n$2\r\nC1\r\n$1\r\nc\r\n$2\r\nC2\r\n$1\r\nd\r\n$1\r\ne\r\n$2\r\nr1\r\n$4\r\nLAST\r\n"],
  [["rpush", "m", "a", "b", "a", "c", "a", "d", "a"], ":7\r\n"],
  [["lrem", "m", "2", "a"], ":2\r\n"],
  [["lrange", "m", "0", "-1"], "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\na\r\n"],
  [["rpush", "m", "a", "a"], ":7\r\n"],
  [["lrem", "m", "-2", "a"], ":2\r\n"],
  [["lrange", "m", "0", "-1"], "*5\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nd\r\n$1\r\na\r\n"],
  [["lrem", "m", "0", "a"], ":2\r\n"],
  [["lrange", "m", "0", "-1"], "*3\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"],
  [["lrem", "m", "1", "zz"], ":0\r\n"],
  [["lrem", "m", "x", "a"], "-ERR value is not an integer or out of range\r\n"],
  [["lrem", "nokey", "0", "a"], ":0\r\n"],
  [["ltrim", "m", "1", "-1"], "+OK\r\n"],
  [["lrange", "m", "0", "-1"], "*2\r\n$1\r\nc\r\n$1\r\nd\r\n"],
  [["ltrim", "m", "0", "0"], "+OK\r\n"],
  [["lrange", "m", "0", "-1"], "*1\r\n$1\r\nc\r\n"],
  [["ltrim", "m", "5", "10"], "+OK\r\n"],
  [["exists", "m"], ":0\r\n"],
  [["ltrim", "nokey", "0", "1"], "+OK\r\n"],
  [["ltrim", "l", "x", "1"], "-ERR value is not an integer or out of range\r\n"],
  [["rpush", "p", "a", "b", "c", "a", "b", "c", "a"], ":7\r\n"],
  [["lpos", "p", "a"], ":0\r\n"],
  [["lpos", "p", "a", "RANK", "2"], ":3\r\n"],
  [["lpos", "p", "a", "RANK", "-1"], ":6\r\n"],
  [["lpos", "p", "a", "RANK", "-2"], ":3\r\n"],
  [["lpos", "p", "a", "COUNT", "0"], "*3\r\n:0\r\n:3\r\n:6\r\n"],
  [["lpos", "p", "a", "COUNT", "2"], "*2\r\n:0\r\n:3\r\n"],
  [["lpos", "p", "a", "RANK", "2", "COUNT", "0"], "*2\r\n:3\r\n:6\r\n"],
  [["lpos", "p", "a", "RANK", "-1", "COUNT", "2"], "*2\r\n:6\r\n:3\r\n"],
  [["lpos", "p", "a", "MAXLEN", "3"], ":0\r\n"],
  [["lpos", "p", "a", "RANK", "2", "MAXLEN", "3"], "$-1\r\n", "_\r\n"],
  [["lpos", "p", "c", "MAXLEN", "2"], "$-1\r\n", "_\r\n"],
  [["lpos", "p", "a", "COUNT", "0", "MAXLEN", "1"], "*1\r\n:0\r\n"],
  [["lpos", "p", "zz"], "$-1\r\n", "_\r\n"],
  [["lpos", "p", "zz", "COUNT", "1"], "*0\r\n"],
  [["lpos", "p", "a", "RANK", "0"], "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list\r\n"],
  [["lpos", "p", "a", "RANK", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["lpos", "p", "a", "COUNT", "-1"], "-ERR COUNT can't be negative\r\n"],
  [["lpos", "p", "a", "MAXLEN", "-1"], "-ERR MAXLEN can't be negative\r\n"],
  [["lpos", "p", "a", "FOO", "1"], "-ERR syntax error\r\n"],
  [["lpos", "p", "a", "RANK"], "-ERR syntax error\r\n"],
  [["lpos", "p", "a", "RANK", "100"], "$-1\r\n", "_\r\n"],
  [["lpos", "nokey", "a"], "$-1\r\n", "_\r\n"],
  [["lpos", "nokey", "a", "COUNT", "3"], "*0\r\n"],
  [["lpos", "p", "a", "RANK", "-9223372036854775808"], ":6\r\n"],
  [["lpos", "p", "a", "RANK", "-9223372036854775808", "COUNT", "1"], "*3\r\n:6\r\n:3\r\n:0\r\n"],
  [["lpos", "p", "a", "RANK", "-9223372036854775807", "COUNT", "1"], "*0\r\n"],
  [["lpop", "p"], "$1\r\na\r\n"],
  [["rpop", "p"], "$1\r\na\r\n"],
  [["lpop", "p", "2"], "*2\r\n$1\r\nb\r\n$1\r\nc\r\n"],
  [["rpop", "p", "2"], "*2\r\n$1\r\nc\r\n$1\r\nb\r\n"],
  [["lpop", "p", "0"], "*0\r\n"],
  [["lpop", "p", "100"], "*1\r\n$1\r\na\r\n"],
  [["exists", "p"], ":0\r\n"],
  [["lpop", "nokey"], "$-1\r\n", "_\r\n"],
  [["lpop", "nokey", "1"], "*-1\r\n", "_\r\n"],
  [["lpop", "nokey", "0"], "*-1\r\n", "_\r\n"],
  [["lpop", "l", "-1"], "-ERR value is out of range, must be positive\r\n"],
  [["lpop", "l", "x"], "-ERR value is out of range, must be positive\r\n"],
  [["lpop", "l", "1", "2"], "-ERR wrong number of arguments for 'lpop' command\r\n"],
  [["rpush", "s1", "a", "b", "c"], ":3\r\n"],
  [["lmove", "s1", "d1", "LEFT", "RIGHT"], "$1\r\na\r\n"],
  [["lmove", "s1", "d1", "RIGHT", "LEFT"], "$1\r\nc\r\n"],
  [["lmove", "s1", "s1", "LEFT", "RIGHT"], "$1\r\nb\r\n"],
  [["lrange", "s1", "0", "-1"], "*1\r\n$1\r\nb\r\n"],
  [["lmove", "s1", "s1", "LEFT", "LEFT"], "$1\r\nb\r\n"],
  [["lmove", "s1", "d1", "left", "right"], "$1\r\nb\r\n"],
  [["exists", "s1"], ":0\r\n"],
  [["lrange", "d1", "0", "-1"], "*3\r\n$1\r\nc\r\n$1\r\na\r\n$1\r\nb\r\n"],
  [["lmove", "nokey", "d1", "LEFT", "RIGHT"], "$-1\r\n", "_\r\n"],
  [["lmove", "d1", "d1", "UP", "RIGHT"], "-ERR syntax error\r\n"],
  [["rpoplpush", "d1", "d2"], "$1\r\nb\r\n"],
  [["rpoplpush", "nokey", "d2"], "$-1\r\n", "_\r\n"],
  [["set", "str", "x"], "+OK\r\n"],
  [["rpoplpush", "d1", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["rpoplpush", "str", "d1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lmove", "str", "d1", "LEFT", "LEFT"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lpush", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["rpush", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lpushx", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lrange", "str", "0", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lindex", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["llen", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lpop", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lrem", "str", "0", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["ltrim", "str", "0", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lset", "str", "0", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["linsert", "str", "before", "a", "b"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lpos", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["lmpop", "1", "str", "LEFT"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["rpush", "q1", "a", "b", "c"], ":3\r\n"],
  [["rpush", "q2", "x", "y"], ":2\r\n"],
  [["lmpop", "2", "q0", "q1", "LEFT"], "*2\r\n$2\r\nq1\r\n*1\r\n$1\r\na\r\n"],
  [["lmpop", "2", "q0", "q1", "RIGHT", "COUNT", "10"], "*2\r\n$2\r\nq1\r\n*2\r\n$1\r\nc\r\n$1\r\nb\r\n"],
  [["lmpop", "2", "q1", "q2", "left", "count", "1"], "*2\r\n$2\r\nq2\r\n*1\r\n$1\r\nx\r\n"],
  [["lmpop", "3", "q0", "q1", "q2", "RIGHT", "COUNT", "1"], "*2\r\n$2\r\nq2\r\n*1\r\n$1\r\ny\r\n"],
  [["lmpop", "1", "q0", "LEFT"], "*-1\r\n", "_\r\n"],
  [["lmpop", "0", "q0", "LEFT"], "-ERR numkeys should be greater than 0\r\n"],
  [["lmpop", "-1", "q0", "LEFT"], "-ERR numkeys should be greater than 0\r\n"],
  [["lmpop", "x", "q0", "LEFT"], "-ERR numkeys should be greater than 0\r\n"],
  [["lmpop", "5", "q0", "LEFT"], "-ERR syntax error\r\n"],
  [["lmpop", "1", "q0", "UP"], "-ERR syntax error\r\n"],
  [["lmpop", "1", "q2", "LEFT", "COUNT", "0"], "-ERR count should be greater than 0\r\n"],
  [["lmpop", "1", "q2", "LEFT", "COUNT", "-1"], "-ERR count should be greater than 0\r\n"],
  [["lmpop", "1", "q2", "LEFT", "COUNT", "x"], "-ERR count should be greater than 0\r\n"],
  [["lmpop", "1", "q2", "LEFT", "COUNT", "1", "COUNT", "1"], "-ERR syntax error\r\n"],
  [["lmpop", "1", "q2", "LEFT", "FOO"], "-ERR syntax error\r\n"],
  [["lmpop", "1", "q2", "LEFT", "COUNT"], "-ERR syntax error\r\n"],
  [["rpush", "q2", "z"], ":1\r\n"],
  [["blpop", "q2", "0"], "*2\r\n$2\r\nq2\r\n$1\r\nz\r\n"],
  [["rpush", "q2", "z"], ":1\r\n"],
  [["blpop", "q0", "q2", "str", "0"], "*2\r\n$2\r\nq2\r\n$1\r\nz\r\n"],
  [["rpush", "q2", "y"], ":1\r\n"],
  [["blpop", "str", "q2", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["brpop", "q0", "q2", "0"], "*2\r\n$2\r\nq2\r\n$1\r\ny\r\n"],
  [["rpush", "q2", "a", "b"], ":2\r\n"],
  [["brpop", "q0", "q2", "0.5"], "*2\r\n$2\r\nq2\r\n$1\r\nb\r\n"],
  [["blpop", "q2", "x"], "-ERR timeout is not a float or out of range\r\n"],
  [["blpop", "q2", "-1"], "-ERR timeout is negative\r\n"],
  [["blpop", "q2", "inf"], "-ERR timeout is negative\r\n"],
  [["blpop", "q2", "1e18"], "-ERR timeout is negative\r\n"],
  [["blmove", "q2", "q3", "LEFT", "RIGHT", "0"], "$1\r\na\r\n"],
  [["blmove", "q2", "q3", "UP", "RIGHT", "0"], "-ERR syntax error\r\n"],
  [["blmove", "q2", "q3", "LEFT", "RIGHT", "x"], "-ERR timeout is not a float or out of range\r\n"],
  [["blmove", "str", "q3", "LEFT", "RIGHT", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["brpoplpush", "q3", "q4", "0"], "$1\r\na\r\n"],
  [["brpoplpush", "q3", "q4", "x"], "-ERR timeout is not a float or out of range\r\n"],
  [["rpush", "q5", "a", "b", "c"], ":3\r\n"],
  [["blmpop", "0", "2", "q0", "q5", "LEFT", "COUNT", "2"], "*2\r\n$2\r\nq5\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"],
  [["blmpop", "0", "2", "q0", "q5", "RIGHT"], "*2\r\n$2\r\nq5\r\n*1\r\n$1\r\nc\r\n"],
  [["blmpop", "x", "1", "q5", "LEFT"], "-ERR timeout is not a float or out of range\r\n"],
  [["blmpop", "0", "0", "q5", "LEFT"], "-ERR numkeys should be greater than 0\r\n"],
  [["blmpop", "0", "1", "q5", "FOO"], "-ERR syntax error\r\n"],
  [["lpush", "e", ""], ":1\r\n"],
  [["lrange", "e", "0", "-1"], "*1\r\n$0\r\n\r\n"],
  [["lpush", "bin", "\x00ÿ\\r\\n"], ":1\r\n"],
  [["lrange", "bin", "0", "-1"], "*1\r\n$6\r\n\x00ÿ\\r\\n\r\n"],
  [["object", "encoding", "bin"], "$9\r\nquicklist\r\n"],
  [["type", "bin"], "+list\r\n"],
];

describe('list transcript (redis-server 7.0.15)', () => {
  test('RESP2', () => expect(runTranscript(transcript, 2)).toEqual([]));
  test('RESP3', () => expect(runTranscript(transcript, 3)).toEqual([]));
});

describe('lists', () => {
  test('OBJECT ENCODING is quicklist in Redis 7.0, whatever the size', () => {
    const h = new Harness();
    h.run('rpush', 'l', 'a');
    expect(h.encoding('l')).toBe(bulk('quicklist'));
    h.run('rpush', 'l', 'x'.repeat(100_000));
    expect(h.encoding('l')).toBe(bulk('quicklist'));
    expect(h.run('type', 'l')).toBe('+list\r\n');
  });

  test('writes signal WATCH (touch) only when they change something', () => {
    const h = new Harness();
    expect(h.touches('l', 'rpush', 'l', 'a', 'b', 'c')).toBe(true);
    expect(h.touches('l', 'lrange', 'l', '0', '-1')).toBe(false);
    expect(h.touches('l', 'lpop', 'l')).toBe(true);
    expect(h.touches('l', 'lset', 'l', '0', 'x')).toBe(true);
    expect(h.touches('l', 'linsert', 'l', 'before', 'nosuch', 'y')).toBe(false);
    expect(h.touches('l', 'lrem', 'l', '0', 'nosuch')).toBe(false);
    expect(h.touches('l', 'ltrim', 'l', '0', '-1')).toBe(true); // Redis signals LTRIM always
    expect(h.touches('d', 'lmove', 'l', 'd', 'left', 'right')).toBe(true);
    expect(h.touches('l', 'lpushx', 'nosuch', 'a')).toBe(false);
  });

  test('a push that creates a list signals the key ready for blocked clients', () => {
    const h = new Harness();
    h.run('rpush', 'l', 'a');
    expect(h.engine.readyKeys).toEqual([{ db: 0, key: 'l' }]);
    h.engine.readyKeys = [];
    h.run('rpush', 'l', 'b');
    expect(h.engine.readyKeys).toEqual([]);
    h.run('lmove', 'l', 'dst', 'left', 'left');
    expect(h.engine.readyKeys).toEqual([{ db: 0, key: 'dst' }]);
  });

  test('an emptied list is deleted; an expired one is invisible and replaced by a push', () => {
    const h = new Harness();
    h.run('rpush', 'l', 'a');
    h.run('rpop', 'l');
    expect(h.engine.db(0).dict.has('l')).toBe(false);
    h.run('rpush', 'l', 'a', 'b');
    h.run('pexpire', 'l', '100');
    h.now += 200;
    expect(h.run('llen', 'l')).toBe(':0\r\n');
    expect(h.run('rpush', 'l', 'c')).toBe(':1\r\n');
    expect(h.run('ttl', 'l')).toBe(':-1\r\n');
  });

  test('COPY makes an independent list', () => {
    const h = new Harness();
    h.run('rpush', 'l', 'a', 'b');
    h.run('copy', 'l', 'c');
    h.run('rpush', 'c', 'x');
    expect(h.run('lrange', 'l', '0', '-1')).toBe(arr('a', 'b'));
    expect(h.run('lrange', 'c', '0', '-1')).toBe(arr('a', 'b', 'x'));
  });

  test('LMPOP and BLMPOP declare their keys (movablekeys)', () => {
    const h = new Harness();
    const lmpop = h.engine.commands.lookup('lmpop')!;
    const blmpop = h.engine.commands.lookup('blmpop')!;
    expect(lmpop.getKeys!(['lmpop', '2', 'a', 'b', 'left'])).toEqual([2, 3]);
    expect(blmpop.getKeys!(['blmpop', '0', '3', 'a', 'b', 'c', 'right', 'count', '2'])).toEqual([3, 4, 5]);
    expect(lmpop.getKeys!(['lmpop', '0', 'a', 'left'])).toEqual([]);
    expect(lmpop.flags).toContain('movablekeys');
  });
});

describe('blocking pops', () => {
  test('BLPOP with nothing to pop blocks: no reply, a request for its keys and deadline', () => {
    const h = new Harness();
    expect(h.run('blpop', 'a', 'b', '1.5')).toBe('');
    expect(h.blocked).toEqual({ db: 0, keys: ['a', 'b'], deadlineMs: T0 + 1500, timeoutReply: 'nullArray' });
    expect(h.run('brpop', 'a', '0')).toBe('');
    expect(h.blocked).toEqual({ db: 0, keys: ['a'], deadlineMs: 0, timeoutReply: 'nullArray' });
  });

  test('timeouts: float seconds rounded up to ms, -0.x means forever, errors as Redis', () => {
    const h = new Harness();
    h.run('blpop', 'a', '0.0001');
    expect(h.blocked).toMatchObject({ deadlineMs: T0 + 1 });
    h.run('blpop', 'a', '-0.0001');
    expect(h.blocked).toMatchObject({ deadlineMs: 0 });
    h.run('blpop', 'a', '2.0005');
    expect(h.blocked).toMatchObject({ deadlineMs: T0 + 2001 });
    expect(h.run('blpop', 'a', '-1')).toBe('-ERR timeout is negative\r\n');
    expect(h.run('blpop', 'a', 'inf')).toBe('-ERR timeout is negative\r\n');
    expect(h.run('blpop', 'a', '1e18')).toBe('-ERR timeout is negative\r\n');
    expect(h.run('blpop', 'a', 'nan')).toBe('-ERR timeout is not a float or out of range\r\n');
    expect(h.run('blpop', 'a', '')).toBe('-ERR timeout is not a float or out of range\r\n');
  });

  test('BLMOVE, BRPOPLPUSH and BLMPOP block on their source keys; a timeout replies a null array', () => {
    const h = new Harness();
    h.run('blmove', 'src', 'dst', 'left', 'right', '0.5');
    expect(h.blocked).toEqual({ db: 0, keys: ['src'], deadlineMs: T0 + 500, timeoutReply: 'nullArray' });
    h.run('brpoplpush', 'src', 'dst', '0');
    expect(h.blocked).toEqual({ db: 0, keys: ['src'], deadlineMs: 0, timeoutReply: 'nullArray' });
    h.run('blmpop', '0', '2', 'x', 'y', 'left', 'count', '3');
    expect(h.blocked).toEqual({ db: 0, keys: ['x', 'y'], deadlineMs: 0, timeoutReply: 'nullArray' });
  });

  test('run again after a push, the blocked command takes the element', () => {
    const h = new Harness();
    expect(h.run('blpop', 'q', '0')).toBe('');
    h.run('rpush', 'q', 'job');
    expect(h.run('blpop', 'q', '0')).toBe(arr('q', 'job'));
    expect(h.run('exists', 'q')).toBe(':0\r\n');
  });

  test('inside EXEC they never block: null array, or null bulk for BLMOVE and BRPOPLPUSH', () => {
    const h = new Harness();
    const cmds = [['blpop', 'a', '0'], ['brpop', 'a', '0'], ['blmove', 'a', 'b', 'left', 'left', '0'], ['brpoplpush', 'a', 'b', '0'], ['blmpop', '0', '1', 'a', 'left']];
    expect(h.exec(...cmds)).toBe('*5\r\n*-1\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n');
    const h3 = new Harness({}, 3);
    expect(h3.exec(...cmds)).toBe('*5\r\n_\r\n_\r\n_\r\n_\r\n_\r\n');
    h.run('rpush', 'a', 'x', 'y');
    expect(h.exec(['blpop', 'a', '0'], ['blmove', 'a', 'b', 'left', 'left', '0'])).toBe(`*2\r\n${arr('a', 'x')}${bulk('y')}`);
  });
});

describe('Deque', () => {
  test('matches an array model under random operations', () => {
    const random = seededRandom(42);
    const d = new Deque<number>();
    const model: number[] = [];
    for (let step = 0; step < 20_000; step++) {
      const op = Math.floor(random() * 7);
      const v = step;
      if (op === 0) (d.pushFront(v), model.unshift(v));
      else if (op === 1) (d.pushBack(v), model.push(v));
      else if (op === 2) expect(d.popFront()).toBe(model.shift());
      else if (op === 3) expect(d.popBack()).toBe(model.pop());
      else if (op === 4 && model.length > 0) {
        const i = Math.floor(random() * model.length);
        d.set(i, -v);
        model[i] = -v;
      } else if (op === 5 && random() < 0.3) {
        const i = Math.floor(random() * (model.length + 1));
        d.insert(i, v);
        model.splice(i, 0, v);
      } else if (op === 6 && model.length > 0 && random() < 0.3) {
        const i = Math.floor(random() * model.length);
        d.removeAt(i);
        model.splice(i, 1);
      }
      if (step % 97 === 0) expect(d.toArray()).toEqual(model);
      expect(d.length).toBe(model.length);
    }
    expect(d.toArray()).toEqual(model);
    expect(d.clone().toArray()).toEqual(model);
  });
});

describe('complexity', () => {
  /** ms per op for pushes and pops at both ends of a list of `size` elements. */
  function costAt(size: number): number {
    const h = new Harness();
    const batch: string[] = [];
    for (let i = 0; i < 1000; i++) batch.push(`element-${i}`);
    for (let n = 0; n < size; n += batch.length) h.run('rpush', 'big', ...batch);
    const ops = 100_000;
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const t = process.hrtime.bigint();
      for (let i = 0; i < ops; i += 4) {
        h.run('lpush', 'big', 'x');
        h.run('rpop', 'big');
        h.run('rpush', 'big', 'y');
        h.run('lpop', 'big');
      }
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6 / ops);
    }
    expect(h.run('llen', 'big')).toBe(`:${size}\r\n`);
    // LINDEX in the middle skips whole nodes.
    expect(h.run('lindex', 'big', String(size / 2))).toBe(bulk('element-0'));
    return best;
  }

  test('push and pop at both ends cost the same on 10k and 1M elements', () => {
    const small = costAt(10_000);
    const large = costAt(1_000_000);
    expect(large / small).toBeLessThan(5);
  });
});
