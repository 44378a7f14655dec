// The hash commands (types/hash.ts), driven through the Engine. The transcript's replies are
// redis-server 7.0.15's, byte for byte, in RESP2 and RESP3 (recorded from a real server);
// replies whose order depends on Redis's hash function (a hashtable-encoded hash) are
// checked unordered below.

import { arr, bulk, Harness, Row, runTranscript } from './harness';

const transcript: Row[] = [
  [["hset", "h", "a", "1", "b", "2", "c", "3"], ":3\r\n"],
  [["hset", "h", "a", "10", "d", "4"], ":1\r\n"],
  [["hset", "h", "x"], "-ERR wrong number of arguments for 'hset' command\r\n"],
  [["hset", "h", "x", "y", "z"], "-ERR wrong number of arguments for 'hset' command\r\n"],
  [["hmset", "h", "e", "5"], "+OK\r\n"],
  [["hmset", "h", "e"], "-ERR wrong number of arguments for 'hmset' command\r\n"],
  [["hsetnx", "h", "a", "100"], ":0\r\n"],
  [["hsetnx", "h", "f", "6"], ":1\r\n"],
  [["hsetnx", "nokey2", "a", "1"], ":1\r\n"],
  [["hget", "h", "a"], "$2\r\n10\r\n"],
  [["hget", "h", "zz"], "$-1\r\n", "_\r\n"],
  [["hget", "nokey", "a"], "$-1\r\n", "_\r\n"],
  [["hmget", "h", "a", "zz", "b"], "*3\r\n$2\r\n10\r\n$-1\r\n$1\r\n2\r\n", "*3\r\n$2\r\n10\r\n_\r\n$1\r\n2\r\n"],
  [["hmget", "nokey", "a", "b"], "*2\r\n$-1\r\n$-1\r\n", "*2\r\n_\r\n_\r\n"],
  [["hlen", "h"], ":6\r\n"],
  [["hlen", "nokey"], ":0\r\n"],
  [["hstrlen", "h", "a"], ":2\r\n"],
  [["hstrlen", "h", "zz"], ":0\r\n"],
  [["hstrlen", "nokey", "a"], ":0\r\n"],
  [["hexists", "h", "a"], ":1\r\n"],
  [["hexists", "h", "zz"], ":0\r\n"],
  [["hexists", "nokey", "a"], ":0\r\n"],
  [["hkeys", "h"], "*6\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n$1\r\ne\r\n$1\r\nf\r\n"],
  [["hvals", "h"], "*6\r\n$2\r\n10\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n$1\r\n5\r\n$1\r\n6\r\n"],
  [["hgetall", "h"], "*12\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n", "%6\r\n$1\r\na\r\n$2\r\n10\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"],
  [["hgetall", "nokey"], "*0\r\n", "%0\r\n"],
  [["hkeys", "nokey"], "*0\r\n"],
  [["hvals", "nokey"], "*0\r\n"],
  [["hdel", "h", "a", "zz"], ":1\r\n"],
  [["hdel", "h", "zz"], ":0\r\n"],
  [["hdel", "nokey", "a"], ":0\r\n"],
  [["hgetall", "h"], "*10\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n", "%5\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n"],
  [["hset", "h", "a", "again"], ":1\r\n"],
  [["hgetall", "h"], "*12\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\na\r\n$5\r\nagain\r\n", "%6\r\n$1\r\nb\r\n$1\r\n2\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nd\r\n$1\r\n4\r\n$1\r\ne\r\n$1\r\n5\r\n$1\r\nf\r\n$1\r\n6\r\n$1\r\na\r\n$5\r\nagain\r\n"],
  [["object", "encoding", "h"], "$8\r\nlistpack\r\n"],
  [["hincrby", "h", "b", "5"], ":7\r\n"],
  [["hincrby", "h", "b", "-20"], ":-13\r\n"],
  [["hincrby", "h", "new", "7"], ":7\r\n"],
  [["hincrby", "h", "new", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["hincrby", "h", "new", "9223372036854775807"], "-ERR increment or decrement would overflow\r\n"],
  [["hset", "h", "big", "9223372036854775807"], ":1\r\n"],
  [["hincrby", "h", "big", "1"], "-ERR increment or decrement would overflow\r\n"],
  [["hset", "h", "neg", "-9223372036854775808"], ":1\r\n"],
  [["hincrby", "h", "neg", "-1"], "-ERR increment or decrement would overflow\r\n"],
  [["hincrby", "h", "neg", "0"], ":-9223372036854775808\r\n"],
  [["hset", "h", "str", "abc"], ":1\r\n"],
  [["hincrby", "h", "str", "1"], "-ERR hash value is not an integer\r\n"],
  [["hset", "h", "lead", "007"], ":1\r\n"],
  [["hincrby", "h", "lead", "1"], "-ERR hash value is not an integer\r\n"],
  [["hset", "h", "sp", " 1"], ":1\r\n"],
  [["hincrby", "h", "sp", "1"], "-ERR hash value is not an integer\r\n"],
  [["hincrbyfloat", "h", "fl", "10.5"], "$4\r\n10.5\r\n"],
  [["hincrbyfloat", "h", "fl", "0.1"], "$4\r\n10.6\r\n"],
  [["hincrbyfloat", "h", "fl", "-5e3"], "$23\r\n-4989.39999999999999991\r\n"],
  [["hincrbyfloat", "h", "fl", "1e300"], "$301\r\n1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144\r\n"],
  [["hincrbyfloat", "h", "str", "1"], "-ERR hash value is not a float\r\n"],
  [["hincrbyfloat", "h", "fl", "x"], "-ERR value is not a valid float\r\n"],
  [["hincrbyfloat", "h", "fl", "inf"], "-ERR value is NaN or Infinity\r\n"],
  [["hincrbyfloat", "h", "fl", "-inf"], "-ERR value is NaN or Infinity\r\n"],
  [["hincrbyfloat", "h", "fl", "nan"], "-ERR value is not a valid float\r\n"],
  [["hincrbyfloat", "h", "b", "1.5"], "$5\r\n-11.5\r\n"],
  [["hset", "h", "finf", "inf"], ":1\r\n"],
  [["hincrbyfloat", "h", "finf", "1"], "-ERR increment would produce NaN or Infinity\r\n"],
  [["hincrbyfloat", "h", "f3", "0x10"], "$2\r\n16\r\n"],
  [["hincrbyfloat", "h", "f3", "3.0"], "$2\r\n19\r\n"],
  [["hincrbyfloat", "h", "f3", "1e-20"], "$2\r\n19\r\n"],
  [["hget", "h", "f3"], "$2\r\n19\r\n"],
  [["object", "encoding", "h"], "$9\r\nhashtable\r\n"],
  [["hset", "lp", "a", "1"], ":1\r\n"],
  [["hset", "lp", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "1"], ":1\r\n"],
  [["object", "encoding", "lp"], "$9\r\nhashtable\r\n"],
  [["hset", "lp2", "a", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"], ":1\r\n"],
  [["object", "encoding", "lp2"], "$9\r\nhashtable\r\n"],
  [["hincrby", "lp3", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "1"], ":1\r\n"],
  [["object", "encoding", "lp3"], "$9\r\nhashtable\r\n"],
  [["hincrbyfloat", "lp4", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "1"], "$1\r\n1\r\n"],
  [["object", "encoding", "lp4"], "$9\r\nhashtable\r\n"],
  [["hsetnx", "lp5", "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "1"], ":1\r\n"],
  [["object", "encoding", "lp5"], "$9\r\nhashtable\r\n"],
  [["hset", "lp6", "a", "1", "b", "2", "c", "3"], ":3\r\n"],
  [["hdel", "lp6", "b"], ":1\r\n"],
  [["hset", "lp6", "b", "4", "a", "5"], ":1\r\n"],
  [["hgetall", "lp6"], "*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", "%3\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hkeys", "lp6"], "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"],
  [["hvals", "lp6"], "*3\r\n$1\r\n5\r\n$1\r\n3\r\n$1\r\n4\r\n"],
  [["hscan", "lp6", "0"], "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hscan", "lp6", "0", "match", "a"], "*2\r\n$1\r\n0\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n"],
  [["hscan", "lp6", "0", "MATCH", "*", "COUNT", "1"], "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hscan", "lp6", "123"], "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hscan", "lp6", "x"], "-ERR invalid cursor\r\n"],
  [["hscan", "lp6", "0", "count", "0"], "-ERR syntax error\r\n"],
  [["hscan", "lp6", "0", "count", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["hscan", "lp6", "0", "count"], "-ERR syntax error\r\n"],
  [["hscan", "lp6", "0", "type", "hash"], "-ERR syntax error\r\n"],
  [["hscan", "lp6", "0", "foo", "bar"], "-ERR syntax error\r\n"],
  [["hscan", "nokey", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"],
  [["hscan", "nokey", "0", "count", "0"], "*2\r\n$1\r\n0\r\n*0\r\n"],
  [["hscan", "nokey", "x"], "-ERR invalid cursor\r\n"],
  [["hscan", "lp6", "-1"], "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hscan", "lp6", ""], "*2\r\n$1\r\n0\r\n*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hrandfield", "lp6", "3"], "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"],
  [["hrandfield", "lp6", "10"], "*3\r\n$1\r\na\r\n$1\r\nc\r\n$1\r\nb\r\n"],
  [["hrandfield", "lp6", "10", "withvalues"], "*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", "*3\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hrandfield", "lp6", "10", "WITHVALUES"], "*6\r\n$1\r\na\r\n$1\r\n5\r\n$1\r\nc\r\n$1\r\n3\r\n$1\r\nb\r\n$1\r\n4\r\n", "*3\r\n*2\r\n$1\r\na\r\n$1\r\n5\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$1\r\nb\r\n$1\r\n4\r\n"],
  [["hrandfield", "lp6", "0"], "*0\r\n"],
  [["hrandfield", "lp6", "0", "withvalues"], "*0\r\n"],
  [["hrandfield", "lp6", "1", "foo"], "-ERR syntax error\r\n"],
  [["hrandfield", "lp6", "1", "withvalues", "x"], "-ERR syntax error\r\n"],
  [["hrandfield", "lp6", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["hrandfield", "lp6", "-9223372036854775808"], "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"],
  [["hrandfield", "lp6", "4611686018427387904", "withvalues"], "-ERR value is out of range\r\n"],
  [["hrandfield", "lp6", "-4611686018427387904", "withvalues"], "-ERR value is out of range\r\n"],
  [["hrandfield", "nokey"], "$-1\r\n", "_\r\n"],
  [["hrandfield", "nokey", "5"], "*0\r\n"],
  [["hrandfield", "nokey", "5", "withvalues"], "*0\r\n"],
  [["hrandfield", "nokey", "x"], "-ERR value is not an integer or out of range\r\n"],
  [["set", "str", "x"], "+OK\r\n"],
  [["hset", "str", "a", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hget", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hmget", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hgetall", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hkeys", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hlen", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hdel", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hincrby", "str", "a", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hincrbyfloat", "str", "a", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hrandfield", "str"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hrandfield", "str", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hscan", "str", "0"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hscan", "str", "0", "count", "x"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hexists", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hstrlen", "str", "a"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hsetnx", "str", "a", "1"], "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"],
  [["hset", "bin", "\x00ÿ", "\\r\\n"], ":1\r\n"],
  [["hgetall", "bin"], "*2\r\n$2\r\n\x00ÿ\r\n$4\r\n\\r\\n\r\n", "%1\r\n$2\r\n\x00ÿ\r\n$4\r\n\\r\\n\r\n"],
  [["hset", "e", "", ""], ":1\r\n"],
  [["hgetall", "e"], "*2\r\n$0\r\n\r\n$0\r\n\r\n", "%1\r\n$0\r\n\r\n$0\r\n\r\n"],
  [["hstrlen", "e", ""], ":0\r\n"],
  [["type", "h"], "+hash\r\n"],
  [["object", "encoding", "lp6"], "$8\r\nlistpack\r\n"],
];

describe('hash transcript (redis-server 7.0.15)', () => {
  test('RESP2', () => expect(runTranscript(transcript, 2)).toEqual([]));
  test('RESP3', () => expect(runTranscript(transcript, 3)).toEqual([]));
});

/** The bulk strings of a flat RESP2 array reply, in order. */
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

/** Field/value pairs of an HGETALL-like reply as a sorted list of "field=value". */
function pairs(reply: string): string[] {
  const xs = items(reply);
  const out: string[] = [];
  for (let i = 0; i < xs.length; i += 2) out.push(`${xs[i]}=${xs[i + 1]}`);
  return out.sort();
}

describe('encodings', () => {
  test('listpack until more than hash-max-listpack-entries fields, then hashtable for good', () => {
    const h = new Harness({ hashMaxListpackEntries: 4 });
    h.run('hset', 'h', 'a', '1', 'b', '2', 'c', '3', 'd', '4');
    expect(h.encoding('h')).toBe(bulk('listpack'));
    h.run('hset', 'h', 'e', '5');
    expect(h.encoding('h')).toBe(bulk('hashtable'));
    h.run('hdel', 'h', 'a', 'b', 'c', 'd');
    expect(h.encoding('h')).toBe(bulk('hashtable'));
    expect(h.run('hgetall', 'h')).toBe(arr('e', '5'));
  });

  test('a field or value longer than hash-max-listpack-value converts, by any writer', () => {
    for (const argv of [['hset', 'h', 'f', 'v'.repeat(9)], ['hset', 'h', 'f'.repeat(9), 'v'], ['hsetnx', 'h', 'f'.repeat(9), '1'],
      ['hincrby', 'h', 'f'.repeat(9), '1'], ['hincrbyfloat', 'h', 'f'.repeat(9), '1.5'], ['hincrbyfloat', 'h', 'f', '0.0000001']]) {
      const h = new Harness({ hashMaxListpackValue: 8 });
      h.run('hset', 'h', 'x', '1');
      h.run(...argv);
      expect([argv.join(' '), h.encoding('h')]).toEqual([argv.join(' '), bulk('hashtable')]);
    }
    const h = new Harness({ hashMaxListpackValue: 8 });
    h.run('hset', 'h', 'f'.repeat(8), 'v'.repeat(8));
    expect(h.encoding('h')).toBe(bulk('listpack'));
  });

  test('a hashtable hash replies every pair (order is the table\'s, compared unordered)', () => {
    const h = new Harness({ hashMaxListpackEntries: 2 });
    h.run('hset', 'h', 'a', '1', 'b', '2', 'c', '3');
    expect(pairs(h.run('hgetall', 'h'))).toEqual(['a=1', 'b=2', 'c=3']);
    expect(items(h.run('hkeys', 'h')).sort()).toEqual(['a', 'b', 'c']);
    expect(items(h.run('hvals', 'h')).sort()).toEqual(['1', '2', '3']);
    expect(pairs(h.run('hrandfield', 'h', '10', 'withvalues'))).toEqual(['a=1', 'b=2', 'c=3']);
  });

  test('HINCRBYFLOAT formats long doubles as Redis (up to 4931 digits)', () => {
    const h = new Harness();
    const r = h.run('hincrbyfloat', 'h', 'f', '1.1e4930');
    expect(r.startsWith('$4931\r\n11000000000000000000187137456262047040051680575803400581947293743643')).toBe(true);
    expect(h.run('hincrbyfloat', 'h', 'f', '1.1e4930').startsWith('$4931\r\n2200000000000000000037427491252409408010336115160680')).toBe(true);
    expect(h.run('hincrbyfloat', 'h', 'f', '1.18e4932')).toBe('-ERR increment would produce NaN or Infinity\r\n');
    expect(h.encoding('h')).toBe(bulk('hashtable'));
  });
});

describe('writes', () => {
  test('signal WATCH only when they change something; an emptied hash is deleted', () => {
    const h = new Harness();
    expect(h.touches('h', 'hset', 'h', 'a', '1', 'b', '2')).toBe(true);
    expect(h.touches('h', 'hsetnx', 'h', 'a', '9')).toBe(false);
    expect(h.touches('h', 'hdel', 'h', 'zz')).toBe(false);
    expect(h.touches('h', 'hincrby', 'h', 'n', '1')).toBe(true);
    expect(h.touches('h', 'hget', 'h', 'a')).toBe(false);
    expect(h.touches('h', 'hdel', 'h', 'a', 'b', 'n')).toBe(true);
    expect(h.engine.db(0).dict.has('h')).toBe(false);
    expect(h.run('hincrby', 'h', 'n', 'x')).toBe('-ERR value is not an integer or out of range\r\n');
    expect(h.engine.db(0).dict.has('h')).toBe(false);
  });

  test('COPY makes an independent hash, in either encoding', () => {
    for (const entries of [512, 1]) {
      const h = new Harness({ hashMaxListpackEntries: entries });
      for (let i = 0; i < 50; i++) h.run('hset', 'h', `f${i}`, `v${i}`);
      h.run('hset', 'h', 'a', '1', 'b', '2');
      h.run('copy', 'h', 'c');
      // The copy iterates and scans exactly as the original (same table layout).
      expect(h.run('hgetall', 'c')).toBe(h.run('hgetall', 'h'));
      expect(h.run('hscan', 'c', '0')).toBe(h.run('hscan', 'h', '0'));
      h.run('hset', 'c', 'a', 'changed');
      expect(h.run('hget', 'h', 'a')).toBe(bulk('1'));
      expect(h.encoding('c')).toBe(h.encoding('h'));
    }
  });
});

describe('HSCAN over a hashtable', () => {
  test('a full scan returns every pair once; COUNT counts fields and values', () => {
    const h = new Harness({ hashMaxListpackEntries: 8 });
    const want: string[] = [];
    for (let i = 0; i < 1000; i++) {
      h.run('hset', 'h', `f${i}`, `v${i}`);
      want.push(`f${i}=v${i}`);
    }
    let cursor = '0';
    const seen: string[] = [];
    let calls = 0;
    do {
      const r = h.run('hscan', 'h', cursor, 'count', '20');
      const xs = items(r);
      cursor = xs[0]!;
      for (let i = 1; i < xs.length; i += 2) seen.push(`${xs[i]}=${xs[i + 1]}`);
      calls++;
    } while (cursor !== '0');
    expect(seen.sort()).toEqual(want.sort());
    expect(calls).toBeGreaterThan(1000 / 40);
  });

  test('MATCH filters fields after the walk', () => {
    const h = new Harness({ hashMaxListpackEntries: 1 });
    h.run('hset', 'h', 'apple', '1', 'banana', '2', 'avocado', '3');
    const xs = items(h.run('hscan', 'h', '0', 'match', 'a*', 'count', '100'));
    expect(xs[0]).toBe('0');
    expect(pairs(arr(...xs.slice(1)))).toEqual(['apple=1', 'avocado=3']);
  });
});

describe('HRANDFIELD', () => {
  test('draws from the seeded generator: two engines with the same seeds reply the same', () => {
    const run = (): string[] => {
      const h = new Harness({ hashMaxListpackEntries: 16 });
      for (let i = 0; i < 40; i++) h.run('hset', 'big', `f${i}`, `v${i}`);
      for (let i = 0; i < 10; i++) h.run('hset', 'small', `f${i}`, `v${i}`);
      const out: string[] = [];
      for (const key of ['big', 'small']) {
        out.push(h.run('hrandfield', key), h.run('hrandfield', key, '3'), h.run('hrandfield', key, '-5', 'withvalues'));
        out.push(h.run('hrandfield', key, '8', 'withvalues'), h.run('hrandfield', key, '30'), h.run('hgetall', key));
        out.push(h.run('hscan', key, '0', 'count', '5'));
      }
      return out;
    };
    expect(run()).toEqual(run());
  });

  test('a positive count gives distinct fields; a negative one may repeat', () => {
    for (const entries of [512, 4]) {
      const h = new Harness({ hashMaxListpackEntries: entries });
      for (let i = 0; i < 20; i++) h.run('hset', 'h', `f${i}`, `v${i}`);
      for (const count of [1, 5, 7, 19]) {
        const fields = items(h.run('hrandfield', 'h', String(count)));
        expect(new Set(fields).size).toBe(count);
        const withValues = pairs(h.run('hrandfield', 'h', String(count), 'withvalues'));
        expect(withValues.length).toBe(count);
        for (const p of withValues) expect(p).toMatch(/^f(\d+)=v\1$/);
      }
      expect(items(h.run('hrandfield', 'h', '-50')).length).toBe(50);
    }
  });

  test('RESP3 nests field/value pairs', () => {
    const h = new Harness({}, 3);
    h.run('hset', 'h', 'a', '1');
    expect(h.run('hrandfield', 'h', '-2', 'withvalues')).toBe(`*2\r\n${arr('a', '1')}${arr('a', '1')}`);
    expect(h.run('hrandfield', 'h', '1', 'withvalues')).toBe(`*1\r\n${arr('a', '1')}`);
  });
});
