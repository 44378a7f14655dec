// The replies of the replicated paths when a command was not executed, or may not have been.
// The first word is the code clients branch on (docs/guarantees.md lists them):
//
//   not executed, never will be (safe to retry):
//     TRYAGAIN  no leader known, the proposal was refused, or leadership changed before commit
//     READONLY  a write sent to a follower (Redis's replica error; the leader is named)
//     NOQUORUM  this node sees no quorum of the shard's voters; the write was not proposed
//     TRYAGAIN  (a follower) the leader could not be reached to forward the session to it
//   outcome unknown (NOT safe to retry blindly):
//     UNKNOWN   the write was proposed, then not known to be committed within the commit timeout

import type { NodeId } from '@keel/raft';

export const ERR_NO_LEADER = 'TRYAGAIN No leader for this shard right now (an election is in progress); the command was not executed';

export function errNotLeader(leader: NodeId, address: string | undefined): string {
  const where = address !== undefined ? ` (${address})` : '';
  return `READONLY You can't write against a read only replica. The leader is node ${leader}${where}; the write was not executed`;
}

export const ERR_NO_QUORUM = "NOQUORUM No quorum of this shard's voters is reachable; the write was not executed";

export function errDropped(reason: string): string {
  return `TRYAGAIN The leader refused the write (${reason}); it was not executed`;
}

export const ERR_OVERWRITTEN = 'TRYAGAIN Leadership changed before the write was committed; it was not executed';

export function errUnknown(index: number, term: number, why: string): string {
  return `UNKNOWN The write was proposed (index ${index}, term ${term}) but ${why}; it may or may not have been executed`;
}

export function errReadTimeout(ms: number): string {
  return `TRYAGAIN The read could not be confirmed by a quorum within ${ms} ms; it was not executed`;
}

export const ERR_READ_LEADER_CHANGED = 'TRYAGAIN Leadership changed before the read was confirmed; it was not executed';

// Sessions forwarded from a follower to the leader (leader-proxy.ts):

export function errLeaderUnreachable(leader: NodeId, address: string, reason: string): string {
  return `TRYAGAIN The leader, node ${leader} (${address}), could not be reached from this node (${reason}); the command was not executed`;
}

export function errTooManyForwarded(max: number, leader: NodeId, address: string): string {
  return `ERR max number of sessions forwarded to the leader reached (${max}); connect to the leader, node ${leader} (${address}); the command was not executed`;
}

export const ERR_FORWARD_LEADER_CHANGED = 'TRYAGAIN Leadership changed while this session was being forwarded to the leader; the command was not executed';
