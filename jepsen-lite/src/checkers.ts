// History checkers. Each takes the paired operations of one workload and returns a verdict:
// valid true (no anomaly), false (anomalies listed, each with the operations that show it),
// or 'unknown' (the check could not be completed: a search too large, no final read).

import { performance } from 'node:perf_hooks';
import { checkOperations, Model, Operation } from '@keel/raft';
import { PairedOp } from './history';

export interface Anomaly {
  kind: string;
  key?: string;
  message: string;
  ops?: unknown[];
}

export interface Verdict {
  checker: string;
  valid: boolean | 'unknown';
  anomalies: Anomaly[];
  stats: Record<string, number>;
  note?: string;
}

function brief(op: PairedOp): unknown {
  return {
    process: op.process,
    f: op.f,
    key: op.key,
    type: op.type,
    value: op.value,
    result: op.result,
    invoke: op.invoke.time,
    complete: op.complete?.time,
    node: op.complete?.node,
    error: op.complete?.error,
  };
}

function count(ops: PairedOp[], type: string): number {
  return ops.filter((o) => o.type === type).length;
}

// ---- register: read / write / compare-and-set per key, linearizability by WGL ----

export type RegInput = { f: 'read'; key: string } | { f: 'write'; key: string; value: string } | { f: 'cas'; key: string; expected: string | null; value: string };
/** read: the value read; write and cas: 'ok'. Undefined: outcome unknown. */
export type RegOutput = string | null;

