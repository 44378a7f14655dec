// Blocking sorted-set pops (BZPOPMIN, BZPOPMAX, BZMPOP) through real sockets: a blocked client
// is woken by a write from another client, first blocked first served, gets a null at its
// timeout, never blocks inside MULTI, and can be released by CLIENT UNBLOCK.

import { bulk, callText as call, LocalServer, localServer, replyText as reply, RespClient, sendBlocked, sleep } from './harness';

let local: LocalServer;

beforeAll(async () => {
  local = await localServer('blocking-zset');
});

afterAll(() => local.close());

const connect = (): Promise<RespClient> => local.connect();

test('BZPOPMIN wakes when another client adds to the key', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BZPOPMIN', 'z1', '0');
  expect(await call(b, 'ZADD', 'z1', '2', 'two', '1', 'one')).toBe(':2\r\n');
  expect(await reply(a)).toBe(`*3\r\n${bulk('z1')}${bulk('one')}${bulk('1')}`);
  expect(await call(b, 'ZRANGE', 'z1', '0', '-1')).toBe(`*1\r\n${bulk('two')}`);
});

test('BZPOPMAX on several keys is served by the key that gets a member', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BZPOPMAX', 'k1', 'k2', 'k3', '0');
  await call(b, 'ZADD', 'k2', '5', 'x', '7', 'y');
  expect(await reply(a)).toBe(`*3\r\n${bulk('k2')}${bulk('y')}${bulk('7')}`);
});

test('first blocked, first served', async () => {
  const first = await connect();
  const second = await connect();
  const writer = await connect();
  await sendBlocked(first, 'BZPOPMIN', 'fifo', '0');
  await sendBlocked(second, 'BZPOPMIN', 'fifo', '0');
  await call(writer, 'ZADD', 'fifo', '1', 'only');
  expect(await reply(first)).toBe(`*3\r\n${bulk('fifo')}${bulk('only')}${bulk('1')}`);
  await expect(second.readFrame(80)).rejects.toThrow(/no complete reply/);
  await call(writer, 'ZADD', 'fifo', '2', 'next');
  expect(await reply(second)).toBe(`*3\r\n${bulk('fifo')}${bulk('next')}${bulk('2')}`);
  expect(await call(writer, 'EXISTS', 'fifo')).toBe(':0\r\n');
});

test('BZMPOP wakes with up to COUNT members, and a store command wakes it too', async () => {
  const a = await connect();
  const b = await connect();
  await sendBlocked(a, 'BZMPOP', '0', '2', 'm1', 'm2', 'MAX', 'COUNT', '2');
  await call(b, 'ZADD', 'src', '1', 'a', '2', 'b', '3', 'c');
  expect(await call(b, 'ZUNIONSTORE', 'm2', '1', 'src')).toBe(':3\r\n');
  expect(await reply(a)).toBe(`*2\r\n${bulk('m2')}*2\r\n*2\r\n${bulk('c')}${bulk('3')}*2\r\n${bulk('b')}${bulk('2')}`);
});

test('a timeout replies a null array, or a RESP3 null', async () => {
  const a = await connect();
  const started = Date.now();
  expect(await call(a, 'BZPOPMIN', 'never', '0.2')).toBe('*-1\r\n');
  expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  await call(a, 'HELLO', '3');
  expect(await call(a, 'BZMPOP', '0.05', '1', 'never', 'MIN')).toBe('_\r\n');
});

test('inside MULTI a blocking pop does not block', async () => {
  const a = await connect();
  expect(await call(a, 'MULTI')).toBe('+OK\r\n');
  expect(await call(a, 'BZPOPMIN', 'empty', '0')).toBe('+QUEUED\r\n');
  expect(await call(a, 'BZMPOP', '0', '1', 'empty', 'MIN')).toBe('+QUEUED\r\n');
  expect(await call(a, 'EXEC')).toBe('*2\r\n*-1\r\n*-1\r\n');
});

test('errors come at once and do not block', async () => {
  const a = await connect();
  expect(await call(a, 'BZPOPMIN', 'x', '-1')).toBe('-ERR timeout is negative\r\n');
  expect(await call(a, 'BZPOPMIN', 'x', 'soon')).toBe('-ERR timeout is not a float or out of range\r\n');
  await call(a, 'SET', 'str', 'v');
  expect(await call(a, 'BZPOPMIN', 'str', '0')).toBe('-WRONGTYPE Operation against a key holding the wrong kind of value\r\n');
});

test('CLIENT UNBLOCK releases a blocked client with a null or an error', async () => {
  const a = await connect();
  const b = await connect();
  const id = (await call(a, 'CLIENT', 'ID')).slice(1, -2);
  await sendBlocked(a, 'BZPOPMIN', 'ub', '0');
  expect(await call(b, 'CLIENT', 'UNBLOCK', id)).toBe(':1\r\n');
  expect(await reply(a)).toBe('*-1\r\n');
  await sendBlocked(a, 'BZPOPMAX', 'ub', '0');
  expect(await call(b, 'CLIENT', 'UNBLOCK', id, 'ERROR')).toBe(':1\r\n');
  expect(await reply(a)).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  // Released, the client no longer waits: a later ZADD stays in the set.
  await call(b, 'ZADD', 'ub', '1', 'kept');
  await sleep(20);
  expect(await call(b, 'ZCARD', 'ub')).toBe(':1\r\n');
});
