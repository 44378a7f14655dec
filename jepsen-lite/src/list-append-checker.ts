// The list-append checker. Each operation is a transaction (MULTI ... EXEC) of micro-operations
// on a few list keys: ['append', key, value] (RPUSH; on ok, its reply, the list's length after
// it, is a fourth element) and ['r', key, elements] (LRANGE key 0 -1). Every appended value is
// unique, so a value names its append. After healing, one final transaction reads every key;
// its lists are each key's final order. The rules:
//
//   unexpected-element     a read holds a value never appended to that key
//   failed-append-present  a read holds a value whose transaction failed (not applied)
//   duplicate-element      a read holds a value twice (an append applied twice: an info append
//                          may take effect once or never, an ok one exactly once)
//   lost-append            an acknowledged append is missing from the final order
//   append-position        an acknowledged RPUSH replied length L, but its value is not at
//                          position L in the final order
//   incompatible-order     a read is not a prefix of the final order (so there is no one order
//                          of appends that every read agrees with)
//   stale-read             a read misses an append acknowledged before the read began, or is
//                          shorter than a read that completed before it began
//   internal               a transaction's read of a key it appended to earlier in the same
//                          transaction does not end with that append (or sees a later one)
//   partial-txn            the final order holds some but not all appends of one transaction
//   fractured-read         a transaction saw one append of another transaction and missed
//                          another append of it on a key it also read (transactions are atomic)

import { Anomaly, Verdict } from './checkers';
import { PairedOp } from './history';

export type MicroOp = ['append', string, string] | ['append', string, string, number] | ['r', string, string[] | null];

interface Append {
  op: PairedOp;
  key: string;
  value: string;
  /** The RPUSH reply (length after it), if the transaction was acknowledged. */
  length?: number;
}

interface Read {
  op: PairedOp;
  key: string;
  elements: string[];
  /** Position of the micro-op in its transaction. */
  at: number;
  final: boolean;
}

function brief(op: PairedOp): unknown {
  return { process: op.process, f: op.f, type: op.type, value: op.type === 'ok' ? op.result : op.value, invoke: op.invoke.time, complete: op.complete?.time, node: op.complete?.node, error: op.complete?.error };
}

/** The latest value of a sorted-by-time list's running maximum at or before time t (-1 if none). */
class MaxBefore {
  private readonly times: number[] = [];
  private readonly maxes: number[] = [];
  constructor(points: Array<[time: number, value: number]>) {
    points.sort((a, b) => a[0] - b[0]);
    let m = -1;
    for (const [t, v] of points) {
      m = Math.max(m, v);
      this.times.push(t);
      this.maxes.push(m);
    }
  }
  /** Max of the values whose time is < t. */
  before(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? -1 : this.maxes[lo - 1]!;
  }
}

function groupBy<T>(xs: T[], key: (x: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of xs) {
    const k = key(x);
    const l = m.get(k);
    if (l === undefined) m.set(k, [x]);
    else l.push(x);
  }
  return m;
}

