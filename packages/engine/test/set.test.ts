// The set commands (types/set.ts), driven through the Engine. The transcript's replies are
// redis-server 7.0.15's, byte for byte, in RESP2 and RESP3 (recorded from a real server; its
// sets are intsets or single-member sets, whose order Redis fixes). Replies whose order depends
// on Redis's hash function (hashtable-encoded sets) are checked unordered below.

import { arr, bulk, Harness, Row, runTranscript } from './harness';

const transcript: Row[] = [
  [["sadd", "s", "5", "3", "1", "-2", "100", "3"], ":5\r\n"],
  [["sadd", "s", "9223372036854775807", "-9223372036854775808"], ":2\r\n"],
  [["smembers", "s"], "*7\r\n$20\r\n-9223372036854775808\r\n$2\r\n-2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$3\r\n100\r\n$19\r\n9223372036854775807\r\n", "~7\r\n$20\r\n-9223372036854775808\r\n$2\r\n-2\r\n$1\r\n1\r\n$1\r\n3\r\n$1\r\n5\r\n$3\r\n100\r\n$19\r\n9223372036854775807\r\n"],
  [["object", "encoding", "s"], "$6\r\nintset\r\n"],
  [["sadd", "s", "9223372036854775808"], ":1\r\n"],
  [["object", "encoding", "s"], "$9\r\nhashtable\r\n"],
  [["sadd", "i", "10", "2", "33", "007", "-0", "+5", " 1"], ":7\r\n"],
  [["object", "encoding", "i"], "$9\r\nhashtable\r\n"],
  [["sadd", "j", "10", "2", "33", "1"], ":4\r\n"],
  [["smembers", "j"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n33\r\n", "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$2\r\n10\r\n$2\r\n33\r\n"],
  [["scard", "j"], ":4\r\n"],
  [["scard", "nokey"], ":0\r\n"],
  [["sismember", "j", "2"], ":1\r\n"],
  [["sismember", "j", "02"], ":0\r\n"],
  [["sismember", "j", "x"], ":0\r\n"],
  [["sismember", "nokey", "x"], ":0\r\n"],
  [["smismember", "j", "1", "x", "2"], "*3\r\n:1\r\n:0\r\n:1\r\n"],
  [["smismember", "nokey", "1", "x"], "*2\r\n:0\r\n:0\r\n"],
  [["srem", "j", "2", "99", "x"], ":1\r\n"],
  [["srem", "j", "99"], ":0\r\n"],
  [["srem", "nokey", "1"], ":0\r\n"],
  [["smembers", "j"], "*3\r\n$1\r\n1\r\n$2\r\n10\r\n$2\r\n33\r\n", "~3\r\n$1\r\n1\r\n$2\r\n10\r\n$2\r\n33\r\n"],
  [["srem", "j", "10", "33", "1"], ":3\r\n"],
  [["exists", "j"], ":0\r\n"],
  [["sadd", "a", "1", "2", "3", "4"], ":4\r\n"],
  [["sadd", "b", "3", "4", "5"], ":3\r\n"],
  [["sadd", "c", "4", "5", "6"], ":3\r\n"],
  [["sinter", "a", "b"], "*2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["sinter", "a", "b", "c"], "*1\r\n$1\r\n4\r\n", "~1\r\n$1\r\n4\r\n"],
  [["sinter", "a", "nokey"], "*0\r\n", "~0\r\n"],
  [["sinter", "nokey", "a"], "*0\r\n", "~0\r\n"],
  [["sinter", "a", "a"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["sinter", "a"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["sunion", "a", "b", "c"], "*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n", "~6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"],
  [["sunion", "a", "nokey"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["sunion", "nokey"], "*0\r\n", "~0\r\n"],
  [["sdiff", "a", "b"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["sdiff", "a", "b", "c"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["sdiff", "a", "nokey"], "*4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~4\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["sdiff", "nokey", "a"], "*0\r\n", "~0\r\n"],
  [["sdiff", "a", "a"], "*0\r\n", "~0\r\n"],
  [["sdiff", "a", "b", "a"], "*0\r\n", "~0\r\n"],
  [["sintercard", "1", "a"], ":4\r\n"],
  [["sintercard", "2", "a", "b"], ":2\r\n"],
  [["sintercard", "3", "a", "b", "c"], ":1\r\n"],
  [["sintercard", "2", "a", "nokey"], ":0\r\n"],
  [["sintercard", "2", "a", "b", "LIMIT", "1"], ":1\r\n"],
  [["sintercard", "2", "a", "b", "LIMIT", "0"], ":2\r\n"],
  [["sintercard", "2", "a", "b", "LIMIT", "-1"], "-ERR LIMIT can't be negative\r\n"],
  [["sintercard", "2", "a", "b", "LIMIT", "x"], "-ERR LIMIT can't be negative\r\n"],
  [["sintercard", "2", "a", "b", "FOO", "1"], "-ERR syntax error\r\n"],
  [["sintercard", "2", "a", "b", "LIMIT"], "-ERR syntax error\r\n"],
  [["sintercard", "0", "a"], "-ERR numkeys should be greater than 0\r\n"],
  [["sintercard", "-1", "a"], "-ERR numkeys should be greater than 0\r\n"],
  [["sintercard", "x", "a"], "-ERR numkeys should be greater than 0\r\n"],
  [["sintercard", "3", "a", "b"], "-ERR Number of keys can't be greater than number of args\r\n"],
  [["sintercard", "1", "a", "b"], "-ERR syntax error\r\n"],
  [["sinterstore", "d", "a", "b"], ":2\r\n"],
  [["smembers", "d"], "*2\r\n$1\r\n3\r\n$1\r\n4\r\n", "~2\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["object", "encoding", "d"], "$6\r\nintset\r\n"],
  [["sinterstore", "d", "a", "nokey"], ":0\r\n"],
  [["exists", "d"], ":0\r\n"],
  [["sunionstore", "d", "a", "b", "c"], ":6\r\n"],
  [["smembers", "d"], "*6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n", "~6\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"],
  [["sdiffstore", "d", "a", "b"], ":2\r\n"],
  [["smembers", "d"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["sdiffstore", "d", "nokey", "a"], ":0\r\n"],
  [["exists", "d"], ":0\r\n"],
  [["set", "str", "x"], "+OK\r\n"],
  [["sadd", "str1", "only"], ":1\r\n"],
  [["set", "strd", "x"], "+OK\r\n"],
  [["sinterstore", "strd", "str1", "str1"], ":1\r\n"],
  [["type", "strd"], "+set\r\n"],
  [["smembers", "strd"], "*1\r\n$4\r\nonly\r\n", "~1\r\n$4\r\nonly\r\n"],
  [["sunionstore", "str2", "nokey"], ":0\r\n"],
  [["sadd", "x1", "a", "b", "1", "2"], ":4\r\n"],
  [["sadd", "x2", "1"], ":1\r\n"],
  [["sinter", "x2", "x1"], "*1\r\n$1\r\n1\r\n", "~1\r\n$1\r\n1\r\n"],
  [["sinter", "x1", "x2"], "*1\r\n$1\r\n1\r\n", "~1\r\n$1\r\n1\r\n"],
  [["sdiff", "x2", "x1"], "*0\r\n", "~0\r\n"],
  [["sunionstore", "u", "x2"], ":1\r\n"],
  [["object", "encoding", "u"], "$6\r\nintset\r\n"],
  [["smove", "a", "b", "1"], ":1\r\n"],
  [["smove", "a", "b", "4"], ":1\r\n"],
  [["smove", "a", "b", "zz"], ":0\r\n"],
  [["smove", "nokey", "b", "1"], ":0\r\n"],
  [["smove", "a", "a", "2"], ":1\r\n"],
  [["smove", "a", "a", "99"], ":0\r\n"],
  [["smove", "a", "str", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["smove", "str", "a", "2"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["smove", "a", "newset", "2"], ":1\r\n"],
  [["smembers", "newset"], "*1\r\n$1\r\n2\r\n", "~1\r\n$1\r\n2\r\n"],
  [["object", "encoding", "newset"], "$6\r\nintset\r\n"],
  [["smembers", "a"], "*1\r\n$1\r\n3\r\n", "~1\r\n$1\r\n3\r\n"],
  [["smove", "a", "nonint", "x"], ":0\r\n"],
  [["spop", "nokey"], "$-1\r\n", "_\r\n"],
  [["spop", "nokey", "2"], "*0\r\n", "~0\r\n"],
  [["spop", "nokey", "0"], "*0\r\n", "~0\r\n"],
  [["spop", "nokey", "x"], "-ERR value is out of range, must be positive\r\n"],
  [["spop", "a", "0"], "*0\r\n", "~0\r\n"],
  [["spop", "a", "-1"], "-ERR value is out of range, must be positive\r\n"],
  [["spop", "a", "x"], "-ERR value is out of range, must be positive\r\n"],
  [["spop", "a", "1", "2"], "-ERR syntax error\r\n"],
  [["srandmember", "nokey"], "$-1\r\n", "_\r\n"],
  [["srandmember", "nokey", "3"], "*0\r\n"],
  [["srandmember", "nokey", "-3"], "*0\r\n"],
  [["srandmember", "nokey", "0"], "*0\r\n"],
  [["srandmember", "nokey", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["srandmember", "a", "0"], "*0\r\n"],
  [["srandmember", "a", "100"], "*1\r\n$1\r\n3\r\n"],
  [["srandmember", "a", "1", "2"], "-ERR syntax error\r\n"],
  [["srandmember", "a", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"],
  [["srandmember", "a", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["sadd", "one", "only"], ":1\r\n"],
  [["spop", "one"], "$4\r\nonly\r\n"],
  [["exists", "one"], ":0\r\n"],
  [["sadd", "one", "only"], ":1\r\n"],
  [["srandmember", "one"], "$4\r\nonly\r\n"],
  [["srandmember", "one", "-3"], "*3\r\n$4\r\nonly\r\n$4\r\nonly\r\n$4\r\nonly\r\n"],
  [["spop", "one", "1"], "*1\r\n$4\r\nonly\r\n", "~1\r\n$4\r\nonly\r\n"],
  [["exists", "one"], ":0\r\n"],
  [["sadd", "two", "1", "2"], ":2\r\n"],
  [["spop", "two", "5"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["exists", "two"], ":0\r\n"],
  [["sadd", "ht", "a", "1", "2"], ":3\r\n"],
  [["srem", "ht", "a"], ":1\r\n"],
  [["srandmember", "ht", "10"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["spop", "ht", "10"], "*2\r\n$1\r\n1\r\n$1\r\n2\r\n", "~2\r\n$1\r\n1\r\n$1\r\n2\r\n"],
  [["sscan", "a", "0"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n"],
  [["sscan", "a", "0", "match", "3"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n"],
  [["sscan", "a", "0", "count", "1"], "*2\r\n$1\r\n0\r\n*1\r\n$1\r\n3\r\n"],
  [["sscan", "a", "x"], "-ERR invalid cursor\r\n"],
  [["sscan", "a", "0", "count", "0"], "-ERR syntax error\r\n"],
  [["sscan", "a", "0", "type", "set"], "-ERR syntax error\r\n"],
  [["sscan", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"],
  [["sscan", "nokey", "0", "count", "x"], "*2\r\n$1\r\n0\r\n*0\r\n"],
  [["sismember", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["smembers", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sadd", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["srem", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["scard", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["spop", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["srandmember", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sinter", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sunion", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sdiff", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sdiff", "a", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sscan", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["smismember", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sintercard", "1", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["sadd", "bin", "\x00ÿ", ""], ":2\r\n"],
  [["scard", "bin"], ":2\r\n"],
  [["sismember", "bin", ""], ":1\r\n"],
  [["type", "bin"], "+set\r\n"],
];

describe('set transcript (redis-server 7.0.15)', () => {
  test('RESP2', () => expect(runTranscript(transcript, 2)).toEqual([]));
  test('RESP3', () => expect(runTranscript(transcript, 3)).toEqual([]));
});

/** The bulk strings of a reply, in order (the cursor first for a scan). */
function items(reply: string): string[] {
  const out: string[] = [];
  const re = /\$(\d+)\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(reply)) !== null) {
    const start = m.index + m[0].length;
    out.push(reply.slice(start, start + Number(m[1])));
    re.lastIndex = start + Number(m[1]) + 2;
  }
  return out;
}

const sorted = (reply: string): string[] => items(reply).sort();

describe('encodings', () => {
  test('intset (ascending) until a non-integer or more than set-max-intset-entries', () => {
    const h = new Harness({ setMaxIntsetEntries: 4 });
    h.run('sadd', 's', '3', '-1', '2', '9223372036854775807');
    expect(h.encoding('s')).toBe(bulk('intset'));
    expect(h.run('smembers', 's')).toBe(arr('-1', '2', '3', '9223372036854775807'));
    h.run('sadd', 's', '4');
    expect(h.encoding('s')).toBe(bulk('hashtable'));
    h.run('srem', 's', '4');
    expect(h.encoding('s')).toBe(bulk('hashtable'));
    const t = new Harness();
    for (const m of ['01', '+1', '-0', ' 1', '1.0', '9223372036854775808', 'a']) {
      t.run('del', 't');
      t.run('sadd', 't', '1', m);
      expect([m, t.encoding('t')]).toEqual([m, bulk('hashtable')]);
    }
  });

  test('a hashtable set replies every member (order is the table\'s, compared unordered)', () => {
    const h = new Harness();
    h.run('sadd', 'a', 'x', 'y', 'z', '1');
    h.run('sadd', 'b', 'y', 'z', 'w');
    expect(sorted(h.run('smembers', 'a'))).toEqual(['1', 'x', 'y', 'z']);
    expect(sorted(h.run('sinter', 'a', 'b'))).toEqual(['y', 'z']);
    expect(sorted(h.run('sunion', 'a', 'b'))).toEqual(['1', 'w', 'x', 'y', 'z']);
    expect(sorted(h.run('sdiff', 'a', 'b'))).toEqual(['1', 'x']);
    expect(h.run('sdiffstore', 'd', 'a', 'b')).toBe(':2\r\n');
    expect(h.encoding('d')).toBe(bulk('hashtable'));
    // A result of integers only is a new intset: ascending, as Redis replies it.
    h.run('sadd', 'c', 'x', '5', '3');
    expect(h.run('sdiff', 'c', 'a')).toBe(arr('3', '5'));
    expect(h.run('sunionstore', 'u', 'c', 'a')).toBe(':6\r\n');
    expect(h.run('sinterstore', 'i', 'c', 'c')).toBe(':3\r\n');
    expect(h.run('srem', 'c', 'x')).toBe(':1\r\n');
    expect(h.run('srandmember', 'c', '10')).toBe(arr('3', '5'));
  });

  test('COPY makes an independent set, in either encoding', () => {
    const h = new Harness();
    for (const members of [['1', '2'], ['a', 'b']]) {
      h.run('del', 's', 'c');
      h.run('sadd', 's', ...members);
      h.run('copy', 's', 'c');
      expect(h.run('smembers', 'c')).toBe(h.run('smembers', 's'));
      h.run('sadd', 'c', 'new');
      expect(h.run('scard', 's')).toBe(':2\r\n');
      expect(h.encoding('s')).toBe(bulk(members[0] === '1' ? 'intset' : 'hashtable'));
    }
  });
});

describe('writes', () => {
  test('signal WATCH only when they change something; an emptied set is deleted', () => {
    const h = new Harness();
    expect(h.touches('s', 'sadd', 's', 'a', 'b')).toBe(true);
    expect(h.touches('s', 'sadd', 's', 'a')).toBe(false);
    expect(h.touches('s', 'srem', 's', 'zz')).toBe(false);
    expect(h.touches('s', 'smove', 's', 't', 'zz')).toBe(false);
    expect(h.touches('t', 'smove', 's', 't', 'a')).toBe(true);
    expect(h.touches('s', 'spop', 's')).toBe(true);
    expect(h.engine.db(0).dict.has('s')).toBe(false);
    expect(h.touches('d', 'sinterstore', 'd', 'nosuch')).toBe(false);
    expect(h.touches('d', 'sunionstore', 'd', 't')).toBe(true);
    expect(h.touches('d', 'sdiffstore', 'd', 't', 't')).toBe(true);
    expect(h.engine.db(0).dict.has('d')).toBe(false);
  });

  test('*STORE replaces the destination whatever its type and drops its TTL', () => {
    const h = new Harness();
    h.run('sadd', 'a', '1', '2');
    h.run('set', 'd', 'string', 'ex', '100');
    expect(h.run('sunionstore', 'd', 'a')).toBe(':2\r\n');
    expect(h.run('type', 'd')).toBe('+set\r\n');
    expect(h.run('ttl', 'd')).toBe(':-1\r\n');
  });
});

describe('random members', () => {
  function scenario(): string[] {
    const h = new Harness();
    const out: string[] = [];
    for (const [key, prefix] of [['ints', ''], ['words', 'w']] as const) {
      const members: string[] = [];
      for (let i = 0; i < 60; i++) members.push(`${prefix}${i}`);
      h.run('sadd', key, ...members);
      out.push(h.run('srandmember', key), h.run('srandmember', key, '5'), h.run('srandmember', key, '-7'));
      out.push(h.run('srandmember', key, '50'), h.run('spop', key), h.run('spop', key, '4'), h.run('spop', key, '40'));
      out.push(h.run('smembers', key), h.run('sscan', key, '0', 'count', '3'));
    }
    return out;
  }

  test('SPOP and SRANDMEMBER draw from the seeded generator: same seeds, same replies and state', () => {
    expect(scenario()).toEqual(scenario());
  });

  test('positive counts give distinct members; SPOP removes what it returns', () => {
    for (const prefix of ['', 'w']) {
      const h = new Harness();
      const all: string[] = [];
      for (let i = 0; i < 100; i++) all.push(`${prefix}${i}`);
      h.run('sadd', 's', ...all);
      for (const count of [1, 10, 40, 99]) {
        const got = items(h.run('srandmember', 's', String(count)));
        expect(new Set(got).size).toBe(count);
        for (const m of got) expect(all).toContain(m);
      }
      expect(items(h.run('srandmember', 's', '-300')).length).toBe(300);
      const popped = items(h.run('spop', 's', '90'));
      expect(new Set(popped).size).toBe(90);
      const left = items(h.run('smembers', 's'));
      expect([...popped, ...left].sort()).toEqual([...all].sort());
      expect(h.run('spop', 's', '0')).toBe('*0\r\n');
    }
  });

  test('SPOP with a count replies a set in RESP3, SRANDMEMBER an array', () => {
    const h = new Harness({}, 3);
    h.run('sadd', 's', '1', '2');
    expect(h.run('srandmember', 's', '5')).toBe(arr('1', '2'));
    expect(h.run('spop', 's', '5')).toBe(`~2\r\n${bulk('1')}${bulk('2')}`);
  });
});

describe('SSCAN over a hashtable', () => {
  test('a full scan returns every member; MATCH filters', () => {
    const h = new Harness();
    const want: string[] = [];
    for (let i = 0; i < 1000; i++) want.push(`m${i}`);
    h.run('sadd', 's', ...want);
    let cursor = '0';
    const seen = new Set<string>();
    do {
      const xs = items(h.run('sscan', 's', cursor, 'count', '15'));
      cursor = xs[0]!;
      for (const m of xs.slice(1)) seen.add(m);
    } while (cursor !== '0');
    expect([...seen].sort()).toEqual([...want].sort());
    cursor = '0';
    const matched: string[] = [];
    do {
      const xs = items(h.run('sscan', 's', cursor, 'match', 'm1?'));
      cursor = xs[0]!;
      matched.push(...xs.slice(1));
    } while (cursor !== '0');
    expect(matched.sort()).toEqual(['m10', 'm11', 'm12', 'm13', 'm14', 'm15', 'm16', 'm17', 'm18', 'm19']);
  });
});

describe('SINTERCARD', () => {
  test('declares its keys (movablekeys) and stops at LIMIT', () => {
    const h = new Harness();
    const spec = h.engine.commands.lookup('sintercard')!;
    expect(spec.getKeys!(['sintercard', '2', 'a', 'b', 'limit', '1'])).toEqual([2, 3]);
    expect(spec.getKeys!(['sintercard', 'x', 'a'])).toEqual([]);
    const members: string[] = [];
    for (let i = 0; i < 1000; i++) members.push(`x${i}`);
    h.run('sadd', 'a', ...members);
    h.run('sadd', 'b', ...members);
    expect(h.run('sintercard', '2', 'a', 'b')).toBe(':1000\r\n');
    expect(h.run('sintercard', '2', 'a', 'b', 'limit', '10')).toBe(':10\r\n');
  });
});
