// The replicated write path against a scripted driver: what a client is told for each way a
// proposal can end. A success reply only ever follows the application of the proposal's own
// entry (same index, same term).

import { Entry, ProposalDroppedError } from '@keel/raft';
import { ReplyWriter } from '@keel/resp';
import type { Client } from '../src/client';
import { KeelServer } from '../src/server';
import { RaftDriver } from '../src/replication/driver';
import { decodeOps, encodeOp } from '../src/replication/op-codec';
import { ReplicatedWritePath } from '../src/replication/replicated-write-path';

interface FakeClient {
  id: number;
  db: number;
  inExec: boolean;
  out: ReplyWriter;
  waiting: boolean;
  isClosed: boolean;
  replies: string[];
  writesInFlight: number;
  protocol: 2 | 3;
  resumes: number;
  resume(): void;
  scheduleFlush(): void;
}

function fakeClient(id: number): FakeClient {
  const c: FakeClient = {
    id, db: 0, inExec: false, out: new ReplyWriter(), waiting: false, isClosed: false, replies: [],
    writesInFlight: 0, protocol: 2, resumes: 0,
    resume() {
      c.waiting = false;
      c.resumes++;
      c.scheduleFlush();
    },
    scheduleFlush() {
      const b = c.out.take();
      if (b !== null) c.replies.push(b.toString('latin1'));
    },
  };
  return c;
}

class ScriptedDriver {
  id = 1;
  isLeader = true;
  leader = 1;
  term = 2;
  next = 10;
  refuse: string | null = null;
  proposed: Uint8Array[] = [];
  proposeBatch(datas: Uint8Array[]): { firstIndex: number; term: number } {
    if (this.refuse !== null) throw new ProposalDroppedError(this.refuse);
    const at = { firstIndex: this.next, term: this.term };
    this.next += datas.length;
    this.proposed.push(...datas);
    return at;
  }
}

const servers: KeelServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

function setup(commitTimeoutMs = 100_000) {
  const server = new KeelServer({ loglevel: 'warning' });
  servers.push(server);
  const driver = new ScriptedDriver();
  const wp = new ReplicatedWritePath(server, driver as unknown as RaftDriver, { commitTimeoutMs, addressOf: () => '127.0.0.1:7002' });
  const submit = (c: FakeClient, argv: string[]) => wp.submit(c as unknown as Client, { kind: 'command', db: 0, argv });
  const entry = (index: number, term: number, data: Uint8Array): Entry => ({ index, term, type: 'normal', data });
  return { server, driver, wp, submit, entry };
}

const turn = () => new Promise((r) => setImmediate(r));

test('ops of one turn are proposed as one entry; each write gets its own reply when it applies', async () => {
  const { server, driver, wp, submit, entry } = setup();
  const a = fakeClient(1);
  const b = fakeClient(2);
  submit(a, ['SET', 'x', '1']);
  submit(b, ['INCR', 'n']);
  submit(a, ['INCR', 'n']);
  expect(a.waiting && b.waiting).toBe(true);
  expect(driver.proposed.length).toBe(0);
  await turn();
  expect(driver.proposed.length).toBe(1);
  expect(decodeOps(driver.proposed[0]!).map((o) => o.op)).toEqual([
    { kind: 'command', db: 0, argv: ['SET', 'x', '1'] },
    { kind: 'command', db: 0, argv: ['INCR', 'n'] },
    { kind: 'command', db: 0, argv: ['INCR', 'n'] },
  ]);
  expect(a.replies).toEqual([]);
  expect(wp.pendingCount).toBe(3);
  wp.applyEntry(entry(10, 2, driver.proposed[0]!));
  expect(a.replies.join('')).toBe('+OK\r\n:2\r\n');
  expect(b.replies).toEqual([':1\r\n']);
  expect(server.engine.dbs[0]!.dict.get('x')).toBe('1');
  expect(wp.pendingCount).toBe(0);
  // The next turn is the next entry.
  submit(b, ['SET', 'y', '2']);
  await turn();
  expect(driver.proposed.length).toBe(2);
  wp.applyEntry(entry(11, 2, driver.proposed[1]!));
  expect(b.replies.join('')).toBe(':1\r\n+OK\r\n');
  wp.close();
});

test('an entry overwritten at its index fails every write it held: TRYAGAIN each', async () => {
  const { server, driver, wp, submit, entry } = setup();
  const a = fakeClient(1);
  const b = fakeClient(2);
  submit(a, ['SET', 'a', '1']);
  submit(b, ['SET', 'b', '1']);
  submit(a, ['SET', 'a2', '1']);
  await turn();
  expect(driver.proposed.length).toBe(1);
  wp.applyEntry(entry(10, 3, encodeOp({ kind: 'command', db: 0, argv: ['SET', 'theirs', '1'] }, Date.now(), 7)));
  const tryagain = '-TRYAGAIN Leadership changed before the write was committed; it was not executed\r\n';
  expect(a.replies.join('')).toBe(tryagain + tryagain);
  expect(b.replies).toEqual([tryagain]);
  expect(server.engine.dbs[0]!.dict.has('a')).toBe(false);
  expect(wp.stats.overwritten).toBe(3);
  expect(wp.pendingCount).toBe(0);
  wp.close();
});

