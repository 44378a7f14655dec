// What a replicated node adds to the command set and to INFO:
//
//   INFO replication / INFO raft   role (master on the leader, slave elsewhere, as Redis clients
//                                  expect), term, leader, commit / applied / snapshot index, and
//                                  per peer (on the leader) its match index and lag.
//   WAIT numreplicas timeout       the number of followers known to hold the client's last write
//                                  (match index >= its log index); blocks like Redis's.
//   KEEL.TRANSFERLEADER <node>     moves leadership to a node (n2 or 2); replies once it moved.
//   (KEEL.ADDNODE and KEEL.REMOVENODE are in membership-admin.ts.)

import { performance } from 'node:perf_hooks';
import { Call, command, CommandError, CommandSpec } from '@keel/engine';
import { NONE, NodeId } from '@keel/raft';
import type { Client } from '../client';
import { addInfoSection } from '../commands/introspection';
import type { ShardNode } from './shard-node';

type Fields = Array<[string, string | number]>;

/** The raft id of a node name or number: its trailing digits (`n2` → 2), or null. */
export function nodeIdOf(name: string): NodeId | null {
  const m = /^(?:[A-Za-z][A-Za-z0-9_-]*?)?(\d+)$/.exec(name);
  if (m === null) return null;
  const id = Number(m[1]);
  return Number.isSafeInteger(id) && id >= 1 ? id : null;
}

/** A peer's replication state, as the leader sees it. */
export interface PeerStatus {
  id: NodeId;
  address: string;
  match: number;
  lagEntries: number;
  /** Time since the peer last acknowledged an append or a heartbeat (-1: never). */
  lagMs: number;
  state: string;
  learner: boolean;
}

export function peerStatuses(node: ShardNode): PeerStatus[] {
  const raft = node.driver.node.raft;
  if (!node.driver.isLeader) return [];
  const last = raft.raftLog.lastIndex();
  const now = performance.now();
  const out: PeerStatus[] = [];
  for (const [id, pr] of [...raft.trk.progress.entries()].sort((a, b) => a[0] - b[0])) {
    if (id === node.id) continue;
    const ack = node.lastAckMs.get(id);
    out.push({
      id,
      address: node.clientAddressOf(id) ?? '',
      match: pr.match,
      lagEntries: Math.max(0, last - pr.match),
      lagMs: ack === undefined ? -1 : Math.round(now - ack),
      state: node.transport.isReachable(id) ? pr.state : `${pr.state}/unreachable`,
      learner: pr.isLearner,
    });
  }
  return out;
}

function raftFields(node: ShardNode): Fields {
  const d = node.driver;
  const raft = d.node.raft;
  const cs = raft.trk.confState();
  const lead = d.leader;
  const fields: Fields = [
    ['raft_node_id', node.id],
    ['raft_state', raft.state],
    ['raft_term', d.term],
    ['raft_leader', lead === NONE ? 0 : lead],
    ['raft_leader_address', lead === NONE ? '' : (node.clientAddressOf(lead) ?? '')],
    ['raft_commit_index', d.commitIndex],
    ['raft_applied_index', d.applied],
    // How stale a READONLY read here may be: the applied index above against the leader's
    // commit index, and how long ago this node last heard from the leader.
    ['raft_leader_contact_ms_ago', d.isLeader ? 0 : node.lastLeaderContactMs === 0 ? -1 : Math.floor(performance.now() - node.lastLeaderContactMs)],
    ['raft_last_index', raft.raftLog.lastIndex()],
    ['raft_snapshot_index', node.snapshotIndex],
    ['raft_voters', cs.voters.join(',')],
    ['raft_learners', cs.learners.join(',')],
    ['raft_members', [...cs.voters, ...cs.learners].sort((a, b) => a - b).map((id) => `${id}@${node.clientAddressOf(id) ?? ''}`).join(',')],
    ['raft_pending_writes', node.writes.pendingCount],
    ['raft_removed', node.book.removedIds().join(',')],
    ['raft_this_node_removed', node.removedAt === null ? 0 : 1],
    ...node.readPathInfo(),
  ];
  // Every member of the configuration, with its role and addresses (from the member book).
  for (const id of [...cs.voters, ...cs.learners].sort((a, b) => a - b)) {
    const m = node.book.get(id);
    const role = cs.voters.includes(id) ? 'voter' : 'learner';
    fields.push([`raft_member_${id}`, `role=${role},address=${m?.clientAddress ?? ''},cluster=${m === undefined ? '' : `${m.host}:${m.clusterPort}`}`]);
  }
  for (const p of peerStatuses(node)) {
    fields.push([`raft_peer_${p.id}`, `match=${p.match},lag_entries=${p.lagEntries},lag_ms=${p.lagMs},state=${p.state}${p.learner ? ',learner=1' : ''},address=${p.address}`]);
  }
  return fields;
}

