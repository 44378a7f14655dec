// The shard's member book: every member's addresses, as replicated state.
//
// Raft's configuration says who votes and who learns (ConfState); it says nothing of where a
// node listens. Keel keeps the addresses beside it, from the replicated log only:
//
//   - a conf change that adds a node carries the node's addresses in its context
//     (ConfChangeV2.context, encoded by encodeAddContext), so every node, including one that
//     replays its log after a restart, learns them when it applies the entry;
//   - the book as of a snapshot's index is written into the snapshot's metadata (context), so a
//     node restored from a snapshot (its own after a restart, or one streamed from the leader)
//     has them without the entries the snapshot replaced;
//   - a new shard's bootstrap snapshot holds the book built from --peers: the flags seed a new
//     store, and are ignored once the store has a book.
//
// Removed nodes are remembered (id and the index of their removal, the newest REMOVED_MAX), so
// that a node that missed its own removal is told when it dials a member, and an id is never
// reused.

import { ConfChangeV2, ConfState, NodeId } from '@keel/raft';

export interface ShardMember {
  id: NodeId;
  /** Node-to-node address. */
  host: string;
  clusterPort: number;
  /** Client address, host:port (for the READONLY reply naming the leader, INFO, CLUSTER). */
  clientAddress?: string;
}

export class MembershipError extends Error {}

/** The client port + this is the node-to-node port, as Redis Cluster's bus. */
export const CLUSTER_PORT_OFFSET = 10000;
/** Removed ids remembered; older ones are forgotten (they can only matter to a node down that long). */
export const REMOVED_MAX = 1024;
const BOOK_VERSION = 1;
const HOST_CHARS_MAX = 255;

function isNodeId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && v <= 0xffffffff;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

function validHost(h: unknown): h is string {
  return typeof h === 'string' && h.length >= 1 && h.length <= HOST_CHARS_MAX && /^[A-Za-z0-9._:\-[\]]+$/.test(h);
}

/** Checks a member record (decoded from the log, a snapshot, or a command); throws MembershipError. */
export function checkMember(m: unknown): ShardMember {
  const r = m as Partial<ShardMember> | null;
  if (r === null || typeof r !== 'object') throw new MembershipError('a member record is not an object');
  if (!isNodeId(r.id)) throw new MembershipError(`bad member id ${String(r.id)}`);
  if (!validHost(r.host)) throw new MembershipError(`member ${r.id}: bad host ${JSON.stringify(r.host)}`);
  if (!isPort(r.clusterPort)) throw new MembershipError(`member ${r.id}: bad cluster port ${String(r.clusterPort)}`);
  const out: ShardMember = { id: r.id, host: r.host, clusterPort: r.clusterPort };
  if (r.clientAddress !== undefined) {
    if (typeof r.clientAddress !== 'string' || parseHostPort(r.clientAddress, 0) === null) throw new MembershipError(`member ${r.id}: bad client address ${JSON.stringify(r.clientAddress)}`);
    out.clientAddress = r.clientAddress;
  }
  return out;
}

/** host:port → [host, port], or null (a port below `portMin` is refused). */
export function parseHostPort(s: string, portMin = 1): [string, number] | null {
  const i = s.lastIndexOf(':');
  if (i <= 0) return null;
  const host = s.slice(0, i);
  const port = Number(s.slice(i + 1));
  if (!/^\d{1,5}$/.test(s.slice(i + 1)) || port < portMin || port > 65535 || !validHost(host)) return null;
  return [host, port];
}

/**
 * A new member's addresses as an operator gives them: `host:port[@clusterport]` (client
 * address; the cluster port defaults to port + 10000). Throws MembershipError.
 */
export function parseMemberAddress(id: NodeId, s: string): ShardMember {
  const m = /^(.+):(\d{1,5})(?:@(\d{1,5}))?$/.exec(s);
  if (m === null) throw new MembershipError(`'${s}' is not host:port[@clusterport]`);
  const hp = parseHostPort(`${m[1]}:${m[2]}`);
  if (hp === null) throw new MembershipError(`'${s}' is not host:port[@clusterport] (port 1..65535)`);
  const clusterPort = m[3] !== undefined ? Number(m[3]) : hp[1] + CLUSTER_PORT_OFFSET;
  if (clusterPort < 1 || clusterPort > 65535) throw new MembershipError(`cluster port ${clusterPort} of '${s}' is not a port; give it as host:port@clusterport`);
  return { id, host: hp[0], clusterPort, clientAddress: `${hp[0]}:${hp[1]}` };
}