test("an entry of another term at the proposal's index: TRYAGAIN, never the other op's reply", async () => {
  const { server, driver, wp, submit, entry } = setup();
  const a = fakeClient(1);
  submit(a, ['SET', 'mine', '1']);
  await turn();
  // A new leader's entry (term 3) committed at index 10 instead of ours (term 2).
  const theirs = encodeOp({ kind: 'command', db: 0, argv: ['INCR', 'theirs'] }, Date.now(), 7);
  wp.applyEntry(entry(10, 3, theirs));
  expect(a.replies).toEqual(['-TRYAGAIN Leadership changed before the write was committed; it was not executed\r\n']);
  expect(server.engine.dbs[0]!.dict.get('theirs')).toBe('1');
  expect(server.engine.dbs[0]!.dict.has('mine')).toBe(false);
  expect(wp.pendingCount).toBe(0);
  wp.close();
});

test('a proposal reusing an index cut from the log fails the older one', async () => {
  const { driver, wp, submit } = setup();
  const a = fakeClient(1);
  const b = fakeClient(2);
  submit(a, ['SET', 'a', '1']);
  await turn();
  driver.next = 10; // our log was cut back to 9, and we lead again in a new term
  driver.term = 4;
  submit(b, ['SET', 'b', '1']);
  await turn();
  expect(a.replies).toEqual(['-TRYAGAIN Leadership changed before the write was committed; it was not executed\r\n']);
  expect(b.replies).toEqual([]);
  wp.close();
  expect(b.replies[0]).toMatch(/^-UNKNOWN .*the node shut down/);
});

test('the commit timeout answers UNKNOWN, and a late commit then sends nothing', async () => {
  const { server, driver, wp, submit, entry } = setup(50);
  const a = fakeClient(1);
  submit(a, ['SET', 'late', '1']);
  await turn();
  await new Promise((r) => setTimeout(r, 150));
  expect(a.replies).toEqual(['-UNKNOWN The write was proposed (index 10, term 2) but was not known to be committed within 50 ms; it may or may not have been executed\r\n']);
  wp.applyEntry(entry(10, 2, driver.proposed[0]!)); // it did commit after all: applied, no reply
  expect(server.engine.dbs[0]!.dict.get('late')).toBe('1');
  expect(a.replies.length).toBe(1);
  expect(a.out.length).toBe(0);
  wp.close();
});

test('not leader, no leader, refused proposals: not executed, nothing proposed', async () => {
  const { driver, wp, submit } = setup();
  const a = fakeClient(1);
  driver.isLeader = false;
  driver.leader = 2;
  submit(a, ['SET', 'x', '1']);
  expect(a.out.take()!.toString()).toBe("-READONLY You can't write against a read only replica. The leader is node 2 (127.0.0.1:7002); the write was not executed\r\n");
  driver.leader = 0;
  submit(a, ['SET', 'x', '1']);
  expect(a.out.take()!.toString()).toMatch(/^-TRYAGAIN No leader/);
  driver.isLeader = true;
  driver.leader = 1;
  driver.refuse = 'leadership transfer to 3 in progress';
  submit(a, ['SET', 'x', '1']);
  await turn();
  expect(a.replies).toEqual(['-TRYAGAIN The leader refused the write (leadership transfer to 3 in progress); it was not executed\r\n']);
  expect(driver.proposed.length).toBe(0);
  // Expiry is the leader's job: a follower drops it silently.
  driver.isLeader = false;
  wp.submit({ id: 0, db: 0, inExec: false, out: new ReplyWriter() } as unknown as Client, { kind: 'expire', db: 0, keys: ['k'] });
  wp.close();
});

test('pipelined writes of one client are answered in order, even when a newer one is refused first', async () => {
  const { driver, wp, submit } = setup();
  const a = fakeClient(1);
  submit(a, ['SET', 'x', '1']);
  await turn();
  submit(a, ['SET', 'y', '2']);
  await turn();
  expect(driver.proposed.length).toBe(2);
  expect(a.writesInFlight).toBe(2);
  // Leadership is lost: a third write is refused at once, but two older ones are still pending.
  driver.isLeader = false;
  driver.leader = 2;
  submit(a, ['SET', 'z', '3']);
  expect(a.replies).toEqual([]);
  // The first commits, the second is overwritten by another leader's entry at its index.
  wp.applyEntry({ index: 10, term: 2, type: 'normal', data: driver.proposed[0]! });
  expect(a.replies.join('')).toBe('+OK\r\n');
  expect(a.resumes).toBe(0);
  wp.applyEntry({ index: 11, term: 3, type: 'normal', data: encodeOp({ kind: 'command', db: 0, argv: ['SET', 'other', 'v'] }, Date.now(), 1) });
  const all = a.replies.join('');
  expect(all.startsWith('+OK\r\n-TRYAGAIN ')).toBe(true);
  expect(all.split('\r\n')[2]!.startsWith('-READONLY ')).toBe(true);
  expect(a.resumes).toBe(1);
  expect(a.writesInFlight).toBe(0);
});
