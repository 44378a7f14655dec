// Workloads: what each client process does, the final reads once the faults are healed, and
// the checker of the resulting history.
//   register: GET / SET / compare-and-set (WATCH, GET, MULTI, SET, EXEC) on a few keys
//   set:      SADD of unique elements, some SMEMBERS, a final SMEMBERS
//   counter:  INCR, some GET, a final GET
//   list-append: transactions (MULTI, RPUSH / LRANGE on a few lists, EXEC), a final read of
//             every list

import { Client, OpFail, OpInfo, Session, Target } from './client';
import { checkCounter, checkRegister, checkSet, SearchLimits, Verdict } from './checkers';
import { PairedOp } from './history';
import { checkListAppend, MicroOp } from './list-append-checker';
import { Reply, ReplyError } from '@keel/testkit';
import { Rng } from './rng';

export interface Workload {
  name: string;
  /** One operation of a client process. */
  op(client: Client, rng: Rng): Promise<unknown>;
  /** After the faults are healed: reads that must succeed (retried by the caller). */
  finalOps(client: Client): Promise<boolean>;
  check(ops: PairedOp[], limits?: SearchLimits): Verdict;
}

let uniq = 0;
function unique(prefix: string): string {
  return `${prefix}${++uniq}`;
}

export interface WorkloadOptions {
  /** Where reads (not the final ones) go: the leader, or each process's home node (default). */
  reads?: Target;
}

export function registerWorkload(prefix: string, o: WorkloadOptions = {}, keyCount = 3): Workload {
  const keys = Array.from({ length: keyCount }, (_, i) => `${prefix}reg:${i}`);
  /** The last value each key was seen with (a good cas expectation). */
  const last = new Map<string, string | null>();
  return {
    name: 'register',
    async op(client, rng) {
      const key = rng.pick(keys);
      const roll = rng.next();
      if (roll < 0.4) {
        return client.invoke('read', key, null, async (s) => {
          const r = (await s.call(['GET', key])) as string | null;
          last.set(key, r);
          return r;
        }, o.reads ?? 'home');
      }
      if (roll < 0.7) {
        const v = unique('w');
        return client.invoke('write', key, v, async (s) => {
          await s.call(['SET', key, v]);
          last.set(key, v);
          return v;
        });
      }
      const expected = last.get(key) ?? null;
      const v = unique('c');
      return client.invoke('cas', key, [expected, v], async (s) => cas(s, key, expected, v));
    },
    async finalOps() {
      return true;
    },
    check: (ops, limits) => checkRegister(ops.filter((o) => o.key !== undefined && keys.includes(o.key)), limits),
  };
}

/** Compare-and-set by WATCH / GET / MULTI / SET / EXEC. A precondition that fails is a fail. */
async function cas(s: Session, key: string, expected: string | null, v: string): Promise<unknown> {
  await s.call(['WATCH', key]);
  const cur = (await s.call(['GET', key])) as string | null;
  if (cur !== expected) {
    await s.call(['UNWATCH']);
    throw new OpFail(`cas precondition: ${key} is ${String(cur)}, not ${String(expected)}`);
  }
  await s.call(['MULTI']);
  await s.call(['SET', key, v]);
  const r = await s.call(['EXEC']);
  if (r === null) throw new OpFail('EXEC: a watched key changed (null reply)');
  const first = (r as unknown[])[0];
  if (first !== 'OK') throw new OpFail(`EXEC: unexpected ${JSON.stringify(r)}`);
  return [expected, v];
}

/**
 * set: SADD of unique elements to the current set, SMEMBERS of it now and then; a set that has
 * had `addsPerKey` adds is replaced by a fresh one (so reads, which return whole sets, stay
 * short in long runs), and every set gets a final SMEMBERS.
 */
export function setWorkload(prefix: string, o: WorkloadOptions = {}, addsPerKey = 1000): Workload {
  const keys = [`${prefix}set:0`];
  let adds = 0;
  const finalDone = new Set<string>();
  return {
    name: 'set',
    async op(client, rng) {
      const key = keys[keys.length - 1]!;
      if (rng.next() < 0.03) return client.invoke('read', key, null, async (s) => (await s.call(['SMEMBERS', key])) as string[], o.reads ?? 'home');
      if (++adds % addsPerKey === 0) keys.push(`${prefix}set:${keys.length}`);
      const v = unique('e');
      return client.invoke('add', key, v, async (s) => {
        await s.call(['SADD', key, v]);
        return v;
      });
    },
    async finalOps(client) {
      for (const key of keys) {
        if (finalDone.has(key)) continue;
        if ((await client.invoke('final-read', key, null, async (s) => (await s.call(['SMEMBERS', key])) as string[])) !== 'ok') return false;
        finalDone.add(key);
      }
      return true;
    },
    check: (ops) => checkSet(ops.filter((x) => x.key !== undefined && x.key.startsWith(`${prefix}set:`))),
  };
}

