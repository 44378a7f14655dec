// Plain, serializable data types of the Raft core: entries, snapshots, hard state and
// messages. Everything here is numbers, strings, booleans, arrays and Uint8Array, so a
// transport or a WAL can encode it however it likes.

/** Node ids are positive integers; 0 means "no node". */
export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

/** One log entry. Treat as immutable once created. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Application payload; for 'confChange' the encoding of a ConfChangeV2 (see confchange/). */
  data: Uint8Array;
}

/** The membership of a group, as recorded in snapshots and returned by applyConfChange. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Voters of the outgoing config while in a joint configuration; empty otherwise. */
  votersOutgoing: NodeId[];
  /** Nodes that become learners when the joint configuration is left. */
  learnersNext: NodeId[];
  /** Whether the leader leaves the joint configuration on its own. */
  autoLeave: boolean;
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
  /**
   * Opaque to raft: what the application records with the membership as of this snapshot
   * (Keel: every member's addresses, which conf change entries carry in their context). It
   * travels with the snapshot to followers and into snapshot files.
   */
  context?: string;
}

export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** The state that must be persisted before messages are sent (see README). */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export type MessageType =
  // local messages: never sent on the wire
  | 'MsgHup'
  | 'MsgBeat'
  | 'MsgUnreachable'
  | 'MsgSnapStatus'
  | 'MsgCheckQuorum'
  // proposals and reads can be forwarded from a follower to the leader
  | 'MsgProp'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp'
  | 'MsgTransferLeader'
  // replication
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  // election
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgTimeoutNow';

export interface Message {
  type: MessageType;
  to: NodeId;
  from: NodeId;
  term: number;
  /** For MsgApp: the term of the entry at `index`. For MsgVote: the candidate's last log term. */
  logTerm: number;
  /** For MsgApp: index preceding `entries`. For MsgAppResp: last index matched (or rejected). */
  index: number;
  entries: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject: boolean;
  rejectHint: number;
  /** ReadIndex request context; 'transfer' marker for forced votes. */
  context: Uint8Array;
}

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Builds a message with every field not given set to its zero value. */
export function makeMessage(m: Partial<Message> & { type: MessageType }): Message {
  return {
    type: m.type,
    to: m.to ?? NONE,
    from: m.from ?? NONE,
    term: m.term ?? 0,
    logTerm: m.logTerm ?? 0,
    index: m.index ?? 0,
    entries: m.entries ?? [],
    commit: m.commit ?? 0,
    snapshot: m.snapshot,
    reject: m.reject ?? false,
    rejectHint: m.rejectHint ?? 0,
    context: m.context ?? EMPTY_BYTES,
  };
}

export function isLocalMessage(t: MessageType): boolean {
  return t === 'MsgHup' || t === 'MsgBeat' || t === 'MsgUnreachable' || t === 'MsgSnapStatus' || t === 'MsgCheckQuorum';
}

export function isResponseMessage(t: MessageType): boolean {
  return (
    t === 'MsgAppResp' ||
    t === 'MsgVoteResp' ||
    t === 'MsgHeartbeatResp' ||
    t === 'MsgUnreachable' ||
    t === 'MsgPreVoteResp'
  );
}

export function voteResponseType(t: MessageType): MessageType {
  if (t === 'MsgVote') return 'MsgVoteResp';
  if (t === 'MsgPreVote') return 'MsgPreVoteResp';
  throw new Error(`not a vote message: ${t}`);
}

export type StateType = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  lead: NodeId;
  raftState: StateType;
}

/** A read index obtained for a request context: the state is readable once applied >= index. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: EMPTY_BYTES };
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export function isEmptyHardState(h: HardState): boolean {
  return h.term === 0 && h.vote === 0 && h.commit === 0;
}

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** Size used for flow control (bytes per message, per inflight window). */
export function entrySizeBytes(e: Entry): number {
  return e.data.byteLength + 16;
}

/** Size used for the uncommitted-entries bound: only the payload counts. */
export function payloadsSizeBytes(ents: readonly Entry[]): number {
  let s = 0;
  for (const e of ents) s += e.data.byteLength;
  return s;
}

/** Returns the longest prefix of `ents` whose size is at most maxSizeBytes, and at least one entry. */
export function limitSize(ents: Entry[], maxSizeBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySizeBytes(ents[0]);
  let limit = 1;
  for (; limit < ents.length; limit++) {
    size += entrySizeBytes(ents[limit]);
    if (size > maxSizeBytes) break;
  }
  return limit === ents.length ? ents : ents.slice(0, limit);
}
