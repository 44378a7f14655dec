// The server's own behaviour through real sockets: the gates, connection commands,
// transactions, pub/sub, limits, expiry. Replies are compared byte for byte.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import { KeelServer, ServerConfig } from '../src';
import { RespClient, sleep } from './harness';

const tmpDirs: string[] = [];
const servers: KeelServer[] = [];
const clients: RespClient[] = [];

async function start(config: Partial<ServerConfig> = {}): Promise<{ server: KeelServer; port: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-server-test-'));
  tmpDirs.push(dir);
  const server = new KeelServer({ port: 0, dir, ...config });
  servers.push(server);
  const port = await server.listen();
  return { server, port };
}

async function connect(port: number): Promise<RespClient> {
  const c = await RespClient.connect(port);
  clients.push(c);
  return c;
}

/** Sends a command and returns its reply as a latin1 string. */
async function call(c: RespClient, ...args: string[]): Promise<string> {
  return (await c.call(args)).toString('latin1');
}

async function waitClosed(c: RespClient, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!c.closed && Date.now() < deadline) await sleep(10);
  expect(c.closed).toBe(true);
}

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) await s.close();
  for (const d of tmpDirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('gates', () => {
  let port: number;
  let c: RespClient;
  beforeAll(async () => {
    ({ port } = await start());
    c = await connect(port);
  });

  test('unknown command and arity errors, as Redis words them', async () => {
    expect(await call(c, 'NOPE', 'a', 'b')).toBe("-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n");
    expect(await call(c, 'GET')).toBe("-ERR wrong number of arguments for 'get' command\r\n");
    expect(await call(c, 'CONFIG')).toBe("-ERR wrong number of arguments for 'config' command\r\n");
    expect(await call(c, 'CONFIG', 'NOPE')).toBe("-ERR unknown subcommand 'NOPE'. Try CONFIG HELP.\r\n");
    expect(await call(c, 'CONFIG', 'GET')).toBe("-ERR wrong number of arguments for 'config|get' command\r\n");
  });

  test('a pipeline of 2000 commands in one write is answered in order', async () => {
    const parts: string[] = [];
    for (let i = 0; i < 1000; i++) parts.push(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${String(i).length}\r\n${i}\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`);
    c.writeRaw(parts.join(''));
    for (let i = 0; i < 1000; i++) {
      expect((await c.readFrame()).toString()).toBe('+OK\r\n');
      expect((await c.readFrame()).toString()).toBe(`$${String(i).length}\r\n${i}\r\n`);
    }
  });

  test('inline commands work, as from telnet', async () => {
    c.writeRaw('SET inl "hello world"\r\nGET inl\r\n');
    expect((await c.readFrame()).toString()).toBe('+OK\r\n');
    expect((await c.readFrame()).toString()).toBe('$11\r\nhello world\r\n');
  });

  test('a protocol error is replied to, then the connection closes; the server lives on', async () => {
    const bad = await connect(port);
    bad.writeRaw('*1\r\n$x\r\n');
    expect((await bad.readFrame()).toString()).toBe('-ERR Protocol error: invalid bulk length\r\n');
    await waitClosed(bad);
    const bad2 = await connect(port);
    bad2.writeRaw('*1\r\nfoo\r\n');
    expect((await bad2.readFrame()).toString()).toBe("-ERR Protocol error: expected '$', got 'f'\r\n");
    await waitClosed(bad2);
    expect(await call(c, 'PING')).toBe('+PONG\r\n');
  });

  test('QUIT replies OK and closes', async () => {
    const q = await connect(port);
    expect(await call(q, 'QUIT')).toBe('+OK\r\n');
    await waitClosed(q);
  });

  test('HELLO switches to RESP3 and reports the connection; RESET goes back', async () => {
    const h = await connect(port);
    const id = (await call(h, 'CLIENT', 'ID')).slice(1, -2);
    const hello = await call(h, 'HELLO', '3');
    expect(hello).toBe(`%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:${id}\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n`);
    expect(await call(h, 'GET', 'missing')).toBe('_\r\n');
    expect(await call(h, 'HELLO', '4')).toBe('-NOPROTO unsupported protocol version\r\n');
    expect(await call(h, 'RESET')).toBe('+RESET\r\n');
    expect(await call(h, 'GET', 'missing')).toBe('$-1\r\n');
  });

  test('SELECT keeps databases apart', async () => {
    const s = await connect(port);
    expect(await call(s, 'SELECT', '3')).toBe('+OK\r\n');
    expect(await call(s, 'SET', 'x', 'three')).toBe('+OK\r\n');
    expect(await call(s, 'SELECT', '0')).toBe('+OK\r\n');
    expect(await call(s, 'GET', 'x')).toBe('$-1\r\n');
    expect(await call(s, 'SELECT', '16')).toBe('-ERR DB index is out of range\r\n');
    expect(await call(s, 'SELECT', 'x')).toBe('-ERR value is not an integer or out of range\r\n');
  });
});

describe('authentication', () => {
  test('requirepass: NOAUTH until AUTH; wrong passwords are refused', async () => {
    const { port } = await start({ requirepass: 'sekret' });
    const c = await connect(port);
    expect(await call(c, 'GET', 'a')).toBe('-NOAUTH Authentication required.\r\n');
    expect(await call(c, 'PING')).toBe('-NOAUTH Authentication required.\r\n');
    expect(await call(c, 'AUTH', 'wrong')).toBe('-WRONGPASS invalid username-password pair or user is disabled.\r\n');
    expect(await call(c, 'AUTH', 'default', 'sekret')).toBe('+OK\r\n');
    expect(await call(c, 'PING')).toBe('+PONG\r\n');
    const h = await connect(port);
    expect((await call(h, 'HELLO', '3')).startsWith('-NOAUTH HELLO must be called')).toBe(true);
    expect((await call(h, 'HELLO', '3', 'AUTH', 'default', 'sekret')).startsWith('%7\r\n')).toBe(true);
  });

  test("before AUTH, requests are held to Redis's smaller limits", async () => {
    const { port } = await start({ requirepass: 'sekret' });
    const c = await connect(port);
    c.writeRaw('*11\r\n');
    expect(String(await c.readFrame())).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    await waitClosed(c);
    const d = await connect(port);
    expect(await call(d, 'AUTH', 'sekret')).toBe('+OK\r\n');
    const many = ['MSET'];
    for (let i = 0; i < 20; i++) many.push(`k${i}`, 'v');
    expect(await call(d, ...many)).toBe('+OK\r\n');
  });

  test('AUTH without a configured password is an error', async () => {
    const { port } = await start();
    const c = await connect(port);
    expect(await call(c, 'AUTH', 'x')).toBe('-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?\r\n');
  });
});

describe('transactions', () => {
  let port: number;
  beforeAll(async () => {
    ({ port } = await start());
  });

  test('MULTI queues, EXEC runs atomically; a runtime error does not roll back the rest', async () => {
    const c = await connect(port);
    expect(await call(c, 'MULTI')).toBe('+OK\r\n');
    expect(await call(c, 'SET', 't1', 'a')).toBe('+QUEUED\r\n');
    expect(await call(c, 'INCR', 't1')).toBe('+QUEUED\r\n');
    expect(await call(c, 'SET', 't2', 'b')).toBe('+QUEUED\r\n');
    expect(await call(c, 'EXEC')).toBe('*3\r\n+OK\r\n-ERR value is not an integer or out of range\r\n+OK\r\n');
    expect(await call(c, 'GET', 't2')).toBe('$1\r\nb\r\n');
  });

  test('an error while queuing aborts EXEC with EXECABORT', async () => {
    const c = await connect(port);
    await call(c, 'MULTI');
    expect(await call(c, 'SET', 'only-one-arg')).toBe("-ERR wrong number of arguments for 'set' command\r\n");
    expect(await call(c, 'SET', 'x1', 'y')).toBe('+QUEUED\r\n');
    expect(await call(c, 'EXEC')).toBe('-EXECABORT Transaction discarded because of previous errors.\r\n');
    expect(await call(c, 'GET', 'x1')).toBe('$-1\r\n');
  });

  test('nesting, EXEC/DISCARD without MULTI, WATCH inside MULTI', async () => {
    const c = await connect(port);
    expect(await call(c, 'EXEC')).toBe('-ERR EXEC without MULTI\r\n');
    expect(await call(c, 'DISCARD')).toBe('-ERR DISCARD without MULTI\r\n');
    await call(c, 'MULTI');
    expect(await call(c, 'MULTI')).toBe('-ERR MULTI calls can not be nested\r\n');
    expect(await call(c, 'WATCH', 'x')).toBe('-ERR WATCH inside MULTI is not allowed\r\n');
    expect(await call(c, 'DISCARD')).toBe('+OK\r\n');
  });

  test('WATCH: a change by another client makes EXEC return null', async () => {
    const a = await connect(port);
    const b = await connect(port);
    await call(a, 'SET', 'w', '1');
    expect(await call(a, 'WATCH', 'w')).toBe('+OK\r\n');
    expect(await call(b, 'SET', 'w', '2')).toBe('+OK\r\n');
    await call(a, 'MULTI');
    await call(a, 'SET', 'w', '3');
    expect(await call(a, 'EXEC')).toBe('*-1\r\n');
    expect(await call(a, 'GET', 'w')).toBe('$1\r\n2\r\n');
    // Without interference the same transaction commits.
    await call(a, 'WATCH', 'w');
    await call(a, 'MULTI');
    await call(a, 'SET', 'w', '3');
    expect(await call(a, 'EXEC')).toBe('*1\r\n+OK\r\n');
  });

  test('WATCH: a key that expires after WATCH breaks the transaction', async () => {
    const a = await connect(port);
    await call(a, 'SET', 'we', '1', 'PX', '100');
    await call(a, 'WATCH', 'we');
    await sleep(200);
    await call(a, 'MULTI');
    await call(a, 'SET', 'other', '1');
    expect(await call(a, 'EXEC')).toBe('*-1\r\n');
  });

  test('WATCH of a missing key is broken by its creation, not by unrelated writes', async () => {
    const a = await connect(port);
    const b = await connect(port);
    await call(a, 'WATCH', 'nokey');
    await call(b, 'SET', 'unrelated', '1');
    await call(a, 'MULTI');
    await call(a, 'PING');
    expect(await call(a, 'EXEC')).toBe('*1\r\n+PONG\r\n');
    await call(a, 'WATCH', 'nokey');
    await call(b, 'SET', 'nokey', '1');
    await call(a, 'MULTI');
    await call(a, 'PING');
    expect(await call(a, 'EXEC')).toBe('*-1\r\n');
  });

  test('SELECT inside MULTI applies to the commands after it', async () => {
    const c = await connect(port);
    await call(c, 'MULTI');
    await call(c, 'SELECT', '5');
    await call(c, 'SET', 'in5', 'x');
    expect(await call(c, 'EXEC')).toBe('*2\r\n+OK\r\n+OK\r\n');
    expect(await call(c, 'GET', 'in5')).toBe('$1\r\nx\r\n');
    await call(c, 'SELECT', '0');
    expect(await call(c, 'GET', 'in5')).toBe('$-1\r\n');
  });
});

describe('pub/sub', () => {
  let port: number;
  beforeAll(async () => {
    ({ port } = await start());
  });

  test('SUBSCRIBE and PSUBSCRIBE receive what PUBLISH sends', async () => {
    const sub = await connect(port);
    const pub = await connect(port);
    const frames = await sub.callN(['SUBSCRIBE', 'news', 'sport'], 2);
    expect(frames.map(String)).toEqual(['*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n', '*3\r\n$9\r\nsubscribe\r\n$5\r\nsport\r\n:2\r\n']);
    expect(String(await sub.call(['PSUBSCRIBE', 'n*']))).toBe('*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n');
    expect(await call(pub, 'PUBLISH', 'news', 'hello')).toBe(':2\r\n');
    expect(String(await sub.readFrame())).toBe('*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n');
    expect(String(await sub.readFrame())).toBe('*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n');
    expect(await call(pub, 'PUBSUB', 'NUMSUB', 'news', 'none')).toBe('*4\r\n$4\r\nnews\r\n:1\r\n$4\r\nnone\r\n:0\r\n');
    expect(await call(pub, 'PUBSUB', 'NUMPAT')).toBe(':1\r\n');
    expect(await call(pub, 'PUBSUB', 'CHANNELS', 's*')).toBe('*1\r\n$5\r\nsport\r\n');
  });

  test('RESP2 subscribers may only (un)subscribe, PING, QUIT, RESET', async () => {
    const sub = await connect(port);
    await sub.call(['SUBSCRIBE', 'x']);
    expect(await call(sub, 'GET', 'a')).toBe("-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n");
    expect(await call(sub, 'PING')).toBe('*2\r\n$4\r\npong\r\n$0\r\n\r\n');
    expect(await call(sub, 'UNSUBSCRIBE')).toBe('*3\r\n$11\r\nunsubscribe\r\n$1\r\nx\r\n:0\r\n');
    expect(await call(sub, 'UNSUBSCRIBE')).toBe('*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n');
    expect(await call(sub, 'GET', 'a')).toBe('$-1\r\n');
  });

  test('RESP3 subscribers get pushes and may run any command', async () => {
    const sub = await connect(port);
    const pub = await connect(port);
    await call(sub, 'HELLO', '3');
    expect(await call(sub, 'SUBSCRIBE', 'r3')).toBe('>3\r\n$9\r\nsubscribe\r\n$2\r\nr3\r\n:1\r\n');
    expect(await call(sub, 'GET', 'a')).toBe('_\r\n');
    await call(pub, 'PUBLISH', 'r3', 'm');
    expect(String(await sub.readFrame())).toBe('>3\r\n$7\r\nmessage\r\n$2\r\nr3\r\n$1\r\nm\r\n');
  });

  test('a subscriber that does not read is disconnected past the output limit; others are unaffected', async () => {
    const { server, port: p } = await start({ pubsubOutputHardBytes: 256 * 1024, pubsubOutputSoftBytes: 0 });
    const slow = await RespClient.connect(p);
    clients.push(slow);
    await slow.call(['SUBSCRIBE', 'flood']);
    (slow as unknown as { sock: net.Socket }).sock.pause(); // stop reading
    const pub = await connect(p);
    const big = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 400 && server.stats.pubsubOutputLimitDisconnections === 0; i++) {
      await call(pub, 'PUBLISH', 'flood', big);
    }
    expect(server.stats.pubsubOutputLimitDisconnections).toBe(1);
    expect(await call(pub, 'PUBSUB', 'NUMSUB', 'flood')).toBe('*2\r\n$5\r\nflood\r\n:0\r\n');
    expect(await call(pub, 'PING')).toBe('+PONG\r\n');
  });
});

describe('limits', () => {
  test('maxclients: the connection over the limit gets an error', async () => {
    const { port } = await start({ maxclients: 2 });
    const a = await connect(port);
    const b = await connect(port);
    expect(await call(a, 'PING')).toBe('+PONG\r\n');
    expect(await call(b, 'PING')).toBe('+PONG\r\n');
    const c = await connect(port);
    expect(String(await c.readFrame())).toBe('-ERR max number of clients reached\r\n');
    await waitClosed(c);
  });

  test('a query buffer over client-query-buffer-limit closes the connection', async () => {
    const { port } = await start({ clientQueryBufferLimit: 1024 * 1024 });
    const c = await connect(port);
    c.writeRaw(`*2\r\n$3\r\nGET\r\n$${4 * 1024 * 1024}\r\n`);
    c.writeRaw(Buffer.alloc(2 * 1024 * 1024, 0x61));
    await waitClosed(c);
    const ok = await connect(port);
    expect(await call(ok, 'PING')).toBe('+PONG\r\n');
  });

  test('a bulk longer than proto-max-bulk-len is a protocol error', async () => {
    const { port } = await start({ protoMaxBulkLen: 1024 * 1024 });
    const c = await connect(port);
    c.writeRaw(`*2\r\n$3\r\nGET\r\n$${2 * 1024 * 1024}\r\n`);
    expect(String(await c.readFrame())).toBe('-ERR Protocol error: invalid bulk length\r\n');
    await waitClosed(c);
  });
});

describe('server commands', () => {
  let port: number;
  let server: KeelServer;
  beforeAll(async () => {
    ({ server, port } = await start());
  });

  test('active expiry removes keys nobody reads, through the write path', async () => {
    const c = await connect(port);
    await call(c, 'SET', 'soon', 'v', 'PX', '30');
    await call(c, 'SET', 'stays', 'v');
    expect(await call(c, 'DBSIZE')).toBe(':2\r\n');
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (await call(c, 'DBSIZE')) !== ':1\r\n') await sleep(20);
    expect(await call(c, 'DBSIZE')).toBe(':1\r\n');
    expect(server.engine.stats.expiredKeys).toBeGreaterThanOrEqual(1);
  });

  test('CLIENT SETNAME/GETNAME/LIST/INFO/KILL', async () => {
    const a = await connect(port);
    const b = await connect(port);
    expect(await call(a, 'CLIENT', 'GETNAME')).toBe('$-1\r\n');
    expect(await call(a, 'CLIENT', 'SETNAME', 'has space')).toBe('-ERR Client names cannot contain spaces, newlines or special characters.\r\n');
    expect(await call(a, 'CLIENT', 'SETNAME', 'alice')).toBe('+OK\r\n');
    expect(await call(a, 'CLIENT', 'GETNAME')).toBe('$5\r\nalice\r\n');
    const list = await call(b, 'CLIENT', 'LIST');
    expect(list).toMatch(/id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=-1 name=alice age=\d+ idle=\d+ flags=N db=0 /);
    expect(await call(a, 'CLIENT', 'INFO')).toMatch(/^\$\d+\r\nid=\d+ .* name=alice .*cmd=client\|info user=default redir=-1 resp=2\n\r\n$/);
    const bid = (await call(b, 'CLIENT', 'ID')).slice(1, -2);
    expect(await call(a, 'CLIENT', 'KILL', 'ID', bid)).toBe(':1\r\n');
    await waitClosed(b);
    expect(await call(a, 'CLIENT', 'KILL', 'ID', bid)).toBe(':0\r\n');
  });

  test('CONFIG GET/SET: known parameters, Redis errors for the rest', async () => {
    const c = await connect(port);
    expect(await call(c, 'CONFIG', 'GET', 'maxclients')).toBe('*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n');
    expect(await call(c, 'CONFIG', 'SET', 'hash-max-listpack-entries', '64')).toBe('+OK\r\n');
    expect(await call(c, 'CONFIG', 'GET', 'hash-max-ziplist-entries')).toBe('*2\r\n$24\r\nhash-max-ziplist-entries\r\n$2\r\n64\r\n');
    expect(server.engine.config.hashMaxListpackEntries).toBe(64);
    expect(await call(c, 'CONFIG', 'SET', 'nope', '1')).toBe("-ERR Unknown option or number of arguments for CONFIG SET - 'nope'\r\n");
    expect(await call(c, 'CONFIG', 'SET', 'maxclients', 'many')).toBe("-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer\r\n");
    expect(await call(c, 'CONFIG', 'SET', 'port', '1')).toBe("-ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config\r\n");
    expect(await call(c, 'CONFIG', 'GET', 'nothing-matches')).toBe('*0\r\n');
  });

  test('COMMAND reflects the command table', async () => {
    const c = await connect(port);
    const count = Number((await call(c, 'COMMAND', 'COUNT')).slice(1, -2));
    expect(count).toBe(server.engine.commands.size);
    expect(await call(c, 'COMMAND', 'GETKEYS', 'SET', 'k', 'v')).toBe('*1\r\n$1\r\nk\r\n');
    expect(await call(c, 'COMMAND', 'GETKEYS', 'PING')).toBe("-ERR wrong number of arguments for 'command|getkeys' command\r\n");
    expect(await call(c, 'COMMAND', 'GETKEYS', 'PING', 'x')).toBe('-ERR The command has no key arguments\r\n');
    expect(await call(c, 'COMMAND', 'GETKEYS', 'NOPE', 'x')).toBe('-ERR Invalid command specified\r\n');
    expect(await call(c, 'COMMAND', 'GETKEYS', 'SET', 'k')).toBe('-ERR Invalid number of arguments specified for command\r\n');
    expect((await call(c, 'COMMAND', 'INFO', 'get')).startsWith('*1\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n')).toBe(true);
    expect(await call(c, 'COMMAND', 'INFO', 'nope')).toBe('*1\r\n$-1\r\n');
    expect((await call(c, 'COMMAND', 'DOCS', 'get')).startsWith('*2\r\n$3\r\nget\r\n*6\r\n$7\r\nsummary\r\n')).toBe(true);
  });

  test('INFO has Redis field names in its sections', async () => {
    const c = await connect(port);
    const info = await call(c, 'INFO');
    for (const f of ['redis_version:7.0.15', 'connected_clients:', 'used_memory:', 'total_commands_processed:', 'keyspace_hits:', '# Keyspace']) {
      expect(info).toContain(f);
    }
    const only = await call(c, 'INFO', 'clients');
    expect(only).toContain('# Clients');
    expect(only).not.toContain('# Memory');
  });
});

describe('transactions with container commands', () => {
  test('CONFIG SET, CLIENT ID and COMMAND COUNT run inside EXEC', async () => {
    const { port } = await start();
    const c = await connect(port);
    const id = (await call(c, 'CLIENT', 'ID')).slice(1, -2);
    await call(c, 'MULTI');
    expect(await call(c, 'CONFIG', 'SET', 'maxclients', '500')).toBe('+QUEUED\r\n');
    expect(await call(c, 'CLIENT', 'ID')).toBe('+QUEUED\r\n');
    expect(await call(c, 'CONFIG', 'GET', 'maxclients')).toBe('+QUEUED\r\n');
    expect(await call(c, 'EXEC')).toBe(`*3\r\n+OK\r\n:${id}\r\n*2\r\n$10\r\nmaxclients\r\n$3\r\n500\r\n`);
  });
});

describe('blocking timeouts', () => {
  test('a timeout longer than Node timers allow (24.8 days) does not fire early', async () => {
    const { port } = await start();
    const c = await connect(port);
    c.write(['BLPOP', 'never', '3000000']);
    await sleep(300);
    expect(c.buffered()).toBe(0);
    const d = await connect(port);
    expect(await call(d, 'RPUSH', 'never', 'x')).toBe(':1\r\n');
    expect(String(await c.readFrame())).toBe('*2\r\n$5\r\nnever\r\n$1\r\nx\r\n');
  });
});

describe('rejected EXEC', () => {
  test('a rejected EXEC discards the transaction with EXECABORT, inside MULTI or not', async () => {
    const { port } = await start();
    const c = await connect(port);
    await call(c, 'MULTI');
    await call(c, 'SET', 'ea', 'b');
    expect(await call(c, 'EXEC', 'extra')).toBe("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
    expect(await call(c, 'GET', 'ea')).toBe('$-1\r\n');
    expect(await call(c, 'EXEC', 'extra')).toBe("-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command\r\n");
  });
});

describe('MEMORY', () => {
  test('MEMORY PURGE collects garbage and replies OK; MEMORY HELP; unknown subcommands as Redis', async () => {
    const { port } = await start();
    const c = await connect(port);
    expect(await call(c, 'MEMORY', 'PURGE')).toBe('+OK\r\n');
    expect((await call(c, 'MEMORY', 'HELP')).startsWith('*5\r\n+MEMORY <subcommand>')).toBe(true);
    expect(await call(c, 'MEMORY', 'NOPE')).toBe("-ERR unknown subcommand 'NOPE'. Try MEMORY HELP.\r\n");
  });
});
