// Errors of the Raft core. Each carries a stable `code` as its first word, as Keel's
// client-facing errors do, so that callers can branch on it.

export type RaftErrorCode =
  | 'ProposalDropped'
  | 'Compacted'
  | 'Unavailable'
  | 'SnapOutOfDate'
  | 'SnapshotTemporarilyUnavailable'
  | 'StepLocalMsg'
  | 'StepPeerNotFound'
  | 'ConfChangeInvalid'
  | 'InvalidConfig';

export class RaftError extends Error {
  constructor(
    readonly code: RaftErrorCode,
    message: string,
  ) {
    super(`${code} ${message}`);
    this.name = 'RaftError';
  }
}

/** Thrown by propose/readIndex/transferLeader when the request cannot be handled now: no
 * known leader, a leadership transfer in progress, the uncommitted bound reached, or this
 * node was removed. The request was not and will not be applied; the caller may retry. */
export class ProposalDroppedError extends RaftError {
  constructor(reason: string) {
    super('ProposalDropped', reason);
    this.name = 'ProposalDroppedError';
  }
}

/** An invariant of the algorithm does not hold. Never caught inside the library: the node
 * must stop, because continuing could lose acknowledged writes. */
export class RaftInvariantError extends Error {
  constructor(message: string) {
    super(`raft invariant violated: ${message}`);
    this.name = 'RaftInvariantError';
  }
}

/** Assertions stay on in production (see docs/internals/raft.md). */
export function assert(cond: unknown, message: string | (() => string)): asserts cond {
  if (!cond) throw new RaftInvariantError(typeof message === 'string' ? message : message());
}

export function isRaftError(e: unknown, code: RaftErrorCode): e is RaftError {
  return e instanceof RaftError && e.code === code;
}