function splitAddress(a: string | undefined): [string, string] {
  if (a === undefined || a === '') return ['', '0'];
  const i = a.lastIndexOf(':');
  return i < 0 ? [a, '0'] : [a.slice(0, i), a.slice(i + 1)];
}

function replicationFields(node: ShardNode): Fields {
  const d = node.driver;
  const fields: Fields = [];
  if (d.isLeader) {
    const peers = peerStatuses(node);
    fields.push(['role', 'master'], ['connected_slaves', peers.filter((p) => node.transport.isReachable(p.id)).length]);
    peers.forEach((p, i) => {
      const [ip, port] = splitAddress(p.address);
      const online = node.transport.isReachable(p.id) && p.state.startsWith('replicate');
      fields.push([`slave${i}`, `ip=${ip},port=${port},state=${online ? 'online' : 'wait_bgsave'},offset=${p.match},lag=${p.lagMs < 0 ? -1 : Math.floor(p.lagMs / 1000)}`]);
    });
    fields.push(['master_repl_offset', d.commitIndex]);
  } else {
    const lead = d.leader;
    const [host, port] = splitAddress(lead === NONE ? undefined : node.clientAddressOf(lead));
    const heard = node.lastLeaderContactMs;
    fields.push(
      ['role', 'slave'],
      ['master_host', host],
      ['master_port', port],
      ['master_link_status', lead === NONE ? 'down' : 'up'],
      ['master_last_io_seconds_ago', heard === 0 ? -1 : Math.floor((performance.now() - heard) / 1000)],
      ['master_sync_in_progress', 0],
      ['slave_repl_offset', d.applied],
      ['slave_read_only', 1],
      ['connected_slaves', 0],
      ['master_repl_offset', d.commitIndex],
    );
  }
  return [...fields, ...raftFields(node)];
}

export function registerInfo(node: ShardNode): void {
  addInfoSection(node.server, () => ({ name: 'Replication', fields: replicationFields(node), inDefault: true }));
  addInfoSection(node.server, () => ({ name: 'Raft', fields: raftFields(node), inDefault: false }));
}

// --- WAIT -----------------------------------------------------------------------------------

interface Waiter {
  client: Client;
  index: number;
  numreplicas: number;
  deadlineMs: number; // performance.now() based; Infinity for timeout 0
}

const ERR_WAIT_REPLICA =
  'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.';

