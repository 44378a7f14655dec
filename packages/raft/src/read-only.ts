// Pending ReadIndex requests on the leader (the 'safe' option): a request's read index is
// the commit index when it arrived; it is released once a quorum acknowledged a heartbeat
// carrying its context, which proves no newer leader existed at that time (thesis §6.4).
// An ack for a request also acknowledges every request queued before it: that is the
// batching (one heartbeat round serves every read queued meanwhile).

import { assert } from './errors';
import { Message } from './types';

/**
 * - 'safe': every read index is confirmed by a heartbeat round to a quorum.
 * - 'leaseBased': while its lease holds (Raft.leaseValid: a quorum acknowledged a heartbeat
 *   sent less than leaseTicks ago, and no MsgTimeoutNow was sent this term), the leader
 *   answers from its commit index without a round trip; otherwise as 'safe'. Safe only if
 *   tick rates differ by at most Config.maxClockDrift and ticks track real time across
 *   pauses (README).
 */
export type ReadOnlyOption = 'safe' | 'leaseBased';

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Map<number, boolean>;
}

export function contextKey(ctx: Uint8Array): string {
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('hex');
}

export class ReadOnly {
  readonly pending = new Map<string, ReadIndexStatus>();
  readonly queue: string[] = [];

  constructor(readonly option: ReadOnlyOption) {}

  /** Adds a request whose read index is the leader's commit index `index`. */
  addRequest(index: number, m: Message): void {
    const key = contextKey(m.context);
    if (this.pending.has(key)) return;
    this.pending.set(key, { req: m, index, acks: new Map() });
    this.queue.push(key);
  }

  /** Records a heartbeat ack for ctx; returns the acks so far (undefined if unknown). */
  recvAck(id: number, ctx: Uint8Array): Map<number, boolean> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.set(id, true);
    return rs.acks;
  }

  /** Dequeues the request for ctx and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1);
    const out: ReadIndexStatus[] = [];
    for (const k of released) {
      const rs = this.pending.get(k);
      assert(rs !== undefined, 'read index queue out of sync with pending map');
      this.pending.delete(k);
      out.push(rs);
    }
    return out;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])!.req.context;
  }
}
