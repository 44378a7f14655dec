// The node-to-node transport on loopback: delivery with the sender checked, unreachable peers
// reported and re-dialed with back-off, bounded queues, refused strangers, peers added and
// removed at runtime, and a removed node told so when it dials.

import * as net from 'node:net';
import { Message, makeMessage, NodeId } from '@keel/raft';
import { PeerAddress, Transport } from '../src/replication/transport';
import { encodeHello, WIRE_VERSION } from '../src/replication/wire';
import { freePort, HOST, sleep } from './harness';

interface Node {
  t: Transport;
  got: Message[];
  unreachable: NodeId[];
  logs: string[];
  removedBy: Array<[NodeId, number]>;
}

const open: Transport[] = [];
const servers: net.Server[] = [];
const stuckSockets: net.Socket[] = [];

function make(id: NodeId, peers: PeerAddress[], queueBytesMax?: number, me?: PeerAddress): Node {
  const n: Node = { t: null as unknown as Transport, got: [], unreachable: [], logs: [], removedBy: [] };
  me ??= peers.find((p) => p.id === id)!;
  n.t = new Transport({
    id,
    host: HOST,
    port: me.port,
    peers,
    onMessage: (m) => n.got.push(m),
    onUnreachable: (p) => n.unreachable.push(p),
    onSnapshotStatus: () => {},
    onRemoved: (by, index) => n.removedBy.push([by, index]),
    log: { notice: (m) => n.logs.push(m), warning: (m) => n.logs.push(m) },
    backoffMinMs: 20,
    backoffMaxMs: 200,
    queueBytesMax,
  });
  open.push(n.t);
  return n;
}

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

afterAll(async () => {
  for (const t of open) await t.close();
  for (const s of stuckSockets) s.destroy();
  for (const s of servers) await new Promise((r) => s.close(r));
});

test('messages flow, unreachable peers are reported, and are re-dialed when they come up', async () => {
  const peers: PeerAddress[] = [];
  for (const id of [1, 2, 3]) peers.push({ id, host: HOST, port: await freePort() });
  const n1 = make(1, peers);
  const n2 = make(2, peers);
  await n1.t.start();
  await n2.t.start();
  await until(() => n1.t.isReachable(2) && n2.t.isReachable(1), 'nodes 1 and 2 to connect');
  n1.t.send([makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 7 })]);
  await until(() => n2.got.length === 1, 'the heartbeat');
  expect(n2.got[0]).toMatchObject({ type: 'MsgHeartbeat', from: 1, to: 2, term: 3, commit: 7 });

  // Node 3 is down: messages to it are dropped and it is reported, with one log line.
  await until(() => n1.logs.some((l) => /peer 3 .* is unreachable/.test(l)), 'the unreachable log line');
  n1.unreachable.length = 0;
  n1.t.send([makeMessage({ type: 'MsgApp', from: 1, to: 3, term: 3 })]);
  expect(n1.unreachable).toEqual([3]);
  await sleep(300);
  expect(n1.logs.filter((l) => /peer 3 .* is unreachable/.test(l)).length).toBe(1);

  // It comes up: the back-off re-dial finds it.
  const n3 = make(3, peers);
  await n3.t.start();
  await until(() => n1.t.isReachable(3), 'node 1 to reach node 3', 3000);
  await until(() => n1.logs.some((l) => /peer 3 .* is reachable/.test(l)), 'the reachable log line (once the connection held)');
  n1.t.send([makeMessage({ type: 'MsgVote', from: 1, to: 3, term: 4 })]);
  await until(() => n3.got.some((m) => m.type === 'MsgVote'), 'the vote at node 3');

  // It goes away again.
  await n3.t.close();
  await until(() => !n1.t.isReachable(3), 'node 3 to be unreachable again');

  // A partition (fault injection) drops traffic both ways.
  n2.got.length = 0;
  n1.t.partition([2]);
  n1.t.send([makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 3 })]);
  await sleep(100);
  expect(n2.got.length).toBe(0);
  n1.t.heal();
  n1.t.send([makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 3 })]);
  await until(() => n2.got.length === 1, 'the heartbeat after healing');
});

