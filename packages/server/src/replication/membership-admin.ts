// Membership commands, sent to the leader (a follower answers READONLY naming it):
//
//   KEEL.ADDNODE <node> <host:port[@clusterport]> [TIMEOUT ms]
//       1. a conf change adds the node as a learner; its context carries the addresses, so
//          every member (and every later snapshot) learns them from the log;
//       2. waits until the learner replicates within ADD_CATCHUP_LAG_ENTRIES of the leader's
//          last index (it starts from a snapshot, streamed by the transport);
//       3. a second conf change makes it a voter.
//       Replies OK once it is a voter; or an error saying how far it got (a learner that did not
//       catch up in time stays a learner: run the command again, or KEEL.REMOVENODE it).
//   KEEL.REMOVENODE <node>
//       a conf change removes the node; OK once applied on the leader. A removed leader hands
//       its leadership to a voter, then stops serving (as every removed node does).
//
// One change at a time per node; raft itself allows one pending change per shard. Every wait
// is bounded (ADDNODE's catch-up by TIMEOUT, default DEFAULT_TIMEOUT_MS; each conf change's
// apply by max(CHANGE_APPLY_TIMEOUT_MS, the commit timeout)); the client's connection is parked meanwhile, as for a blocking command.

import { performance } from 'node:perf_hooks';
import { Call, command, CommandError, CommandSpec } from '@keel/engine';
import { ConfChangeV2, NodeId, NONE, ProposalDroppedError } from '@keel/raft';
import type { Client } from '../client';
import { nodeIdOf } from './admin';
import { confMembers, encodeAddContext, MembershipError, parseMemberAddress } from './membership';
import type { ShardNode } from './shard-node';

/** A learner this close to the leader's last index is promoted. */
export const ADD_CATCHUP_LAG_ENTRIES = 1000;
const DEFAULT_TIMEOUT_MS = 300_000;
/** Members (voters and learners) a shard may have: raft groups are small; this bounds the book. */
export const MEMBERS_MAX = 32;
const TIMEOUT_MS_MAX = 3_600_000;
const CHANGE_APPLY_TIMEOUT_MS = 10_000;
const POLL_MS = 10;

/** An error reply of a membership command (its code first, as every Keel error). */
class AdminError extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function parseTimeout(argv: string[], from: number): number {
  if (argv.length === from) return DEFAULT_TIMEOUT_MS;
  if (argv.length !== from + 2 || argv[from]!.toUpperCase() !== 'TIMEOUT') throw new CommandError('ERR syntax error');
  const s = argv[from + 1]!;
  const n = Number(s);
  if (!/^\d+$/.test(s) || n < 1 || n > TIMEOUT_MS_MAX) throw new CommandError(`ERR TIMEOUT must be a number of milliseconds, 1..${TIMEOUT_MS_MAX}`);
  return n;
}

/** The gates every membership command passes: not removed, leader known and this node, no other change running here. */
function leaderGate(node: ShardNode, c: Call): Client {
  if (node.removedAt !== null) throw new CommandError(node.removedError());
  const lead = node.driver.leader;
  if (lead === NONE) throw new CommandError('TRYAGAIN No leader for this shard right now; nothing was changed');
  if (lead !== node.id) {
    const addr = node.clientAddressOf(lead);
    throw new CommandError(`READONLY This node is not the leader; ask the leader, node ${lead}${addr === undefined ? '' : ` (${addr})`}; nothing was changed`);
  }
  const client = c.client as unknown as Client;
  if (typeof client.resume !== 'function' || client.inExec) throw new CommandError(`ERR ${c.argv[0]} cannot run inside MULTI or a script`);
  if (node.membershipBusy) throw new CommandError('ERR another membership change is running on this node; wait for it');
  return client;
}

/** Parks the client, runs the change, replies with its outcome (never throws). */
function runParked(node: ShardNode, client: Client, what: string, run: () => Promise<void>): void {
  client.waiting = true;
  node.membershipBusy = true;
  void run()
    .then(
      () => null,
      (e: Error) => {
        if (e instanceof AdminError) return e.message;
        node.server.log.warning(`raft: ${what} failed: ${e.stack ?? e.message}`);
        return `ERR ${what} failed: ${e.message}`;
      },
    )
    .then((err) => {
      node.membershipBusy = false;
      if (client.isClosed) return;
      if (err === null) client.out.ok();
      else client.out.error(err);
      client.resume();
    });
}

