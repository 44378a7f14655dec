// The link proxy: passes bytes both ways, blocks (cutting open connections, refusing new ones),
// and delays without reordering.

import * as net from 'node:net';
import { freePort, HOST } from '../src/cluster';
import { LinkProxy } from '../src/proxy';

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
async function roundTrip(p: LinkProxy, send: (s: net.Socket) => void, bytes: number, timeoutMs = 5000): Promise<{ data: string; ms: number }> {
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