export function counterWorkload(prefix: string, o: WorkloadOptions = {}): Workload {
  const key = `${prefix}counter`;
  return {
    name: 'counter',
    async op(client, rng) {
      if (rng.next() < 0.15) return client.invoke('read', key, null, async (s) => (await s.call(['GET', key])) as string | null, o.reads ?? 'home');
      return client.invoke('incr', key, 1, async (s) => (await s.call(['INCR', key])) as number);
    },
    async finalOps(client) {
      return (await client.invoke('final-read', key, null, async (s) => (await s.call(['GET', key])) as string | null)) === 'ok';
    },
    check: (ops) => checkCounter(ops.filter((o) => o.key === key)),
  };
}

/**
 * list-append on `keyCount` lists at a time; a list that has had `appendsPerKey` appends is
 * replaced by a fresh one (as Jepsen does), so reads, which return whole lists, stay short.
 */
export function listAppendWorkload(prefix: string, o: WorkloadOptions = {}, keyCount = 4, appendsPerKey = 200): Workload {
  let nextKey = 0;
  const newKey = () => `${prefix}list:${nextKey++}`;
  const active = Array.from({ length: keyCount }, newKey);
  const all = [...active];
  const appendCount = new Map<string, number>();
  const label = `${prefix}list`;
  return {
    name: 'list-append',
    async op(client, rng) {
      const micro: MicroOp[] = [];
      const n = rng.int(1, 3);
      for (let i = 0; i < n; i++) {
        const slot = rng.int(0, keyCount - 1);
        if (rng.next() < 0.6) {
          const key = active[slot]!;
          const c = (appendCount.get(key) ?? 0) + 1;
          appendCount.set(key, c);
          if (c >= appendsPerKey) {
            active[slot] = newKey();
            all.push(active[slot]!);
          }
          micro.push(['append', key, unique('a')]);
        } else {
          micro.push(['r', active[slot]!, null]);
        }
      }
      // A read-only transaction takes the read path: at the home node, like the other reads.
      const target = micro.every((m) => m[0] === 'r') ? (o.reads ?? 'home') : 'leader';
      return client.invoke('txn', label, micro, (s) => transaction(s, micro), target);
    },
    async finalOps(client) {
      const micro: MicroOp[] = all.map((k) => ['r', k, null]);
      return (await client.invoke('final-read', label, micro, (s) => transaction(s, micro))) === 'ok';
    },
    check: (ops) => checkListAppend(ops.filter((x) => x.key === label)),
  };
}

/** MULTI, one RPUSH or LRANGE per micro-op, EXEC; the micro-ops completed with the replies. */
async function transaction(s: Session, micro: MicroOp[]): Promise<MicroOp[]> {
  await s.call(['MULTI']);
  for (const m of micro) await s.call(m[0] === 'append' ? ['RPUSH', m[1], m[2]] : ['LRANGE', m[1], 0, -1]);
  const r = await s.call(['EXEC']);
  if (r === null) throw new OpFail('EXEC: null reply (nothing was watched)');
  if (!Array.isArray(r) || r.length !== micro.length) throw new OpInfo(`EXEC: unexpected reply ${JSON.stringify(r)}`);
  return micro.map((m, i) => {
    const x: Reply = r[i]!;
    // An error inside EXEC is that command's own; the others ran: the outcome is not a fail.
    if (x instanceof ReplyError) throw new OpInfo(`EXEC: ${m[0]} ${m[1]} replied ${x.message}`);
    if (m[0] === 'append') {
      if (typeof x !== 'number') throw new OpInfo(`EXEC: RPUSH replied ${JSON.stringify(x)}`);
      return ['append', m[1], m[2], x];
    }
    if (!Array.isArray(x)) throw new OpInfo(`EXEC: LRANGE replied ${JSON.stringify(x)}`);
    return ['r', m[1], x as string[]];
  });
}

export const WORKLOADS = ['register', 'set', 'counter', 'list-append'] as const;
export type WorkloadName = (typeof WORKLOADS)[number];

export function makeWorkload(name: WorkloadName, prefix: string, o: WorkloadOptions = {}): Workload {
  switch (name) {
    case 'register':
      return registerWorkload(prefix, o);
    case 'set':
      return setWorkload(prefix, o);
    case 'counter':
      return counterWorkload(prefix, o);
    case 'list-append':
      return listAppendWorkload(prefix, o);
  }
}
