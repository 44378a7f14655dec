// The raft driver without sockets: three drivers wired by an in-memory "network", a store
// whose persist() is slow, checks that nothing is sent before it is persisted and nothing is
// applied before it is committed, and that ticks follow the monotonic clock across a pause.

import { Entry, Message, NodeId, ReadState, Snapshot, SoftState } from '@keel/raft';
import { RaftDriver, StateMachine } from '../src/replication/driver';
import { MemoryLogStore, PersistRequest } from '../src/replication/log-store';
import { decodeOp, encodeOp } from '../src/replication/op-codec';
import { sleep } from './harness';

/**
 * Raft reads what persist() was given at once; the write becomes durable 2 ms later, in the
 * order issued. `durableIndex` and `durableTerm` say what a crash now would keep.
 */
class SlowStore extends MemoryLogStore {
  durableIndex = 0;
  durableTerm = 0;
  inFlight = 0;
  maxInFlight = 0;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly delayMs = 2) {
    super();
  }

  override persist(req: PersistRequest): Promise<void> {
    void super.persist(req);
    const lastIndex = req.entries !== undefined && req.entries.length > 0 ? req.entries[req.entries.length - 1]!.index : undefined;
    const term = req.hardState?.term;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    this.last = this.last.then(async () => {
      await sleep(this.delayMs);
      this.inFlight--;
      if (lastIndex !== undefined) this.durableIndex = lastIndex;
      if (term !== undefined) this.durableTerm = term;
    });
    return this.last;
  }
}

class Recorder implements StateMachine {
  applied: Entry[] = [];
  violations: string[] = [];
  constructor(
    private readonly driver: () => RaftDriver,
    private readonly store?: SlowStore,
    /** Whether a majority of the group's stores hold `index` durably. */
    private readonly quorumDurable?: (index: number) => boolean,
  ) {}
  applyEntry(e: Entry): void {
    if (e.index > this.driver().commitIndex) this.violations.push(`applied ${e.index} beyond commit ${this.driver().commitIndex}`);
    // An entry this node's store does not hold durably yet must not be applied (the
    // bootstrap snapshot's index 1 is durable from the start).
    if (this.store !== undefined && e.index > Math.max(1, this.store.durableIndex)) this.violations.push(`applied ${e.index} before it was durable (${this.store.durableIndex})`);
    // Committed means durable on a majority (the leader's own copy counts only once durable).
    if (this.quorumDurable !== undefined && e.index > 1 && !this.quorumDurable(e.index)) this.violations.push(`applied ${e.index} before a majority held it durably`);
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

test('a 3-node group over an in-memory network: votes and acknowledgements only once durable, entries applied only once durable here and on a majority', async () => {
  const ids: NodeId[] = [1, 2, 3];
  const stores = new Map<NodeId, SlowStore>();
  const byId = new Map<NodeId, RaftDriver>();
  const machines = new Map<NodeId, Recorder>();
  const violations: string[] = [];
  let earlyAppends = 0;
  for (const id of ids) {
    // Node 1 (made leader below) and node 3 write slowly, node 2 fast: a leader that counted
    // its own copy before it was durable would commit with node 2 alone holding it.
    const store = new SlowStore(id === 2 ? 2 : 15);
    stores.set(id, store);
    const sm = new Recorder(() => byId.get(id)!, store, (index) => [...stores.values()].filter((s) => s.durableIndex >= index).length >= 2);
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
          // What a message claims about the sender's log must already be durable in its store.
          // (A leader's appends may carry entries it has not yet made durable: it counts
          // itself only once they are; the check below, on applying, says a quorum held them.)
          if (m.type === 'MsgApp' && m.entries.length > 0) earlyAppends++;
          if (m.type === 'MsgAppResp' && !m.reject && m.index > store.durableIndex) violations.push(`${m.type} ${id}->${m.to} acknowledges ${m.index} > durable ${store.durableIndex}`);
          if ((m.type === 'MsgVoteResp' || m.type === 'MsgAppResp') && m.term > store.durableTerm) violations.push(`${m.type} before its term was durable`);
          setTimeout(() => byId.get(m.to)?.step(m), Math.random() * 3);
        }
      },
    });
    byId.set(id, d);
    drivers.push(d);
  }
  for (const d of byId.values()) d.start();
  byId.get(1)!.campaign();
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
  for (const m of machines.values()) expect(m.violations).toEqual([]);
  expect(earlyAppends).toBeGreaterThan(0);
});

test('pipelined: the next Ready is persisted while the one before it is still being written', async () => {
  const store = new SlowStore();
  const d: RaftDriver = await RaftDriver.open({
    id: 1,
    voters: [1],
    store,
    stateMachine: new Recorder(() => d, store),
    log: quiet,
    send: () => {},
    tickMs: 10,
  });
  drivers.push(d);
  const sm = (d as unknown as { opts: { stateMachine: Recorder } }).opts.stateMachine;
  d.start();
  d.campaign();
  const deadline = Date.now() + 5000;
  while (!d.isLeader && Date.now() < deadline) await sleep(5);
  expect(d.isLeader).toBe(true);
  // One proposal a turn for 200 turns: each makes a Ready of its own, issued while earlier
  // ones are still in the store's 2 ms write.
  for (let i = 0; i < 200; i++) {
    d.proposeBatch([encodeOp({ kind: 'command', db: 0, argv: ['SET', 'k', String(i)] }, 1000 + i, i)]);
    await new Promise((r) => setImmediate(r));
  }
  while (sm.applied.filter((e) => e.data.byteLength > 0).length < 200 && Date.now() < deadline) await sleep(5);
  expect(sm.applied.filter((e) => e.data.byteLength > 0).map((e) => decodeOp(e.data).op)).toEqual(
    Array.from({ length: 200 }, (_, i) => ({ kind: 'command', db: 0, argv: ['SET', 'k', String(i)] })),
  );
  expect(store.maxInFlight).toBeGreaterThan(1);
  expect(sm.violations).toEqual([]);
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
