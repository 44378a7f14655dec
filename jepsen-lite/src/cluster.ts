// A shard of real `keel server` processes on loopback, each node-to-node link (one per ordered
// pair) passing through a LinkProxy the harness controls. Node i is started with a --peers list
// of its own: its own entry names its real cluster port (where it listens), every other node j's
// entry names the proxy of the link i -> j. Client ports are real, so a follower's READONLY
// reply names the leader's real client address.
//
// Everything is bounded and everything is cleaned up by close(), which is also registered to
// run on process exit (SIGKILL of every child still alive).
//
// With `membership: true` nodes can be removed from the shard and replaced (KEEL.REMOVENODE,
// KEEL.ADDNODE, `keel server --join`). A member book holds one node-to-node address per node,
// the same at every member (it is replicated), so per-link proxy ports in --peers no longer
// work: a node added later learns its peers' addresses from the leader's snapshot, and its
// peers learn its address from the log. Instead each slot has one HelloRouter port, the address
// every book holds for it; the router reads each connection's hello (who dialed whom) and hands
// it to that directed link's LinkProxy. A bootstrapped node's book names its own real port,
// which would leak into every later snapshot; so in this mode no slot is bootstrapped: a seed
// node (id size + 1) bootstraps a shard of one, every slot joins it (--join, KEEL.ADDNODE with
// its router address), and the seed is removed and stopped before the run starts. A slot whose
// node was removed gets a new node with a new id (ids are never reused), an empty data
// directory, and the same client port and router address.

import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { HelloRouter, LinkProxy, Route } from './proxy';
import { ReplyError, RespConn } from '@keel/testkit';
import { freePort } from '@keel/testkit';

export const HOST = '127.0.0.1';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (t = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]);
  } finally {
    clearTimeout(t);
  }
}

export { freePort };

/** Where the keel CLI is: the built packages/cli next to this package. */
export function defaultKeelMain(): string {
  return path.resolve(__dirname, '..', '..', '..', 'packages', 'cli', 'dist', 'src', 'main.js');
}

export interface ClusterOptions {
  nodes?: number;
  keelMain?: string;
  /** Extra `keel server` arguments. */
  extraArgs?: string[];
  /** Where node logs go (nodes' stdout/stderr appended to n<i>.log); none: kept in memory only. */
  logDir?: string;
  tickMs?: number;
  electionTimeoutTicks?: number;
  commitTimeoutMs?: number;
  startTimeoutMs?: number;
  /** Nodes can be removed and replaced (see the top of this file); default false. */
  membership?: boolean;
}

export type NodeState = 'up' | 'down' | 'paused';

interface NodeInfo {
  index: number;
  /** The node in this slot now (`n<raft id>`); a replaced node's successor has a new id. */
  name: string;
  port: number;
  clusterPort: number;
  dir: string;
  /** --peers of a bootstrapped node (membership off); '' for one that joins. */
  peersArg: string;
  /** Started with --join (membership on): it waits, empty, to be added. */
  joined: boolean;
  /** Removed from the shard, stopped, data wiped; not yet replaced. */
  removed: boolean;
  /** The slot's HelloRouter port (membership on), the address the member book holds. */
  routerPort: number;
  logFile: string;
  proc: ChildProcess | null;
  exited: Promise<void> | null;
  state: NodeState;
  out: string;
  log: fs.WriteStream | null;
}

const live = new Set<Cluster>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const c of live) c.killAllSync();
  });
}

export class Cluster {
  readonly nodes: NodeInfo[] = [];
  /** proxies[i][j]: the link i -> j (undefined for i === j). */
  readonly proxies: Array<Array<LinkProxy | undefined>> = [];
  /** routers[j]: slot j's address for its peers (membership on). */
  readonly routers: HelloRouter[] = [];
  /** Which slot each raft id ever used is in (ids are never reused). */
  private readonly slotOfId = new Map<number, number>();
  private nextId = 0;
  /** The seed of a membership cluster, while it runs (init only). */
  private seed: NodeInfo | null = null;
  private readonly baseDir: string;
  private closed = false;

