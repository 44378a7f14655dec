// The node process: the TCP listener, the clients, the gates every command passes, and the
// write path. Single-node, a write applies as soon as it is submitted; the replicated shard
// replaces WritePath with one that proposes the op and applies it when committed.

import * as net from 'node:net';
import * as fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BlockRequest, Engine, engineCommands, WriteOp, CommandSpec } from '@keel/engine';
import { BlockedClients } from './blocking';
import { ReplyWriter } from '@keel/resp';
import { Client, ClientHost } from './client';
import { ServerConfig, defaultServerConfig } from './config';
import { canPipeline, dispatch } from './dispatch';
import { serverCommands } from './commands';
import { PubSub } from './pubsub';
import { Log } from './log';

/** Where a write goes: submit(op) must eventually write the op's reply to client.out. */
export interface WritePath {
  submit(client: Client, op: WriteOp): void;
}

/**
 * Where a read of the data goes when this node must confirm it may answer (ReadIndex in a
 * replicated shard): `run` executes the read and writes its reply; the path calls it once the
 * node has applied everything a linearizable read must see, or replies an error instead.
 */
export interface ReadPath {
  submit(client: Client, run: () => void): void;
}

/** The single-node write path: apply at once, with this node's time and a fresh seed. */
export class LocalWritePath implements WritePath {
  private lastTimeMs = 0;
  private seed = 0x2545f491;

  constructor(private readonly server: KeelServer) {}

  submit(client: Client, op: WriteOp): void {
    // Entry times never go backwards, even if the wall clock does.
    this.lastTimeMs = Math.max(this.lastTimeMs, Date.now());
    this.seed = (Math.imul(this.seed, 1103515245) + 12345) >>> 0;
    const blocked = this.server.engine.apply(op, client.out, this.lastTimeMs, this.seed, client);
    this.server.afterWrite(client, op, blocked);
  }
}

/**
 * On a follower, decides where a command of a session that is not yet forwarded runs: here, or
 * (the session moves) at the leader. dispatch asks it after the gates that depend only on the
 * session (command, arity, auth, subscriber context) and before MULTI queues the command.
 */
export interface SessionRouter {
  /** True if it took the command: forwarded the session with it, or answered it. */
  route(client: Client, spec: CommandSpec, argv: string[]): boolean;
}

export interface ServerStats {
  totalConnections: number;
  totalCommands: number;
  rejectedConnections: number;
  startedAtMs: number;
  pubsubOutputLimitDisconnections: number;
}

export class KeelServer implements ClientHost {
  readonly config: ServerConfig;
  readonly engine: Engine;
  readonly clients = new Map<number, Client>();
  readonly pubsub = new PubSub();
  readonly blocking = new BlockedClients((client, op) => this.writePath.submit(client, op));
  readonly stats: ServerStats;
  writePath: WritePath;
  /** Null on a single node that is its own authority: reads then run at once. */
  readPath: ReadPath | null = null;
  /** Null on a node that never forwards sessions (a single node). */
  router: SessionRouter | null = null;
  readonly log: Log;
  /** A random 40-hex-digit id for this run of the process, as Redis's run_id. */
  readonly runId = randomBytes(20).toString('hex');
  port = 0;
  configFile: string | null = null;
  private listener: net.Server | null = null;
  private nextClientId = 1;
  private cronTimer: NodeJS.Timeout | null = null;
  private readSeed = 0x6c078965;
  private shuttingDown = false;

  constructor(config: Partial<ServerConfig> = {}) {
    this.config = { ...defaultServerConfig, ...config };
    // The engine reads its thresholds from the same object, so CONFIG SET reaches it.
    this.engine = new Engine(engineCommands(), this.config);
    this.engine.commands.add(serverCommands(this));
    this.stats = { totalConnections: 0, totalCommands: 0, rejectedConnections: 0, startedAtMs: Date.now(), pubsubOutputLimitDisconnections: 0 };
    this.writePath = new LocalWritePath(this);
    this.log = new Log(this.config.loglevel);
    for (const spec of this.engine.commands.all()) {
      if (!spec.handler && !spec.subcommands) throw new Error(`command ${spec.name} has no handler`);
    }
  }

  get maxQueryBufferBytes(): number {
    return this.config.clientQueryBufferLimit;
  }

