// Blocking list pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) through real sockets: a blocked
// client is woken by a push from another client, first blocked first served, gets a null at its
// timeout (a null array for every one of them in Redis 7.0, BLMOVE included), never blocks inside
// MULTI, can be released by CLIENT UNBLOCK, and is forgotten when it disconnects.

import { bulk, callText as call, LocalServer, localServer, replyText as reply, RespClient, sendBlocked, sleep } from './harness';

let local: LocalServer;

beforeAll(async () => {
  local = await localServer('blocking-list');
});

afterAll(() => local.close());

const connect = (): Promise<RespClient> => local.connect();

test('BLPOP wakes when another client pushes to the key', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BLPOP', 'q1', '0');
  expect(await call(b, 'RPUSH', 'q1', 'job1', 'job2')).toBe(':2\r\n');
  expect(await reply(a)).toBe(`*2\r\n${bulk('q1')}${bulk('job1')}`);
  expect(await call(b, 'LRANGE', 'q1', '0', '-1')).toBe(`*1\r\n${bulk('job2')}`);
});

test('BRPOP on several keys is served by the key that gets an element', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BRPOP', 'k1', 'k2', 'k3', '0');
  await call(b, 'LPUSH', 'k3', 'x', 'y');
  expect(await reply(a)).toBe(`*2\r\n${bulk('k3')}${bulk('x')}`);
});

test('first blocked, first served', async () => {
  const first = await connect();
  const second = await connect();
  const writer = await connect();
  await sendBlocked(first, 'BLPOP', 'fifo', '0');
  await sendBlocked(second, 'BLPOP', 'fifo', '0');
  await call(writer, 'RPUSH', 'fifo', 'one');
  expect(await reply(first)).toBe(`*2\r\n${bulk('fifo')}${bulk('one')}`);
  await expect(second.readFrame(80)).rejects.toThrow(/no complete reply/);
  await call(writer, 'RPUSH', 'fifo', 'two');
  expect(await reply(second)).toBe(`*2\r\n${bulk('fifo')}${bulk('two')}`);
  expect(await call(writer, 'EXISTS', 'fifo')).toBe(':0\r\n');
});

test('one push of two elements serves two blocked clients', async () => {
  const a = await connect();
  const b = await connect();
  const writer = await connect();
  await sendBlocked(a, 'BLPOP', 'pair', '0');
  await sendBlocked(b, 'BLPOP', 'pair', '0');
  await call(writer, 'RPUSH', 'pair', 'x', 'y');
  expect(await reply(a)).toBe(`*2\r\n${bulk('pair')}${bulk('x')}`);
  expect(await reply(b)).toBe(`*2\r\n${bulk('pair')}${bulk('y')}`);
});

test('BLMOVE and BRPOPLPUSH wake and push to the destination', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BLMOVE', 'msrc', 'mdst', 'LEFT', 'RIGHT', '0');
  await call(b, 'RPUSH', 'msrc', 'm1', 'm2');
  expect(await reply(a)).toBe(bulk('m1'));
  await sendBlocked(a, 'BRPOPLPUSH', 'msrc2', 'mdst', '0');
  await call(b, 'RPUSH', 'msrc2', 'm3');
  expect(await reply(a)).toBe(bulk('m3'));
  expect(await call(b, 'LRANGE', 'mdst', '0', '-1')).toBe(`*2\r\n${bulk('m3')}${bulk('m1')}`);
});

test('BLMPOP wakes with up to COUNT elements', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BLMPOP', '0', '2', 'mp1', 'mp2', 'RIGHT', 'COUNT', '2');
  await call(b, 'RPUSH', 'mp2', 'a', 'b', 'c');
  expect(await reply(a)).toBe(`*2\r\n${bulk('mp2')}*2\r\n${bulk('c')}${bulk('b')}`);
});

