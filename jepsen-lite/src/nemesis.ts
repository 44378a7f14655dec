// Nemeses on a schedule drawn from the seed: one fault at a time, held for a while, then
// healed, with quiet gaps between. Every start and end goes to the timeline (and the history,
// as process 'nemesis').
//   kill:      SIGKILL the leader or a random node; restart it when the fault ends
//   pause:     SIGSTOP the leader or a random node; SIGCONT when the fault ends
//   partition: isolate the leader, isolate a random node, cut off the leader with the largest
//              minority it can have (with 5 nodes: the leader and one other), a bridge (two
//              halves that cannot talk, and one node that talks to both), or cut the leader's
//              links one way (its messages out, or its messages in); heal at the end
//   transfer:  move the leadership to a random other node (KEEL.TRANSFERLEADER to the leader)
//   slow:      delay every node-to-node link, or the leader's links, by 50 to 400 ms (both ways;
//              the election timeout is 200 ms); take the delay away at the end
//   membership: remove the leader or a random node from the shard (KEEL.REMOVENODE at the
//              leader), kill it and wipe its data; at the end a new node (a new id: ids are never
//              reused) joins in its slot (keel server --join, KEEL.ADDNODE), so the shard is back
//              to full size before the next fault. On 3 nodes one node out at a time; on 5 or
//              more up to size - 3 (at least 3 voters stay).
//              Needs a cluster started with `membership: true`.

import { Cluster, HOST, sleep } from './cluster';
import { ReplyError, RespConn } from '@keel/testkit';
import { History } from './history';
import { Rng } from './rng';

export const NEMESES = ['kill', 'pause', 'partition', 'transfer', 'slow', 'membership'] as const;
const PARTITIONS = ['isolate-leader', 'isolate-random', 'leader-minority', 'bridge', 'leader-out', 'leader-in'] as const;
export type NemesisName = (typeof NEMESES)[number];

export interface TimelineEntry {
  time: number;
  phase: 'start' | 'end';
  f: string;
  value: unknown;
}

export interface NemesisOptions {
  /** Quiet time between faults, ms. */
  gapMs: [number, number];
  /** How long a fault is held, ms. */
  holdMs: [number, number];
}

export const DEFAULT_NEMESIS_OPTIONS: NemesisOptions = { gapMs: [1000, 2500], holdMs: [1500, 4000] };

export class Nemesis {
  readonly timeline: TimelineEntry[] = [];
  faults = 0;
  /**
   * Separate streams, so that the sequence of fault kinds and of gap and hold times is the
   * seed's alone: which node a fault hits may depend on timing (who leads then), and must not
   * shift the rest of the schedule.
   */
  private readonly kindRng: Rng;
  private readonly timeRng: Rng;
  private readonly rng: Rng;

  constructor(
    private readonly cluster: Cluster,
    private readonly history: History,
    private readonly kinds: NemesisName[],
    rng: Rng,
    private readonly opts: NemesisOptions = DEFAULT_NEMESIS_OPTIONS,
  ) {
    this.kindRng = rng.fork(1);
    this.timeRng = rng.fork(2);
    this.rng = rng.fork(3);
  }

  private record(phase: 'start' | 'end', f: string, value: unknown): void {
    const ev = this.history.add({ type: phase === 'start' ? 'invoke' : 'ok', process: 'nemesis', f, value });
    this.timeline.push({ time: ev.time, phase, f, value });
  }

  private shuffle(xs: number[]): number[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.rng.int(0, i);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }

  /** Asks the leader to hand its leadership to a random other node; the window lasts until it answers. */
  private async transfer(): Promise<void> {
    const leader = await this.cluster.findLeader(1500);
    const from = leader ?? this.rng.int(0, this.cluster.size - 1);
    const others = this.cluster.nodes.map((n) => n.index).filter((i) => i !== from);
    const to = others[this.rng.int(0, others.length - 1)]!;
    const fromName = this.cluster.nodes[from]!.name;
    const toName = this.cluster.nodes[to]!.name;
    this.record('start', 'transfer', { from: fromName, to: toName, leaderKnown: leader !== undefined });
    let result: string;
    const conn = await RespConn.connect(HOST, this.cluster.nodes[from]!.port, 500).catch((e: Error) => e);
    if (conn instanceof Error) result = `cannot connect: ${conn.message}`;
    else {
      try {
        const r = await conn.cmd(['KEEL.TRANSFERLEADER', toName], 5000);
        result = r instanceof ReplyError ? `-${r.message}` : String(r);
      } catch (e) {
        result = (e as Error).message;
      } finally {
        conn.close();
      }
    }
    this.record('end', 'transferred', { to: toName, result });
  }

  /**
   * Removes nodes (the first the leader or a random one; on 5 nodes or more up to size - 3 of
   * them, one after another, so that at least 3 voters remain; on 3 nodes one), holds, and puts
   * a new node in each slot. The window ends once every new node is a voter; replaceNode throws
   * (a harness error) if one is not within its bound. A removal that did not succeed within its
   * bound (no leader answered for 20 s) stops the removals there; the nodes already removed are
   * replaced as usual.
   */
  private async membership(hold: () => Promise<void>): Promise<void> {
    const count = this.rng.int(1, Math.max(1, this.cluster.size - 3));
    const first = await this.target();
    const rest = this.shuffle(this.cluster.nodes.map((n) => n.index).filter((i) => i !== first.node)).slice(0, count - 1);
    const slots = [first.node, ...rest];
    const name = (i: number) => this.cluster.nodes[i]!.name;
    this.record('start', 'membership', { remove: slots.map(name), slots: slots.map((i) => i + 1), which: first.which });
    const t0 = Date.now();
    const removed: number[] = [];
    const notRemoved: Array<{ node: string; result: string }> = [];
    for (const i of slots) {
      const r = await this.cluster.removeNode(i);
      if (r !== 'OK') {
        notRemoved.push({ node: name(i), result: r });
        break;
      }
      removed.push(i);
    }
    const removeMs = Date.now() - t0;
    const removedNames = removed.map(name);
    if (removed.length > 0) await hold();
    const t1 = Date.now();
    for (const i of removed) await this.cluster.replaceNode(i);
    this.record('end', removed.length > 0 ? 'rejoined' : 'not-removed', {
      removed: removedNames,
      added: removed.map(name),
      slots: removed.map((i) => i + 1),
      ...(notRemoved.length > 0 ? { notRemoved } : {}),
      removeMs,
      addMs: Date.now() - t1,
    });
  }