/**
 * Proposes a conf change and waits (bounded) until it applied on this node. Rejects with an
 * AdminError if raft refused it, another leader's entry took its index, or time ran out.
 */
async function proposeAndApply(node: ShardNode, cc: ConfChangeV2, what: string): Promise<number> {
  let at;
  try {
    at = node.driver.proposeConfChange(cc);
  } catch (e) {
    if (e instanceof ProposalDroppedError) throw new AdminError(`TRYAGAIN The leader refused ${what} (${e.message}); nothing was changed`);
    throw e;
  }
  const index = at.firstIndex;
  const waitMs = Math.max(CHANGE_APPLY_TIMEOUT_MS, node.commitTimeoutMs);
  const deadline = performance.now() + waitMs;
  while (node.driver.applied < index) {
    if (node.isClosed || node.driver.isStopped) throw new AdminError(`UNKNOWN The node stopped before ${what} (proposed at index ${index}, term ${at.term}) applied; it may or may not have happened: see keel cluster status`);
    if (performance.now() > deadline) throw new AdminError(`UNKNOWN ${what} was proposed at index ${index} (term ${at.term}) but not applied within ${waitMs} ms; it may or may not happen: see keel cluster status`);
    await sleep(POLL_MS);
  }
  const term = node.confApplied.get(index);
  if (term === at.term) return index;
  let termAt: number | undefined;
  try {
    termAt = node.driver.node.raft.raftLog.term(index);
  } catch {
    termAt = undefined; // compacted meanwhile: which of the two below cannot be told; neither changed anything
  }
  if (termAt === undefined) throw new AdminError(`TRYAGAIN ${what} did not apply (refused by raft, or replaced by another leader's entry at index ${index}); nothing was changed`);
  if (term !== undefined || termAt !== at.term) {
    throw new AdminError(`TRYAGAIN Leadership changed before ${what} committed (another leader's entry took index ${index}); nothing was changed`);
  }
  throw new AdminError(`TRYAGAIN Raft refused ${what} (another membership change is pending, or the new leader has not committed an entry yet); nothing was changed, retry`);
}

export function addNodeSpec(node: ShardNode): CommandSpec {
  function handle(c: Call): void {
    const id = nodeIdOf(c.argv[1]!);
    if (id === null) throw new CommandError(`ERR '${c.argv[1]}' is not a node name ending in its raft id (n4, or 4)`);
    let member;
    try {
      member = parseMemberAddress(id, c.argv[2]!);
    } catch (e) {
      if (e instanceof MembershipError) throw new CommandError(`ERR ${e.message}`);
      throw e;
    }
    const timeoutMs = parseTimeout(c.argv, 3);
    const client = leaderGate(node, c);
    if (node.transport.port === 0) {
      throw new CommandError(`ERR this node has no node-to-node listener (a shard of one started without --peers): restart it with --peers n${node.id}=host:port[@clusterport] so that it can have peers`);
    }
    if (!node.hasSnapshotFiles) throw new CommandError('ERR this node has no snapshot files (an in-memory store): it cannot send a new member its state');
    if (node.book.removedIndex(id) !== undefined) {
      throw new CommandError(`ERR node ${id} was removed from this shard (at log index ${node.book.removedIndex(id)}); a removed id is never reused: give the new node another number`);
    }
    const cs = node.driver.node.raft.trk.confState();
    if (cs.votersOutgoing.length > 0) throw new CommandError('TRYAGAIN The shard is in a joint configuration; retry in a moment');
    const known = node.book.get(id);
    if (known !== undefined && (known.host !== member.host || known.clusterPort !== member.clusterPort || known.clientAddress !== member.clientAddress)) {
      throw new CommandError(`ERR node ${id} is already a member at ${known.clientAddress ?? known.host}@${known.clusterPort}; remove it first to change its address`);
    }
    for (const m of node.book.list()) {
      if (m.id !== id && ((m.host === member.host && m.clusterPort === member.clusterPort) || m.clientAddress === member.clientAddress)) {
        throw new CommandError(`ERR node ${m.id} already uses ${member.clientAddress}@${member.clusterPort}`);
      }
    }
    if (cs.voters.includes(id)) {
      c.out.ok(); // already a voter at this address
      return;
    }
    if (!confMembers(cs).has(id) && confMembers(cs).size >= MEMBERS_MAX) throw new CommandError(`ERR a shard has at most ${MEMBERS_MAX} members; remove one first`);
    const what = `adding node ${id}`;
    runParked(node, client, what, async () => {
      const t0 = performance.now();
      const deadline = t0 + timeoutMs;
      if (!node.driver.node.raft.trk.confState().learners.includes(id)) {
        await proposeAndApply(node, { transition: 'auto', changes: [{ type: 'addLearnerNode', nodeId: id }], context: encodeAddContext(member) }, `${what} as a learner`);
        node.server.log.notice(`raft: node ${id} (${member.clientAddress}@${member.clusterPort}) joined as a learner; waiting for it to catch up`);
      }
      // The snapshot it will be sent must include it (raft refuses one that does not).
      if (!confMembers(node.store.snapshot().metadata.confState).has(id)) void node.takeSnapshot();
      await catchUp(node, id, deadline, timeoutMs);
      const caughtMs = performance.now() - t0;
      await proposeAndApply(node, { transition: 'auto', changes: [{ type: 'addNode', nodeId: id }] }, `promoting node ${id} to voter`);
      node.server.log.notice(`raft: node ${id} is a voter (caught up in ${caughtMs.toFixed(0)} ms)`);
    });
  }
  return command('keel.addnode', -3, ['admin', 'noscript', 'no_multi'], [0, 0, 0], 'server', '0.1.0', 'Adds a node to this shard: a learner first, a voter once it caught up (on the leader).', handle);
}