function parseInteger(s: string): number | null {
  if (!/^-?\d+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Clients parked by a blocking admin command (WAIT, KEEL.WAITINDEX) until `settle` answers
 * them: checked at the end of a turn after poke() (something changed) and every 10 ms (for
 * deadlines). `settle(w, now, closing)` replies and returns true, or returns false to keep
 * waiting; when closing it must reply.
 */
class Parked<W extends { client: Client }> {
  private waiters: W[] = [];
  private timer: NodeJS.Timeout | null = null;
  private poked = false;
  closed = false;

  constructor(private readonly settle: (w: W, now: number, closing: boolean) => boolean) {}

  park(w: W): void {
    w.client.waiting = true;
    this.waiters.push(w);
    if (this.timer === null) {
      this.timer = setInterval(() => this.check(), 10);
      this.timer.unref();
    }
  }

  poke(): void {
    if (this.poked || this.waiters.length === 0) return;
    this.poked = true;
    setImmediate(() => {
      this.poked = false;
      this.check();
    });
  }

  check(): void {
    if (this.waiters.length === 0) return this.stopTimer();
    const now = performance.now();
    const keep: W[] = [];
    for (const w of this.waiters) {
      if (w.client.isClosed) continue;
      if (this.settle(w, now, this.closed)) w.client.resume();
      else keep.push(w);
    }
    this.waiters = keep;
    if (keep.length === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Answers every waiter with what is known now. */
  close(): void {
    this.closed = true;
    this.check();
    this.stopTimer();
  }
}

/** Whether a command can park its client (not inside EXEC, a real connection, not stopping). */
function canPark(client: Client, closed: boolean): boolean {
  return !client.inExec && typeof client.resume === 'function' && !closed;
}

function parseTimeout(s: string): number {
  const timeout = parseInteger(s);
  if (timeout === null) throw new CommandError('ERR timeout is not an integer or out of range');
  if (timeout < 0) throw new CommandError('ERR timeout is negative');
  return timeout === 0 ? Infinity : performance.now() + timeout;
}

/** Blocked WAITs, answered when enough followers hold the write, on timeout or leader loss. */
export class Waits {
  private readonly parked = new Parked<Waiter>((w, now, closing) => {
    const have = this.count(w.index);
    // A count seen while leader stays true: a committed entry is never removed from a log.
    if (have < w.numreplicas && now < w.deadlineMs && this.node.driver.isLeader && !closing) return false;
    w.client.out.integer(have);
    return true;
  });

  constructor(private readonly node: ShardNode) {}

  /** Followers (not this node) whose match index is at least `index`. */
  count(index: number): number {
    const raft = this.node.driver.node.raft;
    let n = 0;
    for (const [id, pr] of raft.trk.progress) if (id !== this.node.id && pr.match >= index) n++;
    return n;
  }

  spec(): CommandSpec {
    return command('wait', 3, ['noscript'], [0, 0, 0], 'generic', '3.0.0', 'Blocks until the writes of this connection are held by the given number of replicas (followers).', (c) => this.handle(c));
  }

  private handle(c: Call): void {
    const node = this.node;
    const single = node.members.length === 1;
    if (!single && !node.driver.isLeader) throw new CommandError(ERR_WAIT_REPLICA);
    const numreplicas = parseInteger(c.argv[1]!);
    if (numreplicas === null) throw new CommandError('ERR value is not an integer or out of range');
    const deadlineMs = parseTimeout(c.argv[2]!);
    if (single) {
      c.out.integer(0);
      return;
    }
    const client = c.client as unknown as Client;
    const index = client.lastWriteIndex ?? 0;
    const have = this.count(index);
    // Inside EXEC (or with no real connection to park) it answers at once, as Redis does.
    if (have >= numreplicas || !canPark(client, this.parked.closed)) {
      c.out.integer(have);
      return;
    }
    this.parked.park({ client, index, numreplicas, deadlineMs });
  }

  /** Something changed (a peer acknowledged): check the waiters at the end of this turn. */
  poke(): void {
    this.parked.poke();
  }

  check(): void {
    this.parked.check();
  }

  close(): void {
    this.parked.close();
  }
}

// --- KEEL.POSITION and KEEL.WAITINDEX: read-your-writes on a follower -------------------------

/**
 * A client that wrote (through any node) and reads from a follower in a `READONLY` session
 * asks, on the write's connection, `KEEL.POSITION` (the log index of its last write), then,
 * on the follower, `KEEL.WAITINDEX index timeout`: it answers the follower's applied index as
 * soon as it reaches `index` (the reads after it see the write and everything before it), or
 * at the timeout (ms, 0 = none) with a smaller one, which the client compares.
 */
export class IndexWaits {
  private readonly parked = new Parked<{ client: Client; index: number; deadlineMs: number }>((w, now, closing) => {
    const applied = this.node.driver.applied;
    if (applied < w.index && now < w.deadlineMs && !closing) return false;
    w.client.out.integer(applied);
    return true;
  });

  constructor(private readonly node: { readonly driver: { readonly applied: number } }) {}

  specs(): CommandSpec[] {
    const position = (c: Call): void => {
      c.out.integer((c.client as unknown as Client).lastWriteIndex ?? 0);
    };
    const waitIndex = (c: Call): void => {
      const index = parseInteger(c.argv[1]!);
      if (index === null || index < 0) throw new CommandError('ERR index is not a non-negative integer or out of range');
      const deadlineMs = parseTimeout(c.argv[2]!);
      const client = c.client as unknown as Client;
      const applied = this.node.driver.applied;
      if (applied >= index || !canPark(client, this.parked.closed)) {
        c.out.integer(applied);
        return;
      }
      this.parked.park({ client, index, deadlineMs });
    };
    return [
      command('keel.position', 1, ['noscript', 'fast'], [0, 0, 0], 'server', '0.1.0', 'The log index of the entry that applied the last write of this connection (0 if none).', position),
      command('keel.waitindex', 3, ['noscript', 'stale'], [0, 0, 0], 'server', '0.1.0', "Blocks until this node has applied the log up to index, or the timeout (ms, 0 = none) passes; answers the node's applied index.", waitIndex),
    ];
  }

  /** Entries were applied: check the waiters at the end of this turn. */
  poke(): void {
    this.parked.poke();
  }

  close(): void {
    this.parked.close();
  }
}

// --- KEEL.TRANSFERLEADER --------------------------------------------------------------------

export function transferLeaderSpec(node: ShardNode): CommandSpec {
  function handle(c: Call): void {
    const target = nodeIdOf(c.argv[1]!);
    const voters = node.driver.node.raft.trk.confState().voters;
    if (target === null || !voters.includes(target)) {
      throw new CommandError(`ERR '${c.argv[1]}' is not a voter of this shard (voters: ${voters.join(', ')})`);
    }
    if (node.driver.leader === target) {
      c.out.ok();
      return;
    }
    const lead = node.driver.leader;
    if (lead === NONE) throw new CommandError('TRYAGAIN No leader for this shard right now; nothing was transferred');
    if (lead !== node.id) {
      const addr = node.clientAddressOf(lead);
      throw new CommandError(`READONLY This node is not the leader; ask the leader, node ${lead}${addr === undefined ? '' : ` (${addr})`}; nothing was transferred`);
    }
    const client = c.client as unknown as Client;
    const timeoutMs = Math.max(2000, node.transferTimeoutMs);
    node.driver.transferLeader(target);
    if (typeof client.resume !== 'function' || client.inExec) {
      c.out.simple('STARTED');
      return;
    }
    client.waiting = true;
    const deadline = performance.now() + timeoutMs;
    const poll = setInterval(() => {
      const done = node.driver.leader === target;
      if (!done && performance.now() < deadline && !node.isClosed && !client.isClosed) return;
      clearInterval(poll);
      if (client.isClosed) return;
      if (done) client.out.ok();
      else client.out.error(`ERR leadership did not move to node ${target} within ${timeoutMs} ms (the leader is ${node.driver.leader === NONE ? 'unknown' : `node ${node.driver.leader}`})`);
      client.resume();
    }, 10);
  }
  return command('keel.transferleader', 2, ['admin', 'noscript'], [0, 0, 0], 'server', '0.1.0', 'Transfers the leadership of this shard to a node (by name, n2, or raft id).', handle);
}
