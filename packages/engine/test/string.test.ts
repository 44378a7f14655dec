// The string commands (types/string.ts), driven through the Engine. Expected replies are
// Redis 7.0's, byte for byte: each sequence here was also run against redis-server 7.0.15.

import { Harness, T0 } from './harness';




const OK = '+OK\r\n';
const NIL = '$-1\r\n';
const int = (n: number | string | bigint): string => `:${n}\r\n`;
const bulk = (s: string): string => `$${s.length}\r\n${s}\r\n`;
const err = (s: string): string => `-${s}\r\n`;
const arr = (...items: string[]): string => `*${items.length}\r\n${items.join('')}`;

const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');
const NOT_FLOAT = err('ERR value is not a valid float');
const OVERFLOW = err('ERR increment or decrement would overflow');
const WRONGTYPE = err('WRONGTYPE Operation against a key holding the wrong kind of value');
const TOO_LONG = err('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
const invalidExpire = (cmd: string): string => err(`ERR invalid expire time in '${cmd}' command`);

/** Every byte value, for binary-safety checks. */
const ALL_BYTES = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');

let h: Harness;
beforeEach(() => {
  h = new Harness();
});

describe('the command table', () => {
  it('declares every string command as Redis 7.0 does', () => {
    const expected: Array<[string, number, string[], number, number, number]> = [
      ['get', 2, ['readonly', 'fast'], 1, 1, 1],
      ['set', -3, ['write', 'denyoom'], 1, 1, 1],
      ['setnx', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['setex', 4, ['write', 'denyoom'], 1, 1, 1],
      ['psetex', 4, ['write', 'denyoom'], 1, 1, 1],
      ['getset', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['getdel', 2, ['write', 'fast'], 1, 1, 1],
      ['getex', -2, ['write', 'fast'], 1, 1, 1],
      ['mget', -2, ['readonly', 'fast'], 1, -1, 1],
      ['mset', -3, ['write', 'denyoom'], 1, -1, 2],
      ['msetnx', -3, ['write', 'denyoom'], 1, -1, 2],
      ['append', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['strlen', 2, ['readonly', 'fast'], 1, 1, 1],
      ['getrange', 4, ['readonly'], 1, 1, 1],
      ['substr', 4, ['readonly'], 1, 1, 1],
      ['setrange', 4, ['write', 'denyoom'], 1, 1, 1],
      ['incr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['decr', 2, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['incrby', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['decrby', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['incrbyfloat', 3, ['write', 'denyoom', 'fast'], 1, 1, 1],
      ['lcs', -3, ['readonly'], 1, 2, 1],
    ];
    for (const [name, arity, flags, first, last, step] of expected) {
      const spec = h.engine.commands.lookup(name)!;
      expect([spec.name, spec.arity, spec.flags, spec.firstKey, spec.lastKey, spec.step, spec.group]).toEqual([name, arity, flags, first, last, step, 'string']);
    }
  });

  it('leaves arity errors to dispatch', () => {
    expect(h.run('get')).toBe(err("ERR wrong number of arguments for 'get' command"));
    expect(h.run('set', 'k')).toBe(err("ERR wrong number of arguments for 'set' command"));
    expect(h.run('GETRANGE', 'k', '0')).toBe(err("ERR wrong number of arguments for 'getrange' command"));
  });
});

describe('GET and SET', () => {
  it('sets and gets, binary-safe', () => {
    expect(h.run('get', 'k')).toBe(NIL);
    expect(h.run('set', 'k', 'v')).toBe(OK);
    expect(h.run('get', 'k')).toBe(bulk('v'));
    expect(h.run('set', ALL_BYTES, ALL_BYTES)).toBe(OK);
    expect(h.run('get', ALL_BYTES)).toBe(bulk(ALL_BYTES));
    expect(h.run('set', '', '')).toBe(OK);
    expect(h.run('get', '')).toBe('$0\r\n\r\n');
  });

  it('counts keyspace hits and misses', () => {
    h.run('set', 'k', 'v');
    h.run('get', 'k');
    h.run('get', 'nokey');
    h.run('mget', 'k', 'nokey', 'nokey');
    expect(h.engine.stats.keyspaceHits).toBe(2);
    expect(h.engine.stats.keyspaceMisses).toBe(3);
  });

  it('NX, XX and GET', () => {
    expect(h.run('set', 'k', 'v', 'XX')).toBe(NIL);
    expect(h.run('set', 'k', 'v', 'XX', 'GET')).toBe(NIL);
    expect(h.run('get', 'k')).toBe(NIL);
    expect(h.run('set', 'k', 'v', 'NX')).toBe(OK);
    expect(h.run('set', 'k', 'w', 'NX')).toBe(NIL);
    expect(h.run('set', 'k', 'w', 'nx', 'get')).toBe(bulk('v'));
    expect(h.run('get', 'k')).toBe(bulk('v'));
    expect(h.run('set', 'k', 'w', 'xx', 'get')).toBe(bulk('v'));
    expect(h.run('set', 'k', 'x', 'GET')).toBe(bulk('w'));
    expect(h.run('set', 'n', 'x', 'GET')).toBe(NIL);
    expect(h.run('get', 'n')).toBe(bulk('x'));
    // Options may repeat.
    expect(h.run('set', 'k', 'y', 'NX', 'NX', 'GET', 'GET')).toBe(bulk('x'));
  });

  it('refuses conflicting or unknown options with a syntax error', () => {
    for (const opts of [
      ['NX', 'XX'],
      ['XX', 'NX'],
      ['EX', '10', 'PX', '20'],
      ['PX', '10', 'EXAT', '20'],
      ['KEEPTTL', 'EX', '1'],
      ['EX', '1', 'KEEPTTL'],
      ['EX'],
      ['foo'],
      ['EX', '10', 'foo'],
      ['PERSIST'],
    ]) {
      expect(h.run('set', 'k', 'v', ...opts)).toBe(SYNTAX);
    }
    // The same expiry option twice is fine: the last one wins.
    expect(h.run('set', 'k', 'v', 'EX', '10', 'EX', '20')).toBe(OK);
    expect(h.expireAt('k')).toBe(T0 + 20_000);
  });

  it('checks the expire time after the syntax, and before GET and NX', () => {
    expect(h.run('set', 'k', 'v', 'EX', 'abc', 'foo')).toBe(SYNTAX);
    expect(h.run('set', 'k', 'v', 'EX', 'abc')).toBe(NOT_INT);
    expect(h.run('set', 'k', 'v', 'PX', '1.5')).toBe(NOT_INT);
    expect(h.run('set', 'k', 'v', 'EX', '0')).toBe(invalidExpire('set'));
    expect(h.run('set', 'k', 'v', 'EX', '-5')).toBe(invalidExpire('set'));
    h.putList('L');
    expect(h.run('set', 'L', 'v', 'EX', '0', 'GET')).toBe(invalidExpire('set'));
    expect(h.run('set', 'L', 'v', 'GET')).toBe(WRONGTYPE);
    expect(h.run('set', 'L', 'v', 'NX', 'GET')).toBe(WRONGTYPE);
    // Without GET, SET overwrites a value of any type.
    expect(h.run('set', 'L', 'v')).toBe(OK);
    expect(h.run('get', 'L')).toBe(bulk('v'));
  });

  it('refuses expire times that overflow int64 milliseconds', () => {
    // 9223372036854775 s is LLONG_MAX / 1000: it scales, but adding the time overflows.
    expect(h.run('set', 'k', 'v', 'EX', '9223372036854775')).toBe(invalidExpire('set'));
    expect(h.run('set', 'k', 'v', 'EX', '9223372036854776')).toBe(invalidExpire('set'));
    expect(h.run('set', 'k', 'v', 'PX', '9223372036854775807')).toBe(invalidExpire('set'));
    expect(h.run('set', 'k', 'v', 'EX', '9223372036854775808')).toBe(NOT_INT);
    // Absolute times add nothing, so these are valid.
    expect(h.run('set', 'k', 'v', 'EXAT', '9223372036854775')).toBe(OK);
    expect(h.run('set', 'k', 'v', 'PXAT', '9223372036854775807')).toBe(OK);
  });

  it('EX, PX, EXAT and PXAT expire the key', () => {
    expect(h.run('set', 'a', 'v', 'EX', '10')).toBe(OK);
    expect(h.run('set', 'b', 'v', 'PX', '1500')).toBe(OK);
    expect(h.run('set', 'c', 'v', 'EXAT', String(T0 / 1000 + 5))).toBe(OK);
    expect(h.run('set', 'd', 'v', 'pxat', String(T0 + 2500))).toBe(OK);
    expect([h.expireAt('a'), h.expireAt('b'), h.expireAt('c'), h.expireAt('d')]).toEqual([T0 + 10_000, T0 + 1500, T0 + 5000, T0 + 2500]);
    h.now = T0 + 1499;
    expect(h.run('get', 'b')).toBe(bulk('v'));
    h.now = T0 + 1500;
    expect(h.run('get', 'b')).toBe(NIL);
    h.now = T0 + 10_000;
    expect(h.run('mget', 'a', 'b', 'c', 'd')).toBe(arr(NIL, NIL, NIL, NIL));
    // An absolute time in the past: the key is set and at once logically gone.
    expect(h.run('set', 'e', 'v', 'EXAT', '1')).toBe(OK);
    expect(h.run('get', 'e')).toBe(NIL);
  });

  it('clears the TTL unless KEEPTTL', () => {
    h.run('set', 'k', 'v', 'EX', '100');
    expect(h.run('set', 'k', 'w', 'KEEPTTL')).toBe(OK);
    expect(h.expireAt('k')).toBe(T0 + 100_000);
    expect(h.run('set', 'k', 'x')).toBe(OK);
    expect(h.expireAt('k')).toBeUndefined();
  });

  it('treats an expired key as absent for NX, XX and GET', () => {
    h.run('set', 'k', 'old', 'PX', '10');
    h.now += 10;
    expect(h.run('set', 'k', 'v', 'XX', 'GET')).toBe(NIL);
    expect(h.run('set', 'k', 'v', 'NX', 'GET')).toBe(NIL);
    expect(h.run('get', 'k')).toBe(bulk('v'));
  });

  it('touches the key only when it sets it', () => {
    expect(h.touches('k', 'set', 'k', 'v')).toBe(true);
    expect(h.touches('k', 'set', 'k', 'v', 'NX')).toBe(false);
    expect(h.touches('k', 'set', 'k', 'v', 'XX')).toBe(true);
    expect(h.touches('k', 'set', 'k', 'v', 'EX', '0')).toBe(false);
    expect(h.touches('k', 'get', 'k')).toBe(false);
  });
});

describe('SETNX, SETEX, PSETEX', () => {
  it('SETNX sets only a missing key', () => {
    expect(h.run('setnx', 'k', 'v')).toBe(int(1));
    expect(h.run('setnx', 'k', 'w')).toBe(int(0));
    expect(h.run('get', 'k')).toBe(bulk('v'));
    expect(h.touches('k', 'setnx', 'k', 'w')).toBe(false);
    expect(h.touches('j', 'setnx', 'j', 'w')).toBe(true);
  });

  it('SETEX and PSETEX set with a relative expiry', () => {
    expect(h.run('setex', 'k', '100', 'v')).toBe(OK);
    expect(h.expireAt('k')).toBe(T0 + 100_000);
    expect(h.run('psetex', 'p', '1500', 'v')).toBe(OK);
    expect(h.expireAt('p')).toBe(T0 + 1500);
    h.now += 1500;
    expect(h.run('get', 'p')).toBe(NIL);
    expect(h.run('get', 'k')).toBe(bulk('v'));
  });

  it('SETEX and PSETEX validate the time', () => {
    expect(h.run('setex', 'k', '0', 'v')).toBe(invalidExpire('setex'));
    expect(h.run('setex', 'k', 'abc', 'v')).toBe(NOT_INT);
    expect(h.run('setex', 'k', '1.5', 'v')).toBe(NOT_INT);
    expect(h.run('psetex', 'k', '-1', 'v')).toBe(invalidExpire('psetex'));
    expect(h.run('setex', 'k', '9223372036854775', 'v')).toBe(invalidExpire('setex'));
    expect(h.run('get', 'k')).toBe(NIL);
  });
});

describe('GETSET, GETDEL, GETEX', () => {
  it('GETSET replies the old value and clears the TTL', () => {
    expect(h.run('getset', 'k', 'a')).toBe(NIL);
    h.run('set', 'k', 'b', 'EX', '100');
    expect(h.run('getset', 'k', 'c')).toBe(bulk('b'));
    expect(h.expireAt('k')).toBeUndefined();
    expect(h.run('get', 'k')).toBe(bulk('c'));
    h.putList('L');
    expect(h.run('getset', 'L', 'x')).toBe(WRONGTYPE);
    expect(h.touches('k', 'getset', 'k', 'c')).toBe(true);
  });

  it('GETDEL replies the value and deletes the key', () => {
    expect(h.run('getdel', 'k')).toBe(NIL);
    h.run('set', 'k', 'v');
    expect(h.touches('k', 'getdel', 'k')).toBe(true);
    expect(h.run('get', 'k')).toBe(NIL);
    expect(h.touches('k', 'getdel', 'k')).toBe(false);
    h.putList('L');
    expect(h.run('getdel', 'L')).toBe(WRONGTYPE);
  });

  it('GETEX without options is GET', () => {
    h.run('set', 'k', 'v', 'EX', '100');
    expect(h.touches('k', 'getex', 'k')).toBe(false);
    expect(h.run('getex', 'k')).toBe(bulk('v'));
    expect(h.expireAt('k')).toBe(T0 + 100_000);
    expect(h.run('getex', 'nokey')).toBe(NIL);
  });

  it('GETEX sets or removes the TTL', () => {
    h.run('set', 'k', 'v');
    expect(h.run('getex', 'k', 'EX', '100')).toBe(bulk('v'));
    expect(h.expireAt('k')).toBe(T0 + 100_000);
    expect(h.run('getex', 'k', 'px', '5000')).toBe(bulk('v'));
    expect(h.expireAt('k')).toBe(T0 + 5000);
    expect(h.run('getex', 'k', 'EXAT', String(T0 / 1000 + 60))).toBe(bulk('v'));
    expect(h.expireAt('k')).toBe(T0 + 60_000);
    expect(h.run('getex', 'k', 'PXAT', String(T0 + 7))).toBe(bulk('v'));
    expect(h.expireAt('k')).toBe(T0 + 7);
    expect(h.touches('k', 'getex', 'k', 'PERSIST')).toBe(true);
    expect(h.expireAt('k')).toBeUndefined();
    // PERSIST on a key without a TTL changes nothing.
    expect(h.touches('k', 'getex', 'k', 'PERSIST')).toBe(false);
    h.now += 60_000;
    expect(h.run('get', 'k')).toBe(bulk('v'));
  });

  it('GETEX with an absolute time already past deletes the key', () => {
    h.run('set', 'k', 'v');
    expect(h.touches('k', 'getex', 'k', 'EXAT', '1')).toBe(true);
    expect(h.engine.db(0).dict.has('k')).toBe(false);
    h.run('set', 'k', 'v');
    expect(h.run('getex', 'k', 'PXAT', String(T0))).toBe(bulk('v'));
    expect(h.run('get', 'k')).toBe(NIL);
  });

  it('GETEX checks the syntax first, then the key, then the time', () => {
    expect(h.run('getex', 'nokey', 'foo')).toBe(SYNTAX);
    expect(h.run('getex', 'nokey', 'EX', '-1')).toBe(NIL);
    h.run('set', 'k', 'v');
    for (const opts of [['PERSIST', 'EX', '1'], ['EX', '1', 'PERSIST'], ['KEEPTTL'], ['NX'], ['GET'], ['EX'], ['EX', '1', 'PX', '1']]) {
      expect(h.run('getex', 'k', ...opts)).toBe(SYNTAX);
    }
    expect(h.run('getex', 'k', 'EX', '1', 'EX', '2')).toBe(bulk('v'));
    expect(h.run('getex', 'k', 'EX', '0')).toBe(invalidExpire('getex'));
    expect(h.run('getex', 'k', 'EX', 'x')).toBe(NOT_INT);
    h.putList('L');
    expect(h.run('getex', 'L', 'EX', '0')).toBe(WRONGTYPE);
    expect(h.run('getex', 'L', 'foo')).toBe(SYNTAX);
  });
});

describe('MGET, MSET, MSETNX', () => {
  it('MGET replies null for missing keys and other types', () => {
    h.run('mset', 'a', '1', 'b', '2');
    h.putList('L');
    expect(h.run('mget', 'a', 'L', 'nokey', 'b')).toBe(arr(bulk('1'), NIL, NIL, bulk('2')));
  });

  it('MSET sets every pair, overwriting any type and clearing TTLs', () => {
    h.putList('L');
    h.run('set', 'a', 'x', 'EX', '10');
    expect(h.run('mset', 'a', '1', 'L', '2', 'a', '3')).toBe(OK);
    expect(h.run('mget', 'a', 'L')).toBe(arr(bulk('3'), bulk('2')));
    expect(h.expireAt('a')).toBeUndefined();
    expect(h.run('mset', 'a')).toBe(err("ERR wrong number of arguments for 'mset' command"));
    expect(h.run('mset', 'a', '1', 'b')).toBe(err("ERR wrong number of arguments for 'mset' command"));
  });

  it('MSETNX sets nothing if any key exists', () => {
    expect(h.run('msetnx', 'a', '1', 'b')).toBe(err("ERR wrong number of arguments for 'msetnx' command"));
    expect(h.run('msetnx', 'a', '1', 'b', '2')).toBe(int(1));
    expect(h.run('msetnx', 'b', '3', 'c', '4')).toBe(int(0));
    expect(h.run('mget', 'a', 'b', 'c')).toBe(arr(bulk('1'), bulk('2'), NIL));
    expect(h.touches('c', 'msetnx', 'b', '3', 'c', '4')).toBe(false);
    expect(h.touches('d', 'msetnx', 'd', '3', 'e', '4')).toBe(true);
    // An expired key counts as missing.
    h.run('set', 'x', 'v', 'PX', '1');
    h.now += 1;
    expect(h.run('msetnx', 'x', 'new')).toBe(int(1));
  });
});

describe('APPEND and STRLEN', () => {
  it('appends, keeping the TTL', () => {
    expect(h.run('append', 'k', 'foo')).toBe(int(3));
    h.engine.db(0).setExpire('k', T0 + 1000);
    expect(h.run('append', 'k', '\x00\xff')).toBe(int(5));
    expect(h.run('get', 'k')).toBe(bulk('foo\x00\xff'));
    expect(h.expireAt('k')).toBe(T0 + 1000);
    expect(h.touches('k', 'append', 'k', '')).toBe(true);
    expect(h.run('strlen', 'k')).toBe(int(5));
    expect(h.run('strlen', 'nokey')).toBe(int(0));
    h.putList('L');
    expect(h.run('append', 'L', 'x')).toBe(WRONGTYPE);
    expect(h.run('strlen', 'L')).toBe(WRONGTYPE);
  });

  it('refuses to grow a value beyond proto-max-bulk-len', () => {
    const small = new Harness({ protoMaxBulkLen: 10 });
    expect(small.run('append', 'k', '12345678')).toBe(int(8));
    expect(small.run('append', 'k', '90')).toBe(int(10));
    expect(small.run('append', 'k', 'x')).toBe(TOO_LONG);
    expect(small.run('strlen', 'k')).toBe(int(10));
  });
});

describe('GETRANGE, SUBSTR, SETRANGE', () => {
  beforeEach(() => {
    h.run('set', 's', 'Hello World');
  });

  it('GETRANGE takes inclusive, possibly negative, indexes', () => {
    const cases: Array<[string, string, string]> = [
      ['0', '4', 'Hello'],
      ['-3', '-1', 'rld'],
      ['0', '-1', 'Hello World'],
      ['10', '100', 'd'],
      ['11', '100', ''],
      ['-100', '-50', 'H'],
      ['-100', '2', 'Hel'],
      ['-10', '-20', ''],
      ['5', '3', ''],
      ['-9223372036854775808', '9223372036854775807', 'Hello World'],
      ['9223372036854775807', '-9223372036854775808', ''],
      ['-9223372036854775808', '-9223372036854775807', 'H'],
    ];
    for (const [start, end, expected] of cases) {
      expect([start, end, h.run('getrange', 's', start, end)]).toEqual([start, end, bulk(expected)]);
    }
    expect(h.run('substr', 's', '0', '3')).toBe(bulk('Hell'));
    expect(h.run('getrange', 'nokey', '0', '1')).toBe(bulk(''));
    h.run('set', 'e', '');
    expect(h.run('getrange', 'e', '0', '-1')).toBe(bulk(''));
    expect(h.run('getrange', 'e', '-1', '-1')).toBe(bulk(''));
  });

  it('GETRANGE parses both indexes before looking at the key', () => {
    h.putList('L');
    expect(h.run('getrange', 's', 'a', '1')).toBe(NOT_INT);
    expect(h.run('getrange', 's', '0', '1.0')).toBe(NOT_INT);
    expect(h.run('getrange', 'L', 'x', '1')).toBe(NOT_INT);
    expect(h.run('getrange', 'L', '0', '1')).toBe(WRONGTYPE);
  });

  it('SETRANGE overwrites, zero-padding as needed', () => {
    expect(h.run('setrange', 's', '6', 'Redis')).toBe(int(11));
    expect(h.run('get', 's')).toBe(bulk('Hello Redis'));
    expect(h.run('setrange', 's', '9', 'xxxx')).toBe(int(13));
    expect(h.run('get', 's')).toBe(bulk('Hello Redxxxx'));
    expect(h.run('setrange', 'n', '5', 'ab')).toBe(int(7));
    expect(h.run('get', 'n')).toBe(bulk('\x00\x00\x00\x00\x00ab'));
    expect(h.run('setrange', 'n', '9', '\xff')).toBe(int(10));
    expect(h.run('get', 'n')).toBe(bulk('\x00\x00\x00\x00\x00ab\x00\x00\xff'));
  });

  it('SETRANGE with an empty value changes nothing', () => {
    expect(h.touches('s', 'setrange', 's', '100', '')).toBe(false);
    expect(h.run('setrange', 's', '100', '')).toBe(int(11));
    expect(h.touches('m', 'setrange', 'm', '5', '')).toBe(false);
    expect(h.run('setrange', 'm', '5', '')).toBe(int(0));
    expect(h.engine.db(0).dict.has('m')).toBe(false);
    expect(h.touches('s', 'setrange', 's', '0', 'H')).toBe(true);
  });

  it('SETRANGE keeps the TTL', () => {
    h.engine.db(0).setExpire('s', T0 + 1000);
    h.run('setrange', 's', '0', 'J');
    expect(h.expireAt('s')).toBe(T0 + 1000);
  });

  it('SETRANGE errors', () => {
    h.putList('L');
    expect(h.run('setrange', 's', '-1', 'x')).toBe(err('ERR offset is out of range'));
    expect(h.run('setrange', 's', 'abc', 'x')).toBe(NOT_INT);
    expect(h.run('setrange', 'L', '-1', 'x')).toBe(err('ERR offset is out of range'));
    expect(h.run('setrange', 'L', '0', 'x')).toBe(WRONGTYPE);
    expect(h.run('setrange', 'L', '0', '')).toBe(WRONGTYPE);
    expect(h.run('setrange', 's', '9223372036854775807', 'x')).toBe(TOO_LONG);
    const small = new Harness({ protoMaxBulkLen: 10 });
    expect(small.run('setrange', 'k', '9', 'x')).toBe(int(10));
    expect(small.run('setrange', 'k', '9', 'xy')).toBe(TOO_LONG);
    expect(small.run('setrange', 'n', '10', 'x')).toBe(TOO_LONG);
    expect(small.run('setrange', 'n', '10', '')).toBe(int(0));
  });
});

describe('INCR, DECR, INCRBY, DECRBY', () => {
  it('count from a missing key as 0', () => {
    expect(h.run('incr', 'a')).toBe(int(1));
    expect(h.run('decr', 'b')).toBe(int(-1));
    expect(h.run('incrby', 'c', '10')).toBe(int(10));
    expect(h.run('decrby', 'd', '-10')).toBe(int(10));
    h.run('set', 'n', '10');
    expect(h.run('incrby', 'n', '5')).toBe(int(15));
    expect(h.run('decrby', 'n', '20')).toBe(int(-5));
    expect(h.run('get', 'n')).toBe(bulk('-5'));
  });

  it('work in exact 64-bit integers', () => {
    h.run('set', 'm', '9007199254740993');
    expect(h.run('incr', 'm')).toBe(int('9007199254740994'));
    expect(h.run('incrby', 'm', '9007199254740993')).toBe(int('18014398509481987'));
    expect(h.run('decrby', 'm', '18014398509481987')).toBe(int(0));
    h.run('set', 'm', '9223372036854775806');
    expect(h.run('incr', 'm')).toBe(int('9223372036854775807'));
    expect(h.run('incr', 'm')).toBe(OVERFLOW);
    expect(h.run('incrby', 'm', '1')).toBe(OVERFLOW);
    expect(h.run('decrby', 'm', '-1')).toBe(OVERFLOW);
    expect(h.run('incrby', 'm', '-9223372036854775808')).toBe(int(-1));
    h.run('set', 'm', '-9223372036854775808');
    expect(h.run('decr', 'm')).toBe(OVERFLOW);
    expect(h.run('incrby', 'm', '-1')).toBe(OVERFLOW);
    expect(h.run('incrby', 'm', '9223372036854775807')).toBe(int(-1));
    expect(h.run('get', 'm')).toBe(bulk('-1'));
    expect(h.run('decrby', 'm', '-9223372036854775808')).toBe(err('ERR decrement would overflow'));
    expect(h.run('incrby', 'm', '9223372036854775808')).toBe(NOT_INT);
  });

  it('refuse values that are not canonical integers', () => {
    for (const v of ['01', '+1', '-0', ' 1', '1 ', '1.5', '1e3', '', 'abc', '99999999999999999999', '9223372036854775808']) {
      h.run('set', 'm', v);
      expect([v, h.run('incr', 'm')]).toEqual([v, NOT_INT]);
    }
    expect(h.run('incrby', 'm', '1.0')).toBe(NOT_INT);
    expect(h.run('decrby', 'm', 'x')).toBe(NOT_INT);
  });

  it('parse the increment before the type check, keep the TTL and touch the key', () => {
    h.putList('L');
    expect(h.run('incrby', 'L', 'x')).toBe(NOT_INT);
    expect(h.run('incrby', 'L', '1')).toBe(WRONGTYPE);
    expect(h.run('incr', 'L')).toBe(WRONGTYPE);
    h.run('set', 'n', '1', 'EX', '10');
    expect(h.touches('n', 'incrby', 'n', '0')).toBe(true);
    expect(h.expireAt('n')).toBe(T0 + 10_000);
    h.now += 10_000;
    expect(h.run('incr', 'n')).toBe(int(1));
    expect(h.expireAt('n')).toBeUndefined();
  });
});

describe('INCRBYFLOAT', () => {
  it('computes in long double and formats as Redis does', () => {
    h.run('set', 'f', '10.50');
    expect(h.run('incrbyfloat', 'f', '0.1')).toBe(bulk('10.6'));
    expect(h.run('incrbyfloat', 'f', '-5')).toBe(bulk('5.6'));
    h.run('set', 'f', '5.0e3');
    expect(h.run('incrbyfloat', 'f', '2.0e2')).toBe(bulk('5200'));
    h.run('set', 'f', '0.2');
    expect(h.run('incrbyfloat', 'f', '0.1')).toBe(bulk('0.3'));
    expect(h.run('get', 'f')).toBe(bulk('0.3'));
    expect(h.run('incrbyfloat', 'new', '3.0')).toBe(bulk('3'));
    expect(h.run('incrbyfloat', 'new', '0x10')).toBe(bulk('19'));
    h.run('set', 'f', '9223372036854775807');
    expect(h.run('incrbyfloat', 'f', '1')).toBe(bulk('9223372036854775808'));
    h.run('set', 'f', '1');
    expect(h.run('incrbyfloat', 'f', '-1.00000000000000000001')).toBe(bulk('0'));
  });

  it('refuses invalid floats, NaN and infinite results', () => {
    h.run('set', 'f', '1');
    for (const v of ['abc', ' 1', '1 ', '', 'nan', '1e5000', '1\x00']) {
      expect([v, h.run('incrbyfloat', 'f', v)]).toEqual([v, NOT_FLOAT]);
    }
    expect(h.run('incrbyfloat', 'f', 'inf')).toBe(err('ERR increment would produce NaN or Infinity'));
    expect(h.run('incrbyfloat', 'f', '-inf')).toBe(err('ERR increment would produce NaN or Infinity'));
    h.run('set', 'f', '1.18973149535723176502e+4932');
    expect(h.run('incrbyfloat', 'f', '1e4913')).toBe(err('ERR increment would produce NaN or Infinity'));
    h.run('set', 'f', 'abc');
    expect(h.run('incrbyfloat', 'f', '1')).toBe(NOT_FLOAT);
    expect(h.run('get', 'f')).toBe(bulk('abc'));
  });

  it('checks the type before the increment, and keeps the TTL', () => {
    h.putList('L');
    expect(h.run('incrbyfloat', 'L', 'x')).toBe(WRONGTYPE);
    h.run('set', 'f', '1', 'PX', '100');
    expect(h.touches('f', 'incrbyfloat', 'f', '0')).toBe(true);
    expect(h.expireAt('f')).toBe(T0 + 100);
  });
});

describe('LCS', () => {
  beforeEach(() => {
    h.run('mset', 'x', 'ohmytext', 'y', 'mynewtext');
  });

  it('replies the LCS, its length, or its matches', () => {
    expect(h.run('lcs', 'x', 'y')).toBe(bulk('mytext'));
    expect(h.run('lcs', 'x', 'y', 'LEN')).toBe(int(6));
    const range = (a: number, b: number): string => arr(int(a), int(b));
    expect(h.run('lcs', 'x', 'y', 'IDX')).toBe(
      arr(bulk('matches'), arr(arr(range(4, 7), range(5, 8)), arr(range(2, 3), range(0, 1))), bulk('len'), int(6)),
    );
    expect(h.run('lcs', 'x', 'y', 'idx', 'minmatchlen', '4', 'withmatchlen')).toBe(arr(bulk('matches'), arr(arr(range(4, 7), range(5, 8), int(4))), bulk('len'), int(6)));
    expect(h.run('lcs', 'x', 'y', 'idx', 'withmatchlen', 'minmatchlen', '-5')).toBe(
      arr(bulk('matches'), arr(arr(range(4, 7), range(5, 8), int(4)), arr(range(2, 3), range(0, 1), int(2))), bulk('len'), int(6)),
    );
  });

  it('replies a RESP3 map for IDX', () => {
    h.writer.protocol = 3;
    expect(h.run('lcs', 'x', 'y', 'idx', 'minmatchlen', '4', 'withmatchlen')).toBe(
      '%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n',
    );
  });

  it('treats missing keys as empty strings', () => {
    expect(h.run('lcs', 'x', 'nokey')).toBe(bulk(''));
    expect(h.run('lcs', 'nokey', 'nokey2', 'idx')).toBe(arr(bulk('matches'), arr(), bulk('len'), int(0)));
  });

  it('matches the ranges Redis reports on longer inputs', () => {
    h.run('mset', 'p1', 'abcdefghijklmn', 'p2', 'zabxcdeyfgh');
    expect(h.run('lcs', 'p1', 'p2')).toBe(bulk('abcdefgh'));
    const range = (a: number, b: number): string => arr(int(a), int(b));
    expect(h.run('lcs', 'p1', 'p2', 'IDX', 'MINMATCHLEN', '2', 'WITHMATCHLEN')).toBe(
      arr(
        bulk('matches'),
        arr(arr(range(5, 7), range(8, 10), int(3)), arr(range(2, 4), range(4, 6), int(3)), arr(range(0, 1), range(1, 2), int(2))),
        bulk('len'),
        int(8),
      ),
    );
  });

  it('errors', () => {
    h.putList('L');
    expect(h.run('lcs', 'x', 'L')).toBe(err('ERR The specified keys must contain string values'));
    expect(h.run('lcs', 'L', 'x', 'foo')).toBe(err('ERR The specified keys must contain string values'));
    expect(h.run('lcs', 'x', 'y', 'LEN', 'IDX')).toBe(err('ERR If you want both the length and indexes, please just use IDX.'));
    expect(h.run('lcs', 'x', 'y', 'foo')).toBe(SYNTAX);
    expect(h.run('lcs', 'x', 'y', 'minmatchlen')).toBe(SYNTAX);
    expect(h.run('lcs', 'x', 'y', 'minmatchlen', 'x')).toBe(NOT_INT);
    const small = new Harness({ protoMaxBulkLen: 1000 });
    small.run('mset', 'a', 'x'.repeat(14), 'b', 'y'.repeat(15));
    expect(small.run('lcs', 'a', 'b', 'len')).toBe(int(0)); // 15 * 16 * 4 = 960 bytes of table
    small.run('set', 'b', 'y'.repeat(16));
    expect(small.run('lcs', 'a', 'b', 'len')).toBe(err('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len'));
  });
});
