// Jepsen's history model: every operation is an `invoke` and then one completion, `ok`,
// `fail` (certainly not applied) or `info` (outcome unknown), with its process, function,
// key, value and a monotonic time in nanoseconds since the workload began. A process that got an
// `info` is retired (its next operation comes from a new process number), as in Jepsen, since
// its last operation may still be in flight.

import * as fs from 'node:fs';

export type OpType = 'invoke' | 'ok' | 'fail' | 'info';

export interface HistoryEvent {
  type: OpType;
  /** A client process number, or 'nemesis'. */
  process: number | 'nemesis';
  f: string;
  key?: string;
  value?: unknown;
  /** Nanoseconds since the workload began (process.hrtime.bigint based). */
  time: number;
  /** For fail and info: why (the error reply, or timeout / connection lost). */
  error?: string;
  /** The node index the operation was sent to (last one, after redirects). */
  node?: number;
}

export class History {
  readonly events: HistoryEvent[] = [];
  private t0 = process.hrtime.bigint();
  private readonly out: fs.WriteStream | null;

  constructor(file?: string) {
    this.out = file !== undefined ? fs.createWriteStream(file) : null;
  }

  /** Time 0 is now (the workload's start); only before the first event. */
  startClock(): void {
    if (this.events.length > 0) throw new Error('the history clock starts before the first event');
    this.t0 = process.hrtime.bigint();
  }

  now(): number {
    return Number(process.hrtime.bigint() - this.t0);
  }

  add(e: Omit<HistoryEvent, 'time'> & { time?: number }): HistoryEvent {
    const ev: HistoryEvent = { ...e, time: e.time ?? this.now() } as HistoryEvent;
    this.events.push(ev);
    this.out?.write(JSON.stringify(ev) + '\n');
    return ev;
  }

  async close(): Promise<void> {
    const out = this.out;
    if (out !== null) await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}

export function readHistory(file: string): HistoryEvent[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as HistoryEvent);
}

/** An invocation paired with its completion (undefined if the history ended first: as info). */
export interface PairedOp {
  process: number;
  f: string;
  key?: string;
  invoke: HistoryEvent;
  complete: HistoryEvent | undefined;
  /** ok / fail / info; an invocation with no completion counts as info. */
  type: 'ok' | 'fail' | 'info';
  /** The invocation's value (what was asked), and the completion's (what came back). */
  value: unknown;
  result: unknown;
}

export function pairOps(events: HistoryEvent[]): PairedOp[] {
  const open = new Map<number, PairedOp>();
  const ops: PairedOp[] = [];
  for (const e of events) {
    if (e.process === 'nemesis') continue;
    if (e.type === 'invoke') {
      if (open.has(e.process)) throw new Error(`process ${e.process} invoked twice without completing`);
      const op: PairedOp = { process: e.process, f: e.f, key: e.key, invoke: e, complete: undefined, type: 'info', value: e.value, result: undefined };
      open.set(e.process, op);
      ops.push(op);
    } else {
      const op = open.get(e.process);
      if (op === undefined) throw new Error(`process ${e.process} completed ${e.f} without an invocation`);
      open.delete(e.process);
      op.complete = e;
      op.type = e.type;
      op.result = e.value;
    }
  }
  return ops;
}