  private async target(): Promise<{ node: number; which: string }> {
    if (this.rng.next() < 0.5) {
      const leader = await this.cluster.findLeader(1500);
      if (leader !== undefined) return { node: leader, which: 'leader' };
    }
    return { node: this.rng.int(0, this.cluster.size - 1), which: 'random' };
  }

  /** Runs faults until stop() says so; every fault is healed before it returns. */
  async run(stop: () => boolean): Promise<void> {
    if (this.kinds.length === 0) return;
    if (this.kinds.includes('membership') && !this.cluster.membership) throw new Error('the membership nemesis needs a cluster started with membership: true');
    const wait = async (range: [number, number]) => {
      const end = Date.now() + this.timeRng.int(range[0], range[1]);
      while (Date.now() < end && !stop()) await sleep(Math.min(50, end - Date.now()));
    };
    await wait(this.opts.gapMs);
    while (!stop()) {
      const kind = this.kindRng.pick(this.kinds);
      const variant = this.kindRng.pick(PARTITIONS);
      this.faults++;
      if (kind === 'kill') {
        const { node, which } = await this.target();
        this.record('start', 'kill', { node: this.cluster.nodes[node]!.name, which });
        await this.cluster.killNode(node);
        await wait(this.opts.holdMs);
        await this.cluster.startNode(node);
        this.record('end', 'restart', { node: this.cluster.nodes[node]!.name });
      } else if (kind === 'pause') {
        const { node, which } = await this.target();
        this.record('start', 'pause', { node: this.cluster.nodes[node]!.name, which });
        this.cluster.pauseNode(node);
        await wait(this.opts.holdMs);
        this.cluster.resumeNode(node);
        this.record('end', 'resume', { node: this.cluster.nodes[node]!.name });
      } else if (kind === 'transfer') {
        await this.transfer();
      } else if (kind === 'membership') {
        await this.membership(() => wait(this.opts.holdMs));
      } else if (kind === 'slow') {
        const delayMs = this.rng.int(50, 400);
        const leaderOnly = this.rng.next() < 0.5;
        const leader = leaderOnly ? await this.cluster.findLeader(1500) : undefined;
        const name = (i: number) => this.cluster.nodes[i]!.name;
        const links: string[] = [];
        for (let i = 0; i < this.cluster.size; i++) {
          for (let j = 0; j < this.cluster.size; j++) {
            if (i === j || (leader !== undefined && i !== leader && j !== leader)) continue;
            this.cluster.slow(i, j, delayMs);
            links.push(`${name(i)}->${name(j)}`);
          }
        }
        this.record('start', 'slow', { delayMs, which: leader !== undefined ? `links of the leader ${name(leader)}` : 'every link', links });
        await wait(this.opts.holdMs);
        this.cluster.heal();
        this.record('end', 'fast', null);
      } else {
        let node: number;
        if (variant === 'isolate-random') node = this.rng.int(0, this.cluster.size - 1);
        else node = (await this.cluster.findLeader(1500)) ?? this.rng.int(0, this.cluster.size - 1);
        const others = this.cluster.nodes.map((n) => n.index).filter((i) => i !== node);
        const name = (i: number) => this.cluster.nodes[i]!.name;
        if (variant === 'leader-out') {
          for (const j of others) this.cluster.block(node, j);
          this.record('start', 'partition', { variant, blocked: others.map((j) => `${name(node)}->${name(j)}`) });
        } else if (variant === 'leader-in') {
          for (const j of others) this.cluster.block(j, node);
          this.record('start', 'partition', { variant, blocked: others.map((j) => `${name(j)}->${name(node)}`) });
        } else if (variant === 'bridge') {
          const [bridge, ...rest] = this.shuffle(this.cluster.nodes.map((n) => n.index));
          const half = Math.max(1, Math.floor(rest.length / 2));
          const a = rest.slice(0, half);
          const b = rest.slice(half);
          this.cluster.partition(a, b);
          this.record('start', 'partition', { variant, bridge: name(bridge!), groups: [a.map(name), b.map(name)] });
        } else {
          // isolate-leader, isolate-random: one node alone; leader-minority: the leader and as
          // many others as still leave a majority on the other side.
          const minoritySize = variant === 'leader-minority' ? Math.floor((this.cluster.size - 1) / 2) : 1;
          const shuffled = this.shuffle(others);
          const minority = [node, ...shuffled.slice(0, minoritySize - 1)];
          const majority = shuffled.slice(minoritySize - 1);
          this.cluster.partition(minority, majority);
          this.record('start', 'partition', { variant, groups: [minority.map(name), majority.map(name)] });
        }
        await wait(this.opts.holdMs);
        this.cluster.heal();
        this.record('end', 'heal', null);
      }
      await wait(this.opts.gapMs);
    }
  }
}
