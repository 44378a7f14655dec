// Config.leaderAwaitsOwnAppend: the leader counts its own copy of an entry toward the quorum
// only once the application reports it durable (RawNode.ownAppendDurable), so that the
// application may send the leader's appends before its own write completes.

import { MemoryStorage, RawNode, confStateOf } from '../src';
import { stabilize } from './stabilize';

const enc = new TextEncoder();

function node(id: number, voters: number[]): RawNode {
  const storage = new MemoryStorage();
  storage.applySnapshot({ metadata: { index: 1, term: 1, confState: confStateOf(voters) }, data: new Uint8Array(0) });
  storage.setHardState({ term: 1, vote: 0, commit: 1 });
  return new RawNode({ id, electionTimeoutTicks: 10, heartbeatTimeoutTicks: 2, storage, random: () => 0, leaderAwaitsOwnAppend: true });
}

/** Handles every node's Readys; only the nodes in `durable` are told their writes completed. */
function pump(nodes: Map<number, RawNode>, durable: Set<number>): void {
  stabilize(nodes, { durable: (id) => durable.has(id) });
}

test('a shard of one commits only what it reported durable', () => {
  const n = node(1, [1]);
  n.campaign();
  pump(new Map([[1, n]]), new Set());
  expect(n.isLeader).toBe(true);
  const commit = n.raft.raftLog.committed;
  n.propose(enc.encode('x'));
  pump(new Map([[1, n]]), new Set());
  expect(n.raft.raftLog.committed).toBe(commit); // appended, not durable: not committed
  const last = n.raft.raftLog.lastIndex();
  n.ownAppendDurable(last, n.raft.term);
  expect(n.raft.raftLog.committed).toBe(last);
});

test('3 nodes: the leader plus one follower commit only once both copies are durable', () => {
  const nodes = new Map([1, 2, 3].map((id) => [id, node(id, [1, 2, 3])] as const));
  nodes.get(1)!.campaign();
  pump(nodes, new Set([1, 2, 3]));
  const l = nodes.get(1)!;
  expect(l.isLeader).toBe(true);
  // Node 3 is gone; node 1's own write has not completed; node 2's has.
  const two = new Map([[1, l], [2, nodes.get(2)!]]);
  const commit = l.raft.raftLog.committed;
  l.propose(enc.encode('y'));
  pump(two, new Set([2]));
  const last = l.raft.raftLog.lastIndex();
  expect(nodes.get(2)!.raft.raftLog.lastIndex()).toBe(last); // the follower holds it
  expect(l.raft.raftLog.committed).toBe(commit); // one durable copy of three is no quorum
  l.ownAppendDurable(last, l.raft.term);
  expect(l.raft.raftLog.committed).toBe(last);
});

test('a new leader counts only the part of its log it knows durable', () => {
  const nodes = new Map([1, 2, 3].map((id) => [id, node(id, [1, 2, 3])] as const));
  nodes.get(1)!.campaign();
  pump(nodes, new Set([1, 2, 3]));
  const n2 = nodes.get(2)!;
  // Node 2 appends an entry from leader 1 but never reports it durable; then it leads.
  nodes.get(1)!.propose(enc.encode('z'));
  pump(new Map([[1, nodes.get(1)!], [2, n2]]), new Set([1]));
  const z = n2.raft.raftLog.lastIndex();
  nodes.get(1)!.transferLeader(2);
  pump(nodes, new Set([1, 3]));
  expect(n2.isLeader).toBe(true);
  expect(n2.raft.trk.progress.get(2)!.match).toBeLessThan(z);
});