export const casRegisterModel: Model<string | null, RegInput, RegOutput> = {
  init: () => null,
  step(state, input, output) {
    switch (input.f) {
      case 'read':
        return { ok: output === undefined || output === state, state };
      case 'write':
        return { ok: true, state: input.value };
      case 'cas':
        if (state === input.expected) return { ok: true, state: input.value };
        // A cas of unknown outcome whose precondition does not hold here has no effect here.
        return { ok: output === undefined, state };
    }
  },
  key: (s) => (s === null ? '\u0000' : s),
  partition(history) {
    const byKey = new Map<string, Operation<RegInput, RegOutput>[]>();
    for (const op of history) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
};

/** Bounds on the linearizability search; past either, a key's verdict is unknown. */
export interface SearchLimits {
  /** Search steps per key (default 2,000,000). */
  maxSteps?: number;
  /** Wall time for the whole check, ms (default 60,000). */
  timeLimitMs?: number;
}

export function checkRegister(all: PairedOp[], limits: SearchLimits = {}): Verdict {
  const maxSteps = limits.maxSteps ?? 2_000_000;
  const timeLimitMs = limits.timeLimitMs ?? 60_000;
  const deadline = performance.now() + timeLimitMs;
  const expired = () => performance.now() > deadline;
  const ops = all.filter((o) => o.f === 'read' || o.f === 'write' || o.f === 'cas');
  const anomalies: Anomaly[] = [];
  // A fail must not take effect: a read of a value that only a failed write wrote is an anomaly.
  // (Every write writes a value of its own, so a value names its write.)
  const failedValues = new Map<string, PairedOp>();
  for (const o of ops) {
    if (o.type !== 'fail') continue;
    if (o.f === 'write') failedValues.set(`${o.key}\u0000${o.value as string}`, o);
    if (o.f === 'cas') failedValues.set(`${o.key}\u0000${(o.value as [string | null, string])[1]}`, o);
  }
  for (const o of ops) {
    if (o.f !== 'read' || o.type !== 'ok' || o.result === null) continue;
    const w = failedValues.get(`${o.key}\u0000${o.result as string}`);
    if (w !== undefined) anomalies.push({ kind: 'failed-write-observed', key: o.key, message: `a read saw ${String(o.result)}, written by a write that failed`, ops: [brief(w), brief(o)] });
  }
  const keys = [...new Set(ops.map((o) => o.key!))].sort();
  let unknownKeys = 0;
  for (const key of keys) {
    const history: Operation<RegInput, RegOutput>[] = [];
    for (const o of ops) {
      if (o.key !== key || o.type === 'fail') continue;
      if (o.f === 'read' && o.type === 'info') continue; // a read of unknown outcome constrains nothing
      const input: RegInput =
        o.f === 'read' ? { f: 'read', key } : o.f === 'write' ? { f: 'write', key, value: o.value as string } : { f: 'cas', key, expected: (o.value as [string | null, string])[0], value: (o.value as [string | null, string])[1] };
      const known = o.type === 'ok';
      history.push({
        clientId: o.process,
        input,
        output: known ? (o.f === 'read' ? (o.result as string | null) : 'ok') : undefined,
        call: o.invoke.time,
        return: known ? o.complete!.time : Infinity,
      });
    }
    const r = checkOperations(casRegisterModel, history, { maxSteps, expired });
    if (r === 'illegal') {
      const keyOps = ops.filter((o) => o.key === key && o.type !== 'fail');
      anomalies.push({ kind: 'nonlinearizable', key, message: `the history of ${key} (${history.length} operations) is not linearizable`, ops: keyOps.slice(-40).map(brief) });
    } else if (r === 'unknown') unknownKeys++;
  }
  return {
    checker: 'register',
    valid: anomalies.length > 0 ? false : unknownKeys > 0 ? 'unknown' : true,
    anomalies,
    stats: { ops: ops.length, ok: count(ops, 'ok'), fail: count(ops, 'fail'), info: count(ops, 'info'), keys: keys.length, unknownKeys },
    note: unknownKeys > 0 ? `the linearizability search was not decided on ${unknownKeys} key(s): ${expired() ? `the time limit (${timeLimitMs} ms) passed` : `over ${maxSteps} steps on a key`}` : undefined,
  };
}

// ---- set: SADD of unique elements, reads (SMEMBERS), one final read after healing ----

/** The set checker over any number of sets (by key), each checked alone. */
export function checkSet(all: PairedOp[]): Verdict {
  const byKey = new Map<string, PairedOp[]>();
  for (const o of all) {
    const k = o.key ?? '';
    const l = byKey.get(k);
    if (l === undefined) byKey.set(k, [o]);
    else l.push(o);
  }
  const parts = [...byKey.keys()].sort().map((k) => checkOneSet(byKey.get(k)!));
  const anomalies = parts.flatMap((p) => p.anomalies);
  const sum = (name: string) => parts.reduce((n, p) => n + p.stats[name]!, 0);
  const unknown = parts.filter((p) => p.valid === 'unknown').length;
  return {
    checker: 'set',
    valid: anomalies.length > 0 ? false : unknown > 0 || parts.length === 0 ? 'unknown' : true,
    anomalies: anomalies.slice(0, 50),
    stats: { adds: sum('adds'), ok: sum('ok'), fail: sum('fail'), info: sum('info'), reads: sum('reads'), sets: parts.length, finalSize: sum('finalSize'), anomalies: sum('anomalies') },
    note: unknown > 0 ? `no final read succeeded for ${unknown} set(s)` : parts.length === 0 ? 'no operations' : undefined,
  };
}

function checkOneSet(all: PairedOp[]): Verdict {
  const adds = all.filter((o) => o.f === 'add');
  const reads = all.filter((o) => (o.f === 'read' || o.f === 'final-read') && o.type === 'ok');
  const finals = reads.filter((o) => o.f === 'final-read');
  const anomalies: Anomaly[] = [];
  const byValue = new Map<string, PairedOp>();
  for (const a of adds) byValue.set(a.value as string, a);
  for (const r of reads) {
    const seen = new Set(r.result as string[]);
    for (const e of seen) {
      const a = byValue.get(e);
      if (a === undefined) anomalies.push({ key: r.key, kind: 'unexpected-element', message: `${r.f} saw ${e}, never added`, ops: [brief(r)] });
      else if (a.type === 'fail') anomalies.push({ key: r.key, kind: 'failed-add-present', message: `${r.f} saw ${e}, whose SADD failed`, ops: [brief(a), { ...(brief(r) as object), result: '(elided)' }] });
    }
    // Every add acknowledged before this read began must be visible to it.
    for (const a of adds) {
      if (a.type === 'ok' && a.complete!.time < r.invoke.time && !seen.has(a.value as string)) {
        anomalies.push({ key: r.key, kind: r.f === 'final-read' ? 'lost-add' : 'stale-read', message: `${a.value as string} was acknowledged before the ${r.f} began and is missing from it`, ops: [brief(a), { ...(brief(r) as object), result: '(elided)' }] });
      }
    }
  }
  const ok = count(adds, 'ok');
  return {
    checker: 'set',
    valid: anomalies.length > 0 ? false : finals.length === 0 ? 'unknown' : true,
    anomalies: anomalies.slice(0, 50),
    stats: { adds: adds.length, ok, fail: count(adds, 'fail'), info: count(adds, 'info'), reads: reads.length, finalSize: finals.length > 0 ? (finals[finals.length - 1]!.result as string[]).length : 0, anomalies: anomalies.length },
    note: finals.length === 0 ? 'no final read succeeded' : undefined,
  };
}

// ---- counter: INCR, reads, a final read ----

/** How many of the sorted times are < t. */
function countBefore(sorted: number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function checkCounter(all: PairedOp[]): Verdict {
  const incs = all.filter((o) => o.f === 'incr');
  const reads = all.filter((o) => (o.f === 'read' || o.f === 'final-read') && o.type === 'ok');
  const finals = reads.filter((o) => o.f === 'final-read');
  const anomalies: Anomaly[] = [];
  // Each INCR's reply is the counter after it: acknowledged INCRs reply distinct values.
  const replies = new Map<number, PairedOp>();
  for (const o of incs) {
    if (o.type !== 'ok') continue;
    const v = o.result as number;
    const prev = replies.get(v);
    if (prev !== undefined) anomalies.push({ kind: 'duplicate-incr-reply', message: `two INCRs both replied ${v}`, ops: [brief(prev), brief(o)] });
    replies.set(v, o);
  }
  // A read lies between the INCRs acknowledged before it began and those invoked before it ended.
  const ackedAt = incs.filter((o) => o.type === 'ok').map((o) => o.complete!.time).sort((a, b) => a - b);
  const invokedAt = incs.filter((o) => o.type !== 'fail').map((o) => o.invoke.time).sort((a, b) => a - b);
  for (const r of reads) {
    const v = r.result === null ? 0 : Number(r.result);
    const lower = countBefore(ackedAt, r.invoke.time);
    const upper = countBefore(invokedAt, r.complete!.time);
    if (v < lower) anomalies.push({ kind: r.f === 'final-read' ? 'lost-incr' : 'stale-read', message: `${r.f} saw ${v}, but ${lower} INCRs were acknowledged before it began`, ops: [brief(r)] });
    if (v > upper) anomalies.push({ kind: 'phantom-incr', message: `${r.f} saw ${v}, but only ${upper} INCRs that did not fail were invoked before it ended (a failed INCR took effect?)`, ops: [brief(r)] });
  }
  const maxReply = Math.max(0, ...replies.keys());
  const attempted = incs.filter((o) => o.type !== 'fail').length;
  if (maxReply > attempted) anomalies.push({ kind: 'phantom-incr', message: `an INCR replied ${maxReply}, but only ${attempted} INCRs did not fail` });
  return {
    checker: 'counter',
    valid: anomalies.length > 0 ? false : finals.length === 0 ? 'unknown' : true,
    anomalies: anomalies.slice(0, 50),
    stats: {
      incrs: incs.length,
      ok: count(incs, 'ok'),
      fail: count(incs, 'fail'),
      info: count(incs, 'info'),
      reads: reads.length,
      final: finals.length > 0 ? Number(finals[finals.length - 1]!.result ?? 0) : -1,
      anomalies: anomalies.length,
    },
    note: finals.length === 0 ? 'no final read succeeded' : undefined,
  };
}