export class MemberBook {
  private readonly byId = new Map<NodeId, ShardMember>();
  /** Removed node → the log index of its removal. Insertion order: oldest first. */
  private readonly removedAt = new Map<NodeId, number>();

  static of(members: readonly ShardMember[]): MemberBook {
    const b = new MemberBook();
    for (const m of members) b.set(checkMember(m)); // only the fields of a ShardMember
    return b;
  }

  /** Decodes a book written by encode() (a snapshot's context); throws MembershipError. */
  static decode(ctx: string): MemberBook {
    let raw: { v?: unknown; members?: unknown; removed?: unknown };
    try {
      raw = JSON.parse(ctx) as typeof raw;
    } catch {
      throw new MembershipError('the member book is not JSON');
    }
    if (raw === null || typeof raw !== 'object' || raw.v !== BOOK_VERSION) throw new MembershipError(`unsupported member book version ${String(raw?.v)}`);
    if (!Array.isArray(raw.members) || !Array.isArray(raw.removed)) throw new MembershipError('a member book needs members and removed');
    const b = new MemberBook();
    for (const m of raw.members) b.set(checkMember(m));
    for (const r of raw.removed) {
      if (!Array.isArray(r) || !isNodeId(r[0]) || typeof r[1] !== 'number' || !Number.isSafeInteger(r[1])) throw new MembershipError('a removed record is not [id, index]');
      b.removedAt.set(r[0], r[1]);
    }
    return b;
  }

  encode(): string {
    return JSON.stringify({ v: BOOK_VERSION, members: this.list(), removed: [...this.removedAt] });
  }

  clone(): MemberBook {
    return MemberBook.decode(this.encode());
  }

  get(id: NodeId): ShardMember | undefined {
    return this.byId.get(id);
  }

  has(id: NodeId): boolean {
    return this.byId.has(id);
  }

  /** Members by id. */
  list(): ShardMember[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** The index at which `id` was removed, if it was (and is still remembered). */
  removedIndex(id: NodeId): number | undefined {
    return this.removedAt.get(id);
  }

  removedIds(): NodeId[] {
    return [...this.removedAt.keys()];
  }

  set(m: ShardMember): void {
    this.byId.set(m.id, m);
  }

  remove(id: NodeId, index: number): void {
    this.byId.delete(id);
    this.removedAt.delete(id);
    this.removedAt.set(id, index);
    while (this.removedAt.size > REMOVED_MAX) this.removedAt.delete(this.removedAt.keys().next().value as NodeId);
  }

  /**
   * Applies a committed conf change at `index`: an added node's addresses come from the
   * change's context (a node added without one keeps what the book has: a promotion); a
   * removed node is forgotten and remembered as removed. `cs` is the configuration after it;
   * the book then holds exactly its members (an address missing from it is a bug upstream).
   */
  applyConfChange(cc: ConfChangeV2, index: number, cs: ConfState): void {
    const added = cc.context === undefined ? null : decodeAddContext(cc.context);
    for (const c of cc.changes) {
      if (c.type === 'removeNode') {
        this.remove(c.nodeId, index);
      } else if (added !== null && added.id === c.nodeId) {
        this.removedAt.delete(c.nodeId);
        this.set(added);
      }
    }
    // Members no longer in the configuration (a joint change's outgoing side left) go too.
    const inConf = new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
    for (const id of [...this.byId.keys()]) if (!inConf.has(id)) this.remove(id, index);
  }
}

/** The context of a conf change adding `m` (as a learner or a voter). */
export function encodeAddContext(m: ShardMember): string {
  return JSON.stringify({ v: BOOK_VERSION, member: checkMember(m) });
}

/** The member a conf change's context adds, or null (a context of another kind). */
export function decodeAddContext(ctx: string): ShardMember | null {
  let raw: { v?: unknown; member?: unknown };
  try {
    raw = JSON.parse(ctx) as typeof raw;
  } catch {
    return null;
  }
  if (raw === null || typeof raw !== 'object' || raw.v !== BOOK_VERSION || raw.member === undefined) return null;
  try {
    return checkMember(raw.member);
  } catch {
    return null;
  }
}

/** Every id of a configuration (voters, learners, and both sides of a joint one). */
export function confMembers(cs: ConfState): Set<NodeId> {
  return new Set([...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext]);
}
