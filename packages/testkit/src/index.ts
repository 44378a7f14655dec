// What the tests of every package and jepsen-lite share. Not part of any server.

import * as net from 'node:net';

export * from './resp';

const FREE_PORT_FIRST = 20000;
const FREE_PORT_SPAN = 2700;
let freePortNext = FREE_PORT_FIRST + Math.floor(Math.random() * FREE_PORT_SPAN);

/**
 * A free loopback port for a test server. Ports below the kernel's ephemeral range (32768 and
 * up), so no outgoing connection can take one between this check and its use; and low enough
 * that port + 10000, a node's default cluster port, is below that range too. Both are checked
 * free. Each process starts at a random place and walks up, so parallel processes rarely probe
 * the same ports.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const port = FREE_PORT_FIRST + ((freePortNext++ - FREE_PORT_FIRST) % FREE_PORT_SPAN);
    if ((await isFree(port)) && (await isFree(port + 10000))) return port;
  }
  throw new Error('no free port pair found in 500 attempts');
}

function isFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.unref();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
