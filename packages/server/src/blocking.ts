// Clients blocked on keys (BLPOP, BZPOPMIN, ...). A blocking command that finds nothing is
// applied as a no-op and returns a BlockRequest; the client is parked here, first come first
// served per key. When a write makes a key ready, the first waiters' commands are submitted
// again as new writes: each attempt is an ordinary op, so replicas stay deterministic and only
// the attempt that takes something changes state.

import type { BlockRequest, WriteOp } from '@keel/engine';
import type { Client } from './client';

const TIMER_STEP_MS = 2 ** 30;

interface Blocked {
  op: WriteOp;
  req: BlockRequest;
  timer: NodeJS.Timeout | null;
}

export class BlockedClients {
  private readonly waiters = new Map<string, Client[]>();
  private readonly blocked = new Map<Client, Blocked>();

  constructor(private readonly resubmit: (client: Client, op: WriteOp) => void) {}

  get size(): number {
    return this.blocked.size;
  }

  isBlocked(client: Client): boolean {
    return this.blocked.has(client);
  }

  /** Parks a client. A client blocked again after a wake-up keeps its first deadline. */
  block(client: Client, op: WriteOp, req: BlockRequest, firstDeadlineMs?: number): void {
    const deadline = firstDeadlineMs ?? req.deadlineMs;
    const entry: Blocked = { op, req: { ...req, deadlineMs: deadline }, timer: null };
    if (deadline !== 0) this.arm(client, entry, deadline);
    this.blocked.set(client, entry);
    for (const key of req.keys) {
      const k = `${req.db}\x00${key}`;
      let list = this.waiters.get(k);
      if (list === undefined) this.waiters.set(k, (list = []));
      list.push(client);
    }
    client.waiting = true;
  }

  /** Node's timers fire at once past 2^31 ms (24.8 days): long timeouts are re-armed in steps. */
  private arm(client: Client, entry: Blocked, deadline: number): void {
    const left = deadline - Date.now();
    entry.timer = setTimeout(() => {
      if (this.blocked.get(client) !== entry) return;
      if (Date.now() >= deadline) this.unblock(client, 'timeout');
      else this.arm(client, entry, deadline);
    }, Math.min(Math.max(0, left), TIMER_STEP_MS));
  }

  /** Wakes the clients waiting on keys a write made ready, in the order they blocked. */
  serveReady(ready: Array<{ db: number; key: string }>): void {
    const seen = new Set<string>();
    for (const { db, key } of ready) {
      const k = `${db}\x00${key}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const list = this.waiters.get(k);
      if (list === undefined) continue;
      // Each waiter present now gets one attempt; one that blocks again goes to the back.
      for (const client of [...list]) {
        const entry = this.blocked.get(client);
        if (entry === undefined) continue;
        this.remove(client, entry);
        this.retry(client, entry);
      }
    }
  }

  /** Ends a block without serving it: a timeout reply, or the error of CLIENT UNBLOCK ... ERROR. */
  unblock(client: Client, how: 'timeout' | 'error'): boolean {
    const entry = this.blocked.get(client);
    if (entry === undefined) return false;
    this.remove(client, entry);
    if (how === 'error') client.out.error('UNBLOCKED client unblocked via CLIENT UNBLOCK');
    else if (entry.req.timeoutReply === 'nullBulk') client.out.nullBulk();
    else client.out.nullArray();
    client.resume();
    return true;
  }

  /** Forgets a client that disconnected. */
  drop(client: Client): void {
    const entry = this.blocked.get(client);
    if (entry !== undefined) this.remove(client, entry);
  }

  private retry(client: Client, entry: Blocked): void {
    this.pendingDeadline.set(client, entry.req.deadlineMs);
    try {
      this.resubmit(client, entry.op);
    } finally {
      this.pendingDeadline.delete(client);
    }
  }

  /** Deadlines of clients being retried right now, so a re-block keeps the first one. */
  private readonly pendingDeadline = new Map<Client, number>();

  deadlineOnRetry(client: Client): number | undefined {
    return this.pendingDeadline.get(client);
  }

  private remove(client: Client, entry: Blocked): void {
    if (entry.timer !== null) clearTimeout(entry.timer);
    this.blocked.delete(client);
    for (const key of entry.req.keys) {
      const k = `${entry.req.db}\x00${key}`;
      const list = this.waiters.get(k);
      if (list === undefined) continue;
      const i = list.indexOf(client);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(k);
    }
  }
}