  private constructor(private readonly opts: ClusterOptions) {
    this.baseDir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-jepsen-'));
  }

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    installExitHook();
    const c = new Cluster(opts);
    live.add(c);
    try {
      await c.init();
    } catch (e) {
      await c.close();
      throw e;
    }
    return c;
  }

  get membership(): boolean {
    return this.opts.membership === true;
  }

  get size(): number {
    return this.nodes.length;
  }

  private async init(): Promise<void> {
    const n = this.opts.nodes ?? 3;
    const membership = this.opts.membership === true;
    const ports: number[] = [];
    const cports: number[] = [];
    for (let i = 0; i < n; i++) {
      ports.push(await freePort());
      cports.push(await freePort());
    }
    for (let i = 0; i < n; i++) {
      this.proxies.push([]);
      for (let j = 0; j < n; j++) {
        if (i === j) {
          this.proxies[i]!.push(undefined);
          continue;
        }
        const p = new LinkProxy(i, j, HOST, cports[j]!);
        if (!membership) await p.start(); // with membership, routers hand connections to it
        this.proxies[i]!.push(p);
      }
    }
    if (membership) {
      for (let j = 0; j < n; j++) {
        const r = new HelloRouter(HOST, (from) => this.route(from, j));
        await r.start();
        this.routers.push(r);
      }
    }
    if (this.opts.logDir !== undefined) fs.mkdirSync(this.opts.logDir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const peersArg = membership ? '' : ports.map((p, j) => `n${j + 1}=${HOST}:${p}@${i === j ? cports[j] : this.proxies[i]![j]!.port}`).join(',');
      const dir = path.join(this.baseDir, `n${i + 1}`);
      fs.mkdirSync(dir);
      this.slotOfId.set(i + 1, i);
      this.nodes.push(this.nodeInfo(i, `n${i + 1}`, ports[i]!, cports[i]!, dir, peersArg, membership ? this.routers[i]!.port : 0, `n${i + 1}.log`));
      this.nodes[i]!.joined = membership;
    }
    this.nextId = n + 1;
    if (!membership) {
      await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
      return;
    }
    // The seed: a shard of one that every slot joins, removed once they have.
    const seedId = this.nextId++;
    const seedPort = await freePort();
    const seedCport = await freePort();
    const seedDir = path.join(this.baseDir, 'seed');
    fs.mkdirSync(seedDir);
    const seed = this.nodeInfo(-1, `n${seedId}`, seedPort, seedCport, seedDir, `n${seedId}=${HOST}:${seedPort}@${seedCport}`, 0, 'seed.log');
    this.seed = seed;
    await this.launch(seed);
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
    for (let i = 0; i < n; i++) {
      const node = this.nodes[i]!;
      const r = await this.admin(['KEEL.ADDNODE', node.name, `${HOST}:${node.port}@${node.routerPort}`, 'TIMEOUT', '10000'], 60000, 15000);
      if (r !== 'OK') throw new Error(`adding ${node.name} to the seed's shard: ${r}`);
    }
    const r = await this.admin(['KEEL.REMOVENODE', seed.name], 30000, 15000);
    if (r !== 'OK') throw new Error(`removing the seed ${seed.name}: ${r}`);
    await this.stop(seed);
    this.seed = null;
    seed.log?.write(`--- jepsen-lite: the seed ${seed.name} was removed and stopped; the shard is ${this.nodes.map((x) => x.name).join(',')} ---\n`);
    await new Promise<void>((resolve) => (seed.log === null ? resolve() : seed.log.end(() => resolve())));
  }

  private nodeInfo(index: number, name: string, port: number, clusterPort: number, dir: string, peersArg: string, routerPort: number, logFile: string): NodeInfo {
    return {
      index, name, port, clusterPort, dir, peersArg, joined: false, removed: false, routerPort, logFile,
      proc: null, exited: null, state: 'down', out: '',
      log: this.opts.logDir !== undefined ? fs.createWriteStream(path.join(this.opts.logDir, logFile), { flags: 'a' }) : null,
    };
  }

  /** A HelloRouter's choice: the link from the dialer's slot to slot `to`; the seed's dials go straight. */
  private route(fromId: number, to: number): Route {
    const from = this.slotOfId.get(fromId);
    if (from === undefined) return this.seed !== null && `n${fromId}` === this.seed.name ? { port: this.nodes[to]!.clusterPort } : null;
    if (from === to) return null;
    return { link: this.proxies[from]![to]! };
  }

  /** The --peers of a node that joins: every other current member, at its router address. */
  private joinPeers(i: number): string {
    const others = this.nodes.filter((x) => x.index !== i && !x.removed).map((x) => `${x.name}=${HOST}:${x.port}@${x.routerPort}`);
    if (this.seed !== null) others.push(this.seed.peersArg);
    return others.join(',');
  }

  async startNode(i: number): Promise<void> {
    await this.launch(this.nodes[i]!);
  }

  private async launch(node: NodeInfo): Promise<void> {
    if (node.proc !== null) throw new Error(`${node.name} is already running`);
    const peers = node.joined ? ['--join', '--cluster-port', String(node.clusterPort), '--peers', this.joinPeers(node.index)] : ['--peers', node.peersArg];
    const args = [
      this.opts.keelMain ?? defaultKeelMain(),
      'server',
      '--node-id', node.name,
      '--port', String(node.port),
      ...peers,
      '--dir', node.dir,
      '--tick-ms', String(this.opts.tickMs ?? 20),
      '--election-timeout-ticks', String(this.opts.electionTimeoutTicks ?? 10),
      '--commit-timeout-ms', String(this.opts.commitTimeoutMs ?? 2000),
      ...(this.opts.extraArgs ?? []),
    ];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    node.proc = proc;
    node.out = '';
    const onData = (d: Buffer) => {
      node.out += d.toString();
      if (node.out.length > 200_000) node.out = node.out.slice(-100_000);
      node.log?.write(d);
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    node.exited = new Promise<void>((resolve) =>
      proc.on('exit', () => {
        if (node.proc === proc) {
          node.proc = null;
          node.state = 'down';
        }
        resolve();
      }),
    );
    node.log?.write(`--- jepsen-lite: started ${node.name} pid ${proc.pid} ---\n`);
    const deadline = Date.now() + (this.opts.startTimeoutMs ?? 20000);
    while (!/Ready to accept connections/.test(node.out)) {
      if (node.proc !== proc) throw new Error(`${node.name} exited while starting:\n${node.out.slice(-2000)}`);
      if (Date.now() > deadline) {
        await this.stop(node);
        throw new Error(`${node.name} did not start within ${this.opts.startTimeoutMs ?? 20000} ms:\n${node.out.slice(-2000)}`);
      }
      await sleep(20);
    }
    node.state = 'up';
  }

  /** SIGKILL (also works on a paused process); waits for the exit, bounded. */
  async killNode(i: number): Promise<void> {
    await this.stop(this.nodes[i]!);
  }

  private async stop(node: NodeInfo): Promise<void> {
    const proc = node.proc;
    if (proc === null) return;
    proc.kill('SIGKILL');
    await within(node.exited!, 10000, `${node.name} to exit on SIGKILL`);
    node.proc = null;
    node.state = 'down';
    node.log?.write(`--- jepsen-lite: killed ${node.name} ---\n`);
  }

  pauseNode(i: number): void {
    const node = this.nodes[i]!;
    if (node.proc === null || node.state !== 'up') return;
    node.proc.kill('SIGSTOP');
    node.state = 'paused';
  }

  resumeNode(i: number): void {
    const node = this.nodes[i]!;
    if (node.proc === null || node.state !== 'paused') return;
    node.proc.kill('SIGCONT');
    node.state = 'up';
  }

  /** Blocks the link from -> to (one way). */
  block(from: number, to: number): void {
    this.proxies[from]![to]!.block();
  }

  /** Cuts every link between the two groups, both ways. */
  partition(a: number[], b: number[]): void {
    for (const i of a) for (const j of b) if (i !== j) (this.block(i, j), this.block(j, i));
  }

  /** Adds delayMs to the link from -> to (0: no delay). */
  slow(from: number, to: number, delayMs: number): void {
    this.proxies[from]![to]!.delayMs = delayMs;
  }

  /** Unblocks every link and takes every added delay away. */
  heal(): void {
    for (const row of this.proxies) {
      for (const p of row) {
        p?.unblock();
        if (p !== undefined) p.delayMs = 0;
      }
    }
  }

  /** Resumes every paused node, restarts every dead one, replaces every removed one, heals every link. */
  async healAll(): Promise<void> {
    this.heal();
    for (let i = 0; i < this.size; i++) this.resumeNode(i);
    for (let i = 0; i < this.size; i++) {
      if (this.nodes[i]!.removed) await this.replaceNode(i);
      else if (this.nodes[i]!.proc === null) await this.startNode(i);
    }
  }

  /**
   * Sends a membership command to the leader and returns its reply ('OK', or the last error),
   * retrying until `deadlineMs` passed: at the node a READONLY names, or at the next running
   * node on TRYAGAIN, UNKNOWN, any other error, a timeout or a lost connection. Only safe for
   * commands that may be repeated (KEEL.ADDNODE of the same node and address continues a
   * learner or answers OK for a voter; KEEL.REMOVENODE of a removed node answers OK).
   */
  async admin(args: string[], deadlineMs: number, cmdTimeoutMs: number): Promise<string> {
    const end = Date.now() + deadlineMs;
    let last = 'no node was tried';
    let port: number | undefined;
    for (let attempt = 0; Date.now() < end; attempt++) {
      const running = [...this.nodes, ...(this.seed === null ? [] : [this.seed])].filter((x) => x.state === 'up' && !x.removed);
      if (port === undefined) {
        if (running.length === 0) {
          last = 'no node is running';
          await sleep(200);
          continue;
        }
        port = running[attempt % running.length]!.port;
      }
      const conn = await RespConn.connect(HOST, port, 500).catch((e: Error) => e);
      port = undefined;
      if (conn instanceof Error) {
        last = `cannot connect: ${conn.message}`;
        await sleep(100);
        continue;
      }
      try {
        const r = await conn.cmd(args, Math.min(cmdTimeoutMs, Math.max(1, end - Date.now())));
        if (r === 'OK') return 'OK';
        last = r instanceof ReplyError ? `-${r.message}` : `unexpected reply ${JSON.stringify(r)}`;
        const m = r instanceof ReplyError && r.code === 'READONLY' ? /\(([^:()]+):(\d+)\)/.exec(r.message) : null;
        if (m !== null) port = Number(m[2]);
      } catch (e) {
        last = (e as Error).message;
      } finally {
        conn.close();
      }
      if (port === undefined) await sleep(200);
    }
    return last;
  }

  /**
   * Removes slot i's node from the shard (KEEL.REMOVENODE, at the leader, bounded), then kills
   * it and wipes its data directory: a removed id never comes back. Returns the command's reply;
   * if it is not OK the node was left as it is (and is still a member, or its removal is
   * unknown: then it is not used again either way, see replaceNode).
   */
  async removeNode(i: number, deadlineMs = 20000): Promise<string> {
    const node = this.nodes[i]!;
    const r = await this.admin(['KEEL.REMOVENODE', node.name], deadlineMs, 12000);
    if (r !== 'OK') return r;
    await this.stop(node);
    node.removed = true;
    fs.rmSync(node.dir, { recursive: true, force: true });
    fs.mkdirSync(node.dir);
    node.log?.write(`--- jepsen-lite: ${node.name} removed from the shard, killed, its data directory wiped ---\n`);
    return r;
  }

  /**
   * Puts a new node in slot i, whose node was removed: a new id, the same client port and router
   * address, an empty store, started with --join and added by KEEL.ADDNODE (a learner, then a
   * voter once it caught up). Throws if it is not a voter within deadlineMs: the shard did not
   * return to full size, which the run must not hide.
   */
  async replaceNode(i: number, deadlineMs = 60000): Promise<string> {
    const node = this.nodes[i]!;
    if (!node.removed) throw new Error(`${node.name} was not removed`);
    const id = this.nextId++;
    const old = node.name;
    node.name = `n${id}`;
    this.slotOfId.set(id, i);
    node.removed = false;
    node.log?.write(`--- jepsen-lite: slot ${i + 1} (was ${old}) is now ${node.name}, joining ---\n`);
    await this.startNode(i);
    const r = await this.admin(['KEEL.ADDNODE', node.name, `${HOST}:${node.port}@${node.routerPort}`, 'TIMEOUT', '10000'], deadlineMs, 15000);
    if (r !== 'OK') throw new Error(`${node.name} (slot ${i + 1}, replacing ${old}) was not added within ${deadlineMs} ms: ${r}`);
    return r;
  }

  /**
   * The index of the node that leads and accepts a write now (INFO says role:master, and a
   * probe SET on a key of its own succeeds), or undefined if none does within the time given.
   */
  async findLeader(timeoutMs = 3000): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = await Promise.all(
        this.nodes.map(async (n, i) => {
          if (n.state !== 'up') return false;
          const c = await RespConn.connect(HOST, n.port, 300).catch(() => null);
          if (c === null) return false;
          try {
            // A follower forwards the write to the leader, so the node must also say it leads.
            const info = await c.cmd(['INFO', 'replication'], 500).catch(() => null);
            if (typeof info !== 'string' || !info.includes('role:master')) return false;
            const r = await c.cmd(['SET', '__jepsen_probe__', String(i)], 500).catch(() => null);
            return r === 'OK';
          } finally {
            c.close();
          }
        }),
      );
      const i = found.indexOf(true);
      if (i >= 0) return i;
      await sleep(50);
    }
    return undefined;
  }

  killAllSync(): void {
    for (const n of [...this.nodes, ...(this.seed === null ? [] : [this.seed])]) {
      if (n.proc !== null) {
        try {
          n.proc.kill('SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
  }

  /** Kills every node, closes every proxy, removes the data directories. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (let i = 0; i < this.nodes.length; i++) await this.killNode(i).catch(() => {});
    if (this.seed !== null) {
      await this.stop(this.seed).catch(() => {});
      await new Promise<void>((resolve) => (this.seed!.log === null ? resolve() : this.seed!.log.end(() => resolve())));
    }
    for (const r of this.routers) await r.close();
    for (const row of this.proxies) for (const p of row) await p?.close();
    await Promise.all(this.nodes.map((n) => (n.log === null ? undefined : new Promise<void>((resolve) => n.log!.end(() => resolve())))));
    fs.rmSync(this.baseDir, { recursive: true, force: true });
    live.delete(this);
  }
}
