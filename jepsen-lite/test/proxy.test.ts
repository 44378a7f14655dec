// The link proxy: passes bytes both ways, blocks (cutting open connections, refusing new ones),
// and delays without reordering. The hello router: reads a Keel hello, split anywhere, and hands
// the connection to the link it names.

import * as net from 'node:net';
import { freePort, HOST } from '../src/cluster';
import { HelloRouter, LinkProxy, parseHello } from '../src/proxy';

let echo: net.Server;
let echoPort: number;
const proxy = () => new LinkProxy(0, 1, HOST, echoPort);

beforeAll(async () => {
  echoPort = await freePort();
  echo = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(echoPort, HOST, () => resolve()));
});
afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Connects through the proxy; resolves with what came back once `bytes` bytes did (bounded). */
async function roundTrip(p: { port: number }, send: (s: net.Socket) => void, bytes: number, timeoutMs = 5000): Promise<{ data: string; ms: number }> {
  const s = net.createConnection({ host: HOST, port: p.port });
  s.on('error', () => {});
  const t0 = performance.now();
  try {
    return await new Promise((resolve, reject) => {
      let data = '';
      const timer = setTimeout(() => reject(new Error(`timed out with ${JSON.stringify(data)}`)), timeoutMs);
      s.on('data', (d) => {
        data += d.toString();
        if (data.length >= bytes) {
          clearTimeout(timer);
          resolve({ data, ms: performance.now() - t0 });
        }
      });
      s.on('close', () => {
        clearTimeout(timer);
        reject(new Error(`closed with ${JSON.stringify(data)}`));
      });
      s.once('connect', () => send(s));
    });
  } finally {
    s.destroy();
  }
}

test('passes bytes both ways, and refuses while blocked', async () => {
  const p = proxy();
  await p.start();
  try {
    expect((await roundTrip(p, (s) => s.write('hello'), 5)).data).toBe('hello');
    p.block();
    await expect(roundTrip(p, (s) => s.write('x'), 1, 2000)).rejects.toThrow(/closed/);
    p.unblock();
    expect((await roundTrip(p, (s) => s.write('again'), 5)).data).toBe('again');
  } finally {
    await p.close();
  }
});

test('a slow link delays each way, and keeps the order when the delay changes', async () => {
  const p = proxy();
  await p.start();
  try {
    const fast = await roundTrip(p, (s) => s.write('a'), 1);
    p.delayMs = 150;
    const slow = await roundTrip(p, (s) => s.write('b'), 1);
    expect(slow.ms).toBeGreaterThanOrEqual(290); // 150 ms there, 150 back
    expect(slow.ms).toBeGreaterThan(fast.ms);
    // Chunks sent while slow, then after the delay is taken away, arrive in the order sent.
    const r = await roundTrip(
      p,
      (s) => {
        s.write('1');
        setTimeout(() => s.write('2'), 20);
        setTimeout(() => {
          p.delayMs = 0;
          s.write('3');
        }, 40);
      },
      3,
    );
    expect(r.data).toBe('123');
  } finally {
    await p.close();
  }
});

/** A Keel hello frame (packages/server/src/replication/wire.ts): u32 length, 1, version, varint from, varint to. */
function hello(from: number, to: number, version = 2): Buffer {
  const varint = (v: number) => {
    const out: number[] = [];
    while (v >= 0x80) (out.push((v % 0x80) | 0x80), (v = Math.floor(v / 0x80)));
    out.push(v);
    return out;
  };
  const body = [1, version, ...varint(from), ...varint(to)];
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(body.length, 0);
  Buffer.from(body).copy(b, 4);
  return b;
}

test('parseHello reads a hello split at any offset, and refuses anything else', () => {
  for (const [from, to] of [[1, 2], [300, 5], [7, 123456]] as const) {
    const h = hello(from, to);
    for (let cut = 0; cut < h.length; cut++) expect(parseHello(h.subarray(0, cut))).toBeNull();
    expect(parseHello(Buffer.concat([h, Buffer.from('more')]))).toEqual({ from, to });
  }
  const notHello = hello(1, 2);
  notHello[4] = 2; // a raft message frame
  expect(() => parseHello(notHello)).toThrow(/not a hello/);
});

test('the hello router hands each connection to the link its hello names, and that link blocks it', async () => {
  const links = new Map<string, LinkProxy>([['1>2', new LinkProxy(0, 1, HOST, echoPort)], ['3>2', new LinkProxy(2, 1, HOST, echoPort)]]);
  const routed: string[] = [];
  const r = new HelloRouter(HOST, (from, to) => {
    routed.push(`${from}>${to}`);
    const link = links.get(`${from}>${to}`);
    return link === undefined ? null : { link };
  });
  await r.start();
  try {
    const h = hello(1, 2);
    // The hello split in two writes, then data: all of it comes back through the link.
    const a = await roundTrip(r, (s) => {
      s.write(h.subarray(0, 5));
      setTimeout(() => s.write(Buffer.concat([h.subarray(5), Buffer.from('ping')])), 30);
    }, h.length + 4);
    expect(Buffer.from(a.data, 'latin1').subarray(h.length).toString()).toBe('ping');
    // Blocking the link 3 -> 2 closes its connections, not those of 1 -> 2.
    links.get('3>2')!.block();
    await expect(roundTrip(r, (s) => s.write(Buffer.concat([hello(3, 2), Buffer.from('x')])), 7, 2000)).rejects.toThrow(/closed/);
    expect((await roundTrip(r, (s) => s.write(Buffer.concat([hello(1, 2), Buffer.from('y')])), 7)).data.endsWith('y')).toBe(true);
    // No link for 9 -> 2, and not a hello: closed.
    await expect(roundTrip(r, (s) => s.write(hello(9, 2)), 1, 2000)).rejects.toThrow(/closed/);
    await expect(roundTrip(r, (s) => s.write(Buffer.from('GET / HTTP/1.0\r\n\r\n')), 1, 2000)).rejects.toThrow(/closed/);
    expect(routed).toEqual(['1>2', '3>2', '1>2', '9>2']);
  } finally {
    await r.close();
    for (const l of links.values()) await l.close();
  }
});