export function checkListAppend(all: PairedOp[]): Verdict {
  const txns = all.filter((o) => o.f === 'txn');
  const finals = all.filter((o) => o.f === 'final-read' && o.type === 'ok');
  const anomalies: Anomaly[] = [];
  let anomalyCount = 0;
  const report = (a: Anomaly) => {
    anomalyCount++;
    if (anomalies.length < 50) anomalies.push(a);
  };

  const appends = new Map<string, Append>();
  const appendsOfTxn = new Map<PairedOp, Append[]>();
  const reads: Read[] = [];
  for (const o of txns) {
    const micro = (o.type === 'ok' ? o.result : o.value) as MicroOp[];
    const mine: Append[] = [];
    micro.forEach((m, at) => {
      if (m[0] === 'append') {
        const a: Append = { op: o, key: m[1], value: m[2], length: o.type === 'ok' ? (m as [string, string, string, number])[3] : undefined };
        if (appends.has(a.value)) throw new Error(`list-append: value ${a.value} appended twice by the workload`);
        appends.set(a.value, a);
        mine.push(a);
      } else if (o.type === 'ok') {
        reads.push({ op: o, key: m[1], elements: m[2] ?? [], at, final: false });
      }
    });
    appendsOfTxn.set(o, mine);
  }
  const final = finals.length > 0 ? finals[finals.length - 1]! : undefined;
  const finalOrder = new Map<string, string[]>();
  if (final !== undefined) {
    for (const m of final.result as MicroOp[]) {
      if (m[0] !== 'r') continue;
      finalOrder.set(m[1], m[2] ?? []);
      reads.push({ op: final, key: m[1], elements: m[2] ?? [], at: 0, final: true });
    }
  }

  // Each read alone: what it holds must have been appended, to this key, by a transaction that
  // did not fail, once.
  for (const r of reads) {
    const seen = new Set<string>();
    for (const e of r.elements) {
      const a = appends.get(e);
      if (seen.has(e)) report({ kind: 'duplicate-element', key: r.key, message: `${r.op.f} of ${r.key} holds ${e} twice`, ops: [a && brief(a.op), brief(r.op)] });
      seen.add(e);
      if (a === undefined || a.key !== r.key) report({ kind: 'unexpected-element', key: r.key, message: `${r.op.f} of ${r.key} holds ${e}, never appended to it`, ops: [brief(r.op)] });
      else if (a.op.type === 'fail') report({ kind: 'failed-append-present', key: r.key, message: `${r.op.f} of ${r.key} holds ${e}, whose transaction failed (${a.op.complete?.error ?? ''})`, ops: [brief(a.op), brief(r.op)] });
    }
  }

  // The final order: every acknowledged append in it, at the position its RPUSH replied; every
  // read a prefix of it.
  const position = new Map<string, number>(); // value -> index in its key's final order
  for (const order of finalOrder.values()) order.forEach((v, i) => position.has(v) || position.set(v, i));
  if (final !== undefined) {
    for (const a of appends.values()) {
      if (a.op.type !== 'ok' || !finalOrder.has(a.key)) continue;
      const p = position.get(a.value);
      if (p === undefined) report({ kind: 'lost-append', key: a.key, message: `${a.value}, acknowledged (RPUSH replied ${a.length}), is missing from the final order of ${a.key}`, ops: [brief(a.op)] });
      else if (a.length !== undefined && p !== a.length - 1) report({ kind: 'append-position', key: a.key, message: `RPUSH of ${a.value} replied ${a.length}, but it is at position ${p + 1} of the final order`, ops: [brief(a.op)] });
    }
    for (const r of reads) {
      if (r.final) continue;
      const order = finalOrder.get(r.key);
      if (order === undefined) continue;
      const i = r.elements.findIndex((e, j) => order[j] !== e);
      if (i >= 0) report({ kind: 'incompatible-order', key: r.key, message: `a read of ${r.key} (${r.elements.length} elements) differs from the final order at position ${i + 1}: ${r.elements[i]} where the final order has ${order[i] ?? '(nothing)'}`, ops: [brief(r.op)] });
    }
  }

  // Real time: a read sees every append acknowledged before it began, and no less than any read
  // that completed before it began. With reads as prefixes of the final order, "sees" is
  // "is longer than the append's position".
  const appendsByKey = groupBy([...appends.values()], (a) => a.key);
  const readsByKey = groupBy(reads, (r) => r.key);
  const keys = [...appendsByKey.keys()].sort();
  for (const key of keys) {
    const ackedPos = new MaxBefore(
      appendsByKey.get(key)!.filter((a) => a.op.type === 'ok' && position.has(a.value)).map((a) => [a.op.complete!.time, position.get(a.value)!]),
    );
    const keyReads = readsByKey.get(key) ?? [];
    const readLen = new MaxBefore(keyReads.map((r) => [r.op.complete!.time, r.elements.length]));
    for (const r of keyReads) {
      const p = ackedPos.before(r.op.invoke.time);
      if (p >= r.elements.length) report({ kind: 'stale-read', key, message: `a ${r.op.f} of ${key} saw ${r.elements.length} elements, but the append at position ${p + 1} was acknowledged before it began`, ops: [brief(r.op)] });
      const l = readLen.before(r.op.invoke.time);
      if (l > r.elements.length) report({ kind: 'stale-read', key, message: `a ${r.op.f} of ${key} saw ${r.elements.length} elements, but a read that completed before it began saw ${l}`, ops: [brief(r.op)] });
    }
  }

  // Inside a transaction: a read after the transaction's own append to the key ends with it, and
  // no read sees an append that comes later in its own transaction.
  for (const o of txns) {
    if (o.type !== 'ok') continue;
    const micro = o.result as MicroOp[];
    const lastAppend = new Map<string, string>();
    micro.forEach((m, i) => {
      if (m[0] === 'append') {
        lastAppend.set(m[1], m[2]);
        return;
      }
      const els = m[2] ?? [];
      const want = lastAppend.get(m[1]);
      const later = micro.slice(i + 1).find((x) => x[0] === 'append' && els.includes(x[2]));
      if ((want !== undefined && els[els.length - 1] !== want) || later !== undefined) {
        const why = later !== undefined ? `saw ${later[2] as string}, appended later in the same transaction` : `ends with ${els[els.length - 1] ?? '(nothing)'}, not with ${want!} appended just before`;
        report({ kind: 'internal', key: m[1], message: `a transaction's read of ${m[1]} ${why}`, ops: [brief(o)] });
      }
    });
  }

  // Atomicity: all of a transaction's appends are in the final order, or none.
  if (final !== undefined) {
    for (const [o, mine] of appendsOfTxn) {
      if (mine.length < 2) continue;
      const present = mine.filter((a) => position.has(a.value));
      if (present.length > 0 && present.length < mine.length) {
        report({ kind: 'partial-txn', message: `the final order holds ${present.map((a) => a.value).join(', ')} but not ${mine.filter((a) => !position.has(a.value)).map((a) => a.value).join(', ')}, appended by one transaction`, ops: [brief(o)] });
      }
    }
    // A transaction that saw one append of another saw all of that one's appends to the keys it read.
    for (const o of txns) {
      if (o.type !== 'ok') continue;
      const myReads = new Map<string, Set<string>>();
      for (const m of o.result as MicroOp[]) if (m[0] === 'r' && !myReads.has(m[1])) myReads.set(m[1], new Set(m[2] ?? []));
      if (myReads.size < 2) continue;
      const writers = new Set<PairedOp>();
      for (const els of myReads.values()) for (const e of els) {
        const a = appends.get(e);
        if (a !== undefined && a.op !== o) writers.add(a.op);
      }
      for (const w of writers) {
        for (const a of appendsOfTxn.get(w) ?? []) {
          const seen = myReads.get(a.key);
          if (seen !== undefined && !seen.has(a.value)) {
            report({ kind: 'fractured-read', key: a.key, message: `a transaction saw some appends of another transaction but not its append of ${a.value} to ${a.key}`, ops: [brief(w), brief(o)] });
          }
        }
      }
    }
  }

  const count = (t: string) => txns.filter((o) => o.type === t).length;
  const appendOps = [...appends.values()];
  return {
    checker: 'list-append',
    valid: anomalyCount > 0 ? false : final === undefined ? 'unknown' : true,
    anomalies,
    stats: {
      txns: txns.length,
      ok: count('ok'),
      fail: count('fail'),
      info: count('info'),
      appends: appendOps.length,
      appendsOk: appendOps.filter((a) => a.op.type === 'ok').length,
      reads: reads.length,
      keys: keys.length,
      finalElements: [...finalOrder.values()].reduce((n, l) => n + l.length, 0),
      anomalies: anomalyCount,
    },
    note: final === undefined ? 'no final read succeeded' : undefined,
  };
}
