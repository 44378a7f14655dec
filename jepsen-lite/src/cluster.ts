// A shard of real `keel server` processes on loopback, each node-to-node link (one per ordered
// pair) passing through a LinkProxy the harness controls. Node i is started with a --peers list
// of its own: its own entry names its real cluster port (where it listens), every other node j's
// entry names the proxy of the link i -> j. Client ports are real, so a follower's READONLY
// reply names the leader's real client address.
//
// Everything is bounded and everything is cleaned up by close(), which is also registered to
// run on process exit (SIGKILL of every child still alive).

import { spawn, ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { LinkProxy } from './proxy';
import { RespConn } from './resp';

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

export function freePort(): Promise<number> {
  // Ports below the kernel's ephemeral range (32768 and up), so no outgoing connection can take
  // one between this check and its use; and low enough that port + 10000, a node's default
  // cluster port, is below that range too. Both are checked free. Each process starts at a
  // random place and walks up, so parallel processes rarely probe the same ports.
  const probe = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.unref();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
  return (async () => {
    for (let attempt = 0; attempt < 500; attempt++) {
      const port = FREE_PORT_FIRST + ((freePortNext++ - FREE_PORT_FIRST) % FREE_PORT_SPAN);
      if ((await probe(port)) && (await probe(port + 10000))) return port;
    }
    throw new Error('no free port pair found in 500 attempts');
  })();
}

const FREE_PORT_FIRST = 20000;
const FREE_PORT_SPAN = 2700;
let freePortNext = FREE_PORT_FIRST + Math.floor(Math.random() * FREE_PORT_SPAN);

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
}

export type NodeState = 'up' | 'down' | 'paused';

interface NodeInfo {
  index: number;
  name: string;
  port: number;
  clusterPort: number;
  dir: string;
  peersArg: string;
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

  get size(): number {
    return this.nodes.length;
  }

  private async init(): Promise<void> {
    const n = this.opts.nodes ?? 3;
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
        await p.start();
        this.proxies[i]!.push(p);
      }
    }
    if (this.opts.logDir !== undefined) fs.mkdirSync(this.opts.logDir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const peersArg = ports.map((p, j) => `n${j + 1}=${HOST}:${p}@${i === j ? cports[j] : this.proxies[i]![j]!.port}`).join(',');
      const dir = path.join(this.baseDir, `n${i + 1}`);
      fs.mkdirSync(dir);
      this.nodes.push({
        index: i,
        name: `n${i + 1}`,
        port: ports[i]!,
        clusterPort: cports[i]!,
        dir,
        peersArg,
        proc: null,
        exited: null,
        state: 'down',
        out: '',
        log: this.opts.logDir !== undefined ? fs.createWriteStream(path.join(this.opts.logDir, `n${i + 1}.log`), { flags: 'a' }) : null,
      });
    }
    await Promise.all(this.nodes.map((_, i) => this.startNode(i)));
  }

  async startNode(i: number): Promise<void> {
    const node = this.nodes[i]!;
    if (node.proc !== null) throw new Error(`${node.name} is already running`);
    const args = [
      this.opts.keelMain ?? defaultKeelMain(),
      'server',
      '--node-id', node.name,
      '--port', String(node.port),
      '--peers', node.peersArg,
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
        await this.killNode(i);
        throw new Error(`${node.name} did not start within ${this.opts.startTimeoutMs ?? 20000} ms:\n${node.out.slice(-2000)}`);
      }
      await sleep(20);
    }
    node.state = 'up';
  }

  /** SIGKILL (also works on a paused process); waits for the exit, bounded. */
  async killNode(i: number): Promise<void> {
    const node = this.nodes[i]!;
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

  /** Resumes every paused node, restarts every dead one, heals every link. */
  async healAll(): Promise<void> {
    this.heal();
    for (let i = 0; i < this.size; i++) this.resumeNode(i);
    for (let i = 0; i < this.size; i++) if (this.nodes[i]!.proc === null) await this.startNode(i);
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
    for (const n of this.nodes) {
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
    for (const row of this.proxies) for (const p of row) await p?.close();
    await Promise.all(this.nodes.map((n) => (n.log === null ? undefined : new Promise<void>((resolve) => n.log!.end(() => resolve())))));
    fs.rmSync(this.baseDir, { recursive: true, force: true });
    live.delete(this);
  }
}