test('a timeout replies a null array (BLMOVE too, as Redis 7.0), or a RESP3 null', async () => {
  const a = await connect();
  const started = Date.now();
  expect(await call(a, 'BLPOP', 'never', '0.2')).toBe('*-1\r\n');
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  expect(await call(a, 'BLMOVE', 'never', 'dst', 'LEFT', 'LEFT', '0.05')).toBe('*-1\r\n');
  expect(await call(a, 'BRPOPLPUSH', 'never', 'dst', '0.05')).toBe('*-1\r\n');
  expect(await call(a, 'BLMPOP', '0.05', '1', 'never', 'LEFT')).toBe('*-1\r\n');
  await call(a, 'HELLO', '3');
  expect(await call(a, 'BRPOP', 'never', '0.05')).toBe('_\r\n');
  expect(await call(a, 'BLMOVE', 'never', 'dst', 'LEFT', 'LEFT', '0.05')).toBe('_\r\n');
});

test('a client woken but beaten to the element keeps waiting until its first deadline', async () => {
  const a = await connect();
  const b = await connect();
  const started = Date.now();
  await sendBlocked(a, 'BLPOP', 'race', '0.4');
  // MULTI pushes and pops in one transaction: the key is ready, then empty again.
  await call(b, 'MULTI');
  await call(b, 'RPUSH', 'race', 'x');
  await call(b, 'LPOP', 'race');
  expect(await call(b, 'EXEC')).toBe(`*2\r\n:1\r\n${bulk('x')}`);
  expect(await reply(a)).toBe('*-1\r\n');
  expect(Date.now() - started).toBeGreaterThanOrEqual(350);
});

test('inside MULTI a blocking pop does not block', async () => {
  const a = await connect();
  expect(await call(a, 'MULTI')).toBe('+OK\r\n');
  for (const cmd of [['BLPOP', 'empty', '0'], ['BLMOVE', 'empty', 'd', 'LEFT', 'LEFT', '0'], ['BRPOPLPUSH', 'empty', 'd', '0'], ['BLMPOP', '0', '1', 'empty', 'LEFT']]) {
    expect(await call(a, ...cmd)).toBe('+QUEUED\r\n');
  }
  expect(await call(a, 'EXEC')).toBe('*4\r\n*-1\r\n$-1\r\n$-1\r\n*-1\r\n');
});

test('errors come at once and do not block', async () => {
  const a = await connect();
  expect(await call(a, 'BLPOP', 'x', '-1')).toBe('-ERR timeout is negative\r\n');
  expect(await call(a, 'BLPOP', 'x', 'soon')).toBe('-ERR timeout is not a float or out of range\r\n');
  await call(a, 'SET', 'str', 'v');
  expect(await call(a, 'BLPOP', 'nokey', 'str', '0')).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
  expect(await call(a, 'BLMPOP', '0', '0', 'x', 'LEFT')).toBe('-ERR numkeys should be greater than 0\r\n');
});

test('CLIENT UNBLOCK releases a blocked client with a null or an error', async () => {
  const a = await connect();
  const b = await connect();
  const id = (await call(a, 'CLIENT', 'ID')).slice(1, -2);
  await sendBlocked(a, 'BLPOP', 'ub', '0');
  expect(await call(b, 'CLIENT', 'UNBLOCK', id, 'TIMEOUT')).toBe(':1\r\n');
  expect(await reply(a)).toBe('*-1\r\n');
  await sendBlocked(a, 'BLMOVE', 'ub', 'ubdst', 'LEFT', 'LEFT', '0');
  expect(await call(b, 'CLIENT', 'UNBLOCK', id, 'ERROR')).toBe(':1\r\n');
  expect(await reply(a)).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  expect(await call(b, 'CLIENT', 'UNBLOCK', id)).toBe(':0\r\n');
  // Released, the client no longer waits: a later push stays in the list.
  await call(b, 'RPUSH', 'ub', 'kept');
  await sleep(20);
  expect(await call(b, 'LLEN', 'ub')).toBe(':1\r\n');
  expect(await call(a, 'PING')).toBe('+PONG\r\n');
});

test('a blocked client that disconnects is forgotten', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BLPOP', 'gone', '0');
  a.close();
  await sleep(50);
  await call(b, 'RPUSH', 'gone', 'kept');
  await sleep(20);
  expect(await call(b, 'LRANGE', 'gone', '0', '-1')).toBe(`*1\r\n${bulk('kept')}`);
});
