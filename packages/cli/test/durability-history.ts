// A write history that can be checked after a crash. Each worker owns its keys and sends one
// command at a time, cycling through INCR cnt:<w>, SET u:<w>:<id> <id> and RPUSH l:<w> <id>.
// Every command ends acknowledged, refused ("not executed": TRYAGAIN, READONLY, NOQUORUM) or
// unknown (UNKNOWN, or the connection went). After a restart, check() verifies that every
// acknowledged write is present and that nothing is present that was never sent, and that each
// list is in send order (the state is a prefix of the history, less writes whose outcome was
// unknown); it then resolves the unknowns from what it saw.

import { Conn, ConnectionClosed, Reply, ReplyError, sleep } from './durability-util';

const NOT_EXECUTED = new Set(['TRYAGAIN', 'READONLY', 'NOQUORUM']);

type Outcome = 'acked' | 'unknown';

export class Worker {
  private nextId = 0;
  private incrLo = 0;
  private incrHi = 0;
  private readonly sets = new Map<number, Outcome>();
  private readonly pushes = new Map<number, Outcome>();
  acked = 0;
  unknown = 0;
  refused = 0;

  constructor(readonly w: number) {}

  /**
   * Sends commands on `conn` until it closes or stop() is true. `redirect` is called with a
   * READONLY error (a follower naming the leader): it returns the connection to go on with.
   */
  async run(conn: Conn, stop: () => boolean, redirect?: (err: ReplyError) => Promise<Conn | null>): Promise<void> {
    let c: Conn | null = conn;
    let i = 0;
    while (c !== null && !stop()) {
      const kind = i++ % 3;
      let r: Reply | 'closed';
      const id = this.nextId++;
      let args: Array<string | number>;
      if (kind === 0) {
        this.incrHi++;
        args = ['INCR', `cnt:${this.w}`];
      } else if (kind === 1) {
        this.sets.set(id, 'unknown');
        args = ['SET', `u:${this.w}:${id}`, id];
      } else {
        this.pushes.set(id, 'unknown');
        args = ['RPUSH', `l:${this.w}`, id];
      }
      try {
        r = await c.cmd(args);
      } catch (e) {
        if (!(e instanceof ConnectionClosed) && !/no reply/.test((e as Error).message)) throw e;
        r = 'closed';
      }
      if (r === 'closed' || (r instanceof ReplyError && r.code === 'UNKNOWN')) {
        this.unknown++;
        if (r === 'closed') c = null;
        continue;
      }
      if (r instanceof ReplyError) {
        if (!NOT_EXECUTED.has(r.code)) throw new Error(`worker ${this.w}: ${args.join(' ')} -> -${r.message}`);
        this.refused++;
        if (kind === 0) this.incrHi--;
        else if (kind === 1) this.sets.delete(id);
        else this.pushes.delete(id);
        if (r.code === 'READONLY' && redirect) c = await redirect(r);
        else await sleep(20);
        continue;
      }
      this.acked++;
      if (kind === 0) {
        const v = r as number;
        if (v <= this.incrLo || v > this.incrHi) throw new Error(`worker ${this.w}: INCR replied ${v}, expected (${this.incrLo}, ${this.incrHi}]`);
        this.incrLo = this.incrHi = v;
      } else if (kind === 1) {
        if (r !== 'OK') throw new Error(`worker ${this.w}: SET replied ${String(r)}`);
        this.sets.set(id, 'acked');
      } else {
        this.pushes.set(id, 'acked');
      }
    }
  }

  /** Checks the state a node serves against this worker's history; throws on a violation. */
  async check(c: Conn): Promise<void> {
    const w = this.w;
    const cnt = await c.cmd(['GET', `cnt:${w}`]);
    const v = cnt === null ? 0 : Number(cnt);
    if (v < this.incrLo || v > this.incrHi) throw new Error(`worker ${w}: cnt is ${v}, acknowledged ${this.incrLo}, sent ${this.incrHi}`);
    this.incrLo = this.incrHi = v;

    const keys = (await c.cmd(['KEYS', `u:${w}:*`])) as string[];
    const present = new Set(keys.map((k) => Number(k.split(':')[2])));
    for (const id of present) if (!this.sets.has(id)) throw new Error(`worker ${w}: key u:${w}:${id} is present but was never sent (or was refused)`);
    for (const [id, o] of this.sets) {
      if (o === 'acked' && !present.has(id)) throw new Error(`worker ${w}: acknowledged SET u:${w}:${id} is missing`);
      if (o === 'unknown') present.has(id) ? this.sets.set(id, 'acked') : this.sets.delete(id);
    }

    const list = ((await c.cmd(['LRANGE', `l:${w}`, 0, -1])) as string[]).map(Number);
    for (let k = 1; k < list.length; k++) if (list[k]! <= list[k - 1]!) throw new Error(`worker ${w}: list out of send order at ${k}: ${list.slice(k - 1, k + 1)}`);
    const inList = new Set(list);
    for (const id of inList) if (!this.pushes.has(id)) throw new Error(`worker ${w}: ${id} is in l:${w} but was never sent (or was refused)`);
    for (const [id, o] of this.pushes) {
      if (o === 'acked' && !inList.has(id)) throw new Error(`worker ${w}: acknowledged RPUSH ${id} is missing from l:${w}`);
      if (o === 'unknown') inList.has(id) ? this.pushes.set(id, 'acked') : this.pushes.delete(id);
    }
  }
}