  /** Starts listening; resolves with the port actually bound. */
  async listen(): Promise<number> {
    fs.mkdirSync(this.config.dir, { recursive: true });
    const server = net.createServer((socket) => this.onConnection(socket));
    server.maxConnections = this.config.maxclients + 32; // the surplus gets Redis's error reply
    this.listener = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.port, this.config.bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as net.AddressInfo).port;
    this.port = port;
    this.cronTimer = setInterval(() => this.cron(), Math.max(1, Math.floor(1000 / this.config.hz)));
    this.cronTimer.unref();
    return port;
  }

  private onConnection(socket: net.Socket): void {
    if (this.shuttingDown) {
      socket.destroy();
      return;
    }
    if (this.clients.size >= this.config.maxclients) {
      this.stats.rejectedConnections++;
      socket.on('error', () => socket.destroy());
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    this.stats.totalConnections++;
    const c = new Client(this.nextClientId++, socket, this, this.config.requirepass !== '', this.config.protoMaxBulkLen);
    this.clients.set(c.id, c);
  }

  canPipeline(client: Client, argv: string[]): boolean {
    return canPipeline(this, client, argv);
  }

  dispatch(client: Client, argv: string[]): void {
    this.stats.totalCommands++;
    if (client.relay !== null) client.relay.forward(argv);
    else dispatch(this, client, argv);
  }

  /** Runs a non-write command now: a read, or a connection or server command. */
  execute(client: Client, spec: CommandSpec, argv: string[]): void {
    this.readSeed = (Math.imul(this.readSeed, 1103515245) + 12345) >>> 0;
    this.engine.execute(spec, argv, client.out, Date.now(), this.readSeed, client);
  }

  /**
   * After every applied write: park the client if its command blocked, else let it go on
   * (if it was waiting for this write), then wake clients blocked on keys that became ready.
   */
  afterWrite(client: Client, op: WriteOp, blocked: BlockRequest | null, firstDeadlineMs = this.blocking.deadlineOnRetry(client)): void {
    if (blocked !== null) {
      this.blocking.block(client, op, blocked, firstDeadlineMs);
    } else if (client.waiting) {
      client.resume();
    }
    if (this.engine.readyKeys.length !== 0) {
      const ready = this.engine.readyKeys;
      this.engine.readyKeys = [];
      this.blocking.serveReady(ready);
    }
  }

  resetStats(): void {
    const s = this.stats;
    s.totalConnections = s.totalCommands = s.rejectedConnections = s.pubsubOutputLimitDisconnections = 0;
    const e = this.engine.stats;
    e.keyspaceHits = e.keyspaceMisses = e.expiredKeys = 0;
    for (const d of this.engine.dbs) d.expiredOnWrite = 0;
  }

  onClientClosed(client: Client): void {
    if (!this.clients.delete(client.id)) return;
    client.relay?.close();
    this.pubsub.unsubscribeAll(client);
    this.blocking.drop(client);
  }

  checkOutput(client: Client): void {
    const bytes = client.socket.writableLength;
    if (client.subscriptionCount === 0) {
      if (bytes > this.config.outputPauseBytes) client.pauseReading();
      return;
    }
    const cfg = this.config;
    const overHard = cfg.pubsubOutputHardBytes > 0 && bytes > cfg.pubsubOutputHardBytes;
    let overSoft = false;
    if (cfg.pubsubOutputSoftBytes > 0 && bytes > cfg.pubsubOutputSoftBytes) {
      const now = Date.now();
      if (client.softLimitSinceMs === 0) client.softLimitSinceMs = now;
      overSoft = now - client.softLimitSinceMs >= cfg.pubsubOutputSoftSeconds * 1000;
    } else {
      client.softLimitSinceMs = 0;
    }
    if (overHard || overSoft) {
      this.stats.pubsubOutputLimitDisconnections++;
      this.log.warning(`Client id=${client.id} addr=${client.addr} scheduled to be closed ASAP for overcoming of output buffer limits.`);
      client.close();
    }
  }

  /** Periodic work, hz times a second: active expiry, idle timeouts, soft output limits. */
  private cron(): void {
    this.activeExpire();
    const now = Date.now();
    for (const c of this.clients.values()) {
      // A forwarded session is the leader's to time out (its idle timeout closes the relay).
      if (this.config.timeout > 0 && c.subscriptionCount === 0 && !c.waiting && c.relay === null && now - c.lastInteractionMs > this.config.timeout * 1000) {
        c.close();
        continue;
      }
      if (c.softLimitSinceMs !== 0) this.checkOutput(c);
    }
  }

  /** Deletes expired keys through the write path, a bounded batch per database per cycle. */
  private activeExpire(): void {
    const now = Date.now();
    for (let db = 0; db < this.engine.dbs.length; db++) {
      const keys = this.engine.expiredKeys(db, now, 200);
      if (keys.length === 0) continue;
      this.writePath.submit(this.internalClient, { kind: 'expire', db, keys });
    }
    this.internalClient.out.take();
  }

  /** The client that internal writes (expiry) are submitted as; its replies are discarded. */
  private readonly internalClient = { id: 0, db: 0, inExec: false, out: new ReplyWriter() } as unknown as Client;

  /** Stops accepting, closes every client after its pending replies, stops the timers. */
  async close(): Promise<void> {
    this.shuttingDown = true;
    if (this.cronTimer) clearInterval(this.cronTimer);
    for (const c of [...this.clients.values()]) {
      c.flush();
      c.close();
    }
    const l = this.listener;
    this.listener = null;
    if (l) await new Promise<void>((resolve) => l.close(() => resolve()));
  }
}