/** Waits until learner `id` replicates close behind the leader; AdminError on leadership loss or timeout. */
async function catchUp(node: ShardNode, id: NodeId, deadline: number, timeoutMs: number): Promise<void> {
  for (;;) {
    const raft = node.driver.node.raft;
    if (node.isClosed || !node.driver.isLeader) {
      const lead = node.driver.leader;
      throw new AdminError(`TRYAGAIN Leadership moved (to ${lead === NONE ? 'no node yet' : `node ${lead}`}) while node ${id} caught up; it is a learner: run KEEL.ADDNODE again on the leader to promote it`);
    }
    const pr = raft.trk.progress.get(id);
    if (pr === undefined) throw new AdminError(`ERR node ${id} is no longer a member (removed meanwhile)`);
    const last = raft.raftLog.lastIndex();
    if (pr.state === 'replicate' && pr.match + ADD_CATCHUP_LAG_ENTRIES >= last) return;
    if (performance.now() > deadline) {
      throw new AdminError(
        `ERR node ${id} was added as a learner but did not catch up within ${timeoutMs} ms (its match index ${pr.match}, the leader's last index ${last}, state ${pr.state}` +
          `${node.transport.isReachable(id) ? '' : ', unreachable'}); it stays a learner: run KEEL.ADDNODE again to retry, or KEEL.REMOVENODE it`,
      );
    }
    await sleep(POLL_MS * 5);
  }
}

export function removeNodeSpec(node: ShardNode): CommandSpec {
  function handle(c: Call): void {
    const id = nodeIdOf(c.argv[1]!);
    if (id === null) throw new CommandError(`ERR '${c.argv[1]}' is not a node name ending in its raft id (n4, or 4)`);
    const client = leaderGate(node, c);
    const cs = node.driver.node.raft.trk.confState();
    if (!confMembers(cs).has(id)) {
      if (node.book.removedIndex(id) !== undefined) {
        c.out.ok(); // already removed
        return;
      }
      throw new CommandError(`ERR node ${id} is not a member of this shard (voters ${cs.voters.join(',')}${cs.learners.length > 0 ? `, learners ${cs.learners.join(',')}` : ''})`);
    }
    if (cs.votersOutgoing.length > 0) throw new CommandError('TRYAGAIN The shard is in a joint configuration; retry in a moment');
    if (cs.voters.length === 1 && cs.voters[0] === id) throw new CommandError(`ERR node ${id} is the shard's only voter; add another first`);
    runParked(node, client, `removing node ${id}`, async () => {
      await proposeAndApply(node, { transition: 'auto', changes: [{ type: 'removeNode', nodeId: id }] }, `removing node ${id}`);
      node.server.log.notice(`raft: node ${id} was removed from the shard`);
    });
  }
  return command('keel.removenode', 2, ['admin', 'noscript', 'no_multi'], [0, 0, 0], 'server', '0.1.0', 'Removes a node from this shard (on the leader); a removed leader hands off its leadership.', handle);
}
