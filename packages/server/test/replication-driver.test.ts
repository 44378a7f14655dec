// The raft driver without sockets: three drivers wired by an in-memory "network", a store
// whose persist() is slow, checks that nothing is sent before it is persisted and nothing is
// applied before it is committed, and that ticks follow the monotonic clock across a pause.

import { Entry, Message, NodeId, ReadState, Snapshot, SoftState } from '@keel/raft';
import { RaftDriver, StateMachine } from '../src/replication/driver';
import { MemoryLogStore, PersistRequest } from '../src/replication/log-store';
import { decodeOp, encodeOp } from '../src/replication/op-codec';
import { sleep } from './harness';

class SlowStore extends MemoryLogStore {
  override async persist(req: PersistRequest): Promise<void> {
    await sleep(2);
    return super.persist(req);
  }
}

class Recorder implements StateMachine {
  applied: Entry[] = [];
  constructor(private readonly driver: () => RaftDriver) {}
  applyEntry(e: Entry): void {
    expect(e.index).toBeLessThanOrEqual(this.driver().commitIndex);
    this.applied.push(e);
  }
  restoreSnapshot(_s: Snapshot): void {}
  onReadStates(_rs: ReadState[]): void {}
  onSoftState(_ss: SoftState): void {}
}

const quiet = { notice() {}, warning() {} };
const drivers: RaftDriver[] = [];
afterAll(() => {
  for (const d of drivers) d.stop();
});

test('persist, then send, then apply: a 3-node group over an in-memory network', async () => {
  const ids: NodeId[] = [1, 2, 3];
  const stores = new Map<NodeId, SlowStore>();
  const byId = new Map<NodeId, RaftDriver>();
  const machines = new Map<NodeId, Recorder>();
  const violations: string[] = [];
  for (const id of ids) {
    const store = new SlowStore();
    stores.set(id, store);
    const sm = new Recorder(() => byId.get(id)!);
    machines.set(id, sm);
    const d = await RaftDriver.open({
      id,
      voters: ids,
      store,
      stateMachine: sm,
      log: quiet,
      tickMs: 10,
      send: (msgs: Message[]) => {
        for (const m of msgs) {
          // What a message claims about the sender's log must already be in its store.
          const last = m.entries.length > 0 ? m.entries[m.entries.length - 1]!.index : 0;
          if (last > store.lastIndex()) violations.push(`${m.type} ${id}->${m.to} carries ${last} > persisted ${store.lastIndex()}`);
          if ((m.type === 'MsgVoteResp' || m.type === 'MsgAppResp') && m.term > store.hardState.term) violations.push(`${m.type} before its term was persisted`);
          setTimeout(() => byId.get(m.to)?.step(m), Math.random() * 3);
        }
      },
    });
    byId.set(id, d);
    drivers.push(d);
  }
  for (const d of byId.values()) d.start();
  const deadline = Date.now() + 5000;
  let leader: RaftDriver | undefined;
  while (leader === undefined && Date.now() < deadline) {
    await sleep(10);
    leader = [...byId.values()].find((d) => d.isLeader);
  }
  expect(leader).toBeDefined();
  for (let i = 0; i < 20; i++) {
    leader!.proposeBatch([encodeOp({ kind: 'command', db: 0, argv: ['SET', `k${i}`, String(i)] }, 1000 + i, i)]);
    if (i % 5 === 0) await sleep(5);
  }
  while (Date.now() < deadline && ![...machines.values()].every((m) => m.applied.filter((e) => e.data.byteLength > 0).length === 20)) await sleep(10);
  for (const m of machines.values()) {
    const ops = m.applied.filter((e) => e.data.byteLength > 0).map((e) => decodeOp(e.data));
    expect(ops.map((o) => o.op)).toEqual(Array.from({ length: 20 }, (_, i) => ({ kind: 'command', db: 0, argv: ['SET', `k${i}`, String(i)] })));
    expect(ops.map((o) => o.timeMs)).toEqual(Array.from({ length: 20 }, (_, i) => 1000 + i));
  }
  expect(violations).toEqual([]);
});

test('ticks follow the monotonic clock: missed ticks run after the event loop was blocked', async () => {
  const warnings: string[] = [];
  const d = await RaftDriver.open({
    id: 1,
    voters: [1],
    store: new MemoryLogStore(),
    stateMachine: new Recorder(() => d),
    log: { notice() {}, warning: (m) => warnings.push(m) },
    send: () => {},
    tickMs: 10,
  });
  drivers.push(d);
  d.start();
  await sleep(50);
  const before = d.ticksElapsed;
  const t0 = performance.now();
  while (performance.now() - t0 < 300) { /* a pause of the process */ }
  await sleep(25);
  expect(d.ticksElapsed - before).toBeGreaterThanOrEqual(30);
  expect(warnings.some((w) => /blocked for about \d+ ms; running \d+ missed ticks/.test(w))).toBe(true);
});