test('a peer that does not read: the queue bound drops messages and reports it', async () => {
  const stuckPort = await freePort();
  const stuck = net.createServer((s) => {
    s.pause();
    stuckSockets.push(s);
  });
  servers.push(stuck);
  await new Promise<void>((r) => stuck.listen(stuckPort, HOST, r));
  const peers: PeerAddress[] = [{ id: 1, host: HOST, port: await freePort() }, { id: 4, host: HOST, port: stuckPort }];
  const n1 = make(1, peers, 256 * 1024);
  await n1.t.start();
  await until(() => n1.t.isReachable(4), 'the connection to the stuck peer');
  const data = new Uint8Array(64 * 1024);
  for (let i = 0; i < 200 && n1.unreachable.length === 0; i++) {
    n1.t.send([makeMessage({ type: 'MsgApp', from: 1, to: 4, term: 1, entries: [{ term: 1, index: i + 1, type: 'normal', data }] })]);
    await sleep(1);
  }
  expect(n1.unreachable).toContain(4);
});

test('strangers and impostors are refused', async () => {
  const peers: PeerAddress[] = [{ id: 1, host: HOST, port: await freePort() }, { id: 2, host: HOST, port: await freePort() }];
  const n1 = make(1, peers);
  await n1.t.start();
  const tryHello = async (from: number, to: number, version = WIRE_VERSION): Promise<boolean> => {
    const s = net.createConnection({ host: HOST, port: peers[0]!.port });
    await new Promise((r) => s.once('connect', r));
    s.write(encodeHello({ version, from, to }));
    const closed = await Promise.race([new Promise((r) => s.once('close', () => r(true))), sleep(300).then(() => false)]);
    s.destroy();
    return closed as boolean;
  };
  expect(await tryHello(9, 1)).toBe(true); // not a peer
  expect(await tryHello(2, 5)).toBe(true); // addressed to someone else
  expect(await tryHello(2, 1, 1)).toBe(true); // a version 1 peer (before membership changes)
  expect(await tryHello(2, 1)).toBe(false); // fine
  expect(n1.logs.filter((l) => l.includes('refused')).length).toBe(3);
  expect(n1.logs.some((l) => l.includes(`wire version 1, expected ${WIRE_VERSION}`))).toBe(true);
});

test('setPeers: a new peer is dialed and accepted, a departed one is closed and, when it dials, told it was removed', async () => {
  const a: PeerAddress = { id: 1, host: HOST, port: await freePort() };
  const b: PeerAddress = { id: 2, host: HOST, port: await freePort() };
  const c: PeerAddress = { id: 3, host: HOST, port: await freePort() };
  const n1 = make(1, [a, b]);
  const n2 = make(2, [a, b]);
  // n3 joins: it knows n1 (to accept its hello), n1 does not know n3 yet.
  const n3 = make(3, [a], undefined, c);
  await Promise.all([n1.t.start(), n2.t.start(), n3.t.start()]);
  await until(() => n1.t.isReachable(2) && n2.t.isReachable(1), 'n1 and n2 linked');
  expect(n1.t.isReachable(3)).toBe(false);
  n1.t.setPeers([a, b, c], new Map());
  await until(() => n1.t.isReachable(3) && n3.t.isReachable(1), 'n1 and n3 linked');
  n1.t.send([makeMessage({ type: 'MsgHeartbeat', from: 1, to: 3, term: 1 })]);
  n3.t.send([makeMessage({ type: 'MsgHeartbeatResp', from: 3, to: 1, term: 1 })]);
  await until(() => n3.got.length === 1 && n1.got.some((m) => m.from === 3), 'n1 <-> n3 messages');
  // n2 is removed (at index 42): n1 closes its link and n2's connection, and says so when n2 dials again.
  n1.t.setPeers([a, c], new Map([[2, 42]]));
  expect(n1.t.peerIds().sort()).toEqual([3]);
  expect(n1.t.isReachable(2)).toBe(false);
  await until(() => n2.removedBy.length > 0, 'n2 to be told it was removed');
  expect(n2.removedBy[0]).toEqual([1, 42]);
  expect(n1.logs.some((l) => l.includes('node 2') && l.includes('no longer a peer'))).toBe(true);
  // Messages to a departed peer are not sent (no link).
  n1.t.send([makeMessage({ type: 'MsgHeartbeat', from: 1, to: 2, term: 1 })]);
  expect(n1.logs.some((l) => l.includes('no address for node 2'))).toBe(true);
});
