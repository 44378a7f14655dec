// An in-process shard for tests: ShardNodes on loopback, each with its own raft driver,
// transport and in-memory log; raw RESP clients; bounded waits. Everything a Shard starts is
// stopped by close().

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ShardMember, ShardNode, ShardNodeOptions } from '../src/replication/shard-node';
import { freePort, HOST, RespClient, sleep } from './harness';

export { HOST, RespClient, sleep };

export async function until<T>(f: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

export type NodeOptions = Omit<ShardNodeOptions, 'id' | 'members' | 'server'>;

export class Shard {
  readonly nodes: ShardNode[] = [];
  readonly fatal: Error[] = [];
  private readonly dirs: string[] = [];
  private readonly clients: RespClient[] = [];

  /** Starts `size` nodes (tick 50 ms, election timeout 10 ticks: spurious elections on a loaded machine are rare) with `opts` on each. */
  static async start(size: number, opts: NodeOptions = {}): Promise<Shard> {
    const shard = new Shard();
    const members: ShardMember[] = [];
    const ports: number[] = [];
    for (let i = 1; i <= size; i++) {
      const port = await freePort();
      ports.push(port);
      members.push({ id: i, host: HOST, clusterPort: await freePort(), clientAddress: `${HOST}:${port}` });
    }
    for (let i = 1; i <= size; i++) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `keel-shard-${i}-`));
      shard.dirs.push(dir);
      shard.nodes.push(
        new ShardNode({
          id: i,
          // Each node its own copy: a test may change what one node believes.
          members: members.map((m) => ({ ...m })),
          server: { port: ports[i - 1], bind: HOST, dir, loglevel: 'warning' },
          tickMs: 50,
          electionTimeoutTicks: 10,
          commitTimeoutMs: 1500,
          readTimeoutMs: 1500,
          onFatal: (e) => shard.fatal.push(e),
          ...opts,
        }),
      );
    }
    await Promise.all(shard.nodes.map((n) => n.start()));
    return shard;
  }

  get live(): ShardNode[] {
    return this.nodes.filter((n) => !n.isClosed);
  }

  /** The one leader among the live nodes, or undefined. */
  leaderNow(among: ShardNode[] = this.live): ShardNode | undefined {
    const leaders = among.filter((n) => n.driver.isLeader);
    return leaders.length === 1 ? leaders[0] : undefined;
  }

  /** Waits for a leader that every other live node knows as the leader. */
  async leader(timeoutMs = 5000): Promise<ShardNode> {
    return until(() => {
      const l = this.leaderNow();
      return l !== undefined && this.live.every((n) => n.driver.leader === l.id) ? l : undefined;
    }, 'a leader known to every node', timeoutMs);
  }

  async connect(n: ShardNode): Promise<RespClient> {
    const c = await RespClient.connect(n.server.port);
    this.clients.push(c);
    return c;
  }

  /** Cuts node `n` off from every other node (both directions), or heals it. */
  isolate(n: ShardNode): void {
    const others = this.nodes.filter((o) => o !== n);
    n.transport.partition(others.map((o) => o.id));
    for (const o of others) o.transport.partition([n.id]);
  }

  heal(): void {
    for (const n of this.nodes) n.transport.heal();
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.close();
    for (const n of this.nodes) await n.close();
    for (const d of this.dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

/** One command's reply as a latin1 string (RESP bytes). */
export async function call(c: RespClient, ...args: string[]): Promise<string> {
  return (await c.call(args, 8000)).toString('latin1');
}

/** An INFO field of a node (INFO raft). */
export function raftField(n: ShardNode, name: string): string {
  const f = n.readPathInfo().find(([k]) => k === name);
  if (f === undefined) throw new Error(`no INFO raft field ${name}`);
  return String(f[1]);
}

/** Resolves when the server closed c's connection (rejects after timeoutMs). */
export async function closedByServer(c: RespClient, timeoutMs = 5000): Promise<void> {
  await until(() => c.closed, 'the server to close the connection', timeoutMs);
}
