// A linearizability checker for client histories (Wing & Gong's search with Lowe's
// memoization, as in Porcupine), kept free of any Raft dependency so that jepsen-lite
// can use it too. A history is linearizable if the operations can be put in one order,
// consistent with real time (a before b if a returned before b was called), in which
// every output is what the sequential model produces.

export interface Operation<I, O> {
  clientId: number;
  input: I;
  /** Undefined if the outcome is unknown (timed out, connection lost): it may or may not
   * have taken effect, at any time after `call`. */
  output: O | undefined;
  call: number;
  /** Infinity if the outcome is unknown. */
  return: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Applies input to state; returns whether `output` is what the model produces
   * (an undefined output is always accepted) and the next state. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** Key used to memoize states; equal keys mean equal states. */
  key(state: S): string;
  /** Splits a history into independent parts (e.g. by key), each checked alone. */
  partition?(history: Operation<I, O>[]): Operation<I, O>[][];
}

export type CheckResult = 'ok' | 'illegal' | 'unknown';

interface Node<I, O> {
  op?: Operation<I, O>;
  id: number;
  isCall: boolean;
  match?: Node<I, O>; // call -> its return
  prev?: Node<I, O>;
  next?: Node<I, O>;
}

/**
 * How much search a check may do before it gives up with 'unknown'. The core reads no clock:
 * a time bound is an `expired` callback the caller builds on its own clock, asked every
 * EXPIRY_CHECK_STEPS steps.
 */
export interface CheckBudget {
  /** Search steps per independent part (default 5,000,000). */
  maxSteps?: number;
  /** True once the caller's time (or other) budget is spent; asked during the search. */
  expired?: () => boolean;
}

const EXPIRY_CHECK_STEPS = 1024;

/**
 * Checks one history. The budget (a step count, as before, or a CheckBudget) bounds the search;
 * 'unknown' if it is exceeded before the search decides.
 */
export function checkOperations<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], budget: number | CheckBudget = 5_000_000): CheckResult {
  const b: CheckBudget = typeof budget === 'number' ? { maxSteps: budget } : budget;
  const maxSteps = b.maxSteps ?? 5_000_000;
  const parts = model.partition ? model.partition(history) : [history];
  let result: CheckResult = 'ok';
  for (const part of parts) {
    const r = checkPart(model, part, maxSteps, b.expired);
    if (r === 'illegal') return 'illegal';
    if (r === 'unknown') result = 'unknown';
  }
  return result;
}

function buildList<I, O>(history: Operation<I, O>[]): Node<I, O> {
  type Ev = { time: number; isCall: boolean; id: number };
  const evs: Ev[] = [];
  history.forEach((op, id) => {
    if (!(op.return >= op.call)) throw new Error(`operation ${id} returns before its call`);
    evs.push({ time: op.call, isCall: true, id }, { time: op.return, isCall: false, id });
  });
  // At equal times calls come first: operations that touch at an instant are concurrent.
  evs.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: Node<I, O> = { id: -1, isCall: false };
  const calls = new Map<number, Node<I, O>>();
  let tail = head;
  for (const ev of evs) {
    const n: Node<I, O> = { id: ev.id, isCall: ev.isCall, op: history[ev.id], prev: tail };
    if (ev.isCall) calls.set(ev.id, n);
    else calls.get(ev.id)!.match = n;
    tail.next = n;
    tail = n;
  }
  return head;
}

function lift<I, O>(call: Node<I, O>): void {
  call.prev!.next = call.next;
  if (call.next) call.next.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

function unlift<I, O>(call: Node<I, O>): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  if (call.next) call.next.prev = call;
}

function checkPart<S, I, O>(model: Model<S, I, O>, history: Operation<I, O>[], maxSteps: number, expired?: () => boolean): CheckResult {
  if (history.length === 0) return 'ok';
  if (expired?.() === true) return 'unknown';
  const head = buildList(history);
  const words = Math.ceil(history.length / 32);
  const linearized = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: { call: Node<I, O>; state: S }[] = [];
  let state = model.init();
  let entry = head.next;
  for (let steps = 0; head.next !== undefined; steps++) {
    if (steps > maxSteps) return 'unknown';
    if (expired !== undefined && steps % EXPIRY_CHECK_STEPS === EXPIRY_CHECK_STEPS - 1 && expired()) return 'unknown';
    if (entry === undefined) return 'illegal'; // unreachable: a return is always met first
    if (entry.isCall) {
      const r = model.step(state, entry.op!.input, entry.op!.output);
      if (r.ok) {
        linearized[entry.id >>> 5] |= 1 << (entry.id & 31);
        const key = `${linearized.join(',')}|${model.key(r.state)}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ call: entry, state });
          state = r.state;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized[entry.id >>> 5] &= ~(1 << (entry.id & 31));
      }
      entry = entry.next;
    } else {
      // A return whose call cannot be linearized here: backtrack.
      const top = stack.pop();
      if (!top) return 'illegal';
      state = top.state;
      linearized[top.call.id >>> 5] &= ~(1 << (top.call.id & 31));
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return 'ok';
}

// ---- a key-value register model (put / get per key) ----

export type KvInput = { kind: 'put'; key: string; value: string } | { kind: 'get'; key: string };
/** For get: the value read (null if absent); for put: null. */
export type KvOutput = string | null;

export const kvModel: Model<string | null, KvInput, KvOutput> = {
  init: () => null,
  step(state, input, output) {
    if (input.kind === 'put') return { ok: true, state: input.value };
    return { ok: output === undefined || output === state, state };
  },
  key: (s) => (s === null ? '\u0000' : s),
  partition(history) {
    const byKey = new Map<string, Operation<KvInput, KvOutput>[]>();
    for (const op of history) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
};
