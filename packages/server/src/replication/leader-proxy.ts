// Sessions on a follower (docs/guarantees.md, "Clients of a follower"). A client connected to
// a follower gets the leader's semantics: on its first command that needs the leader, the
// follower opens one connection to the leader's client port for that session, replays the
// session's state on it (AUTH, KEEL.PROXY FROM, HELLO 3, CLIENT SETNAME, SELECT), and from then
// on relays every command of the client to the leader and the leader's reply bytes back, in
// order. MULTI, WATCH, blocking commands, pub/sub, CLIENT and QUIT are then the leader's own.
//
//   client --RESP--> follower: Client decoder --argv--> ForwardedSession --RESP--> leader
//   client <--bytes-- follower <--------------- raw reply bytes --------------------- leader
//
// - A session that sent READONLY is never forwarded: its reads run on this node, possibly
//   stale, its writes are refused with READONLY naming the leader (Redis Cluster's replicas).
// - Commands that do not need the leader (HELLO, AUTH, SELECT, PING, ECHO, INFO, CONFIG, CLIENT,
//   COMMAND, TIME, KEEL.*, WAIT, READONLY, READWRITE) run here until the session is forwarded;
//   from then on everything goes to the leader.
// - A session forwarded here from another node (KEEL.PROXY FROM) is never forwarded again.
// - Bounded: sessionsMax forwarded sessions at once; each direction stops reading its source
//   while bufferBytesMax bytes wait for the other side; connect + handshake within
//   connectTimeoutMs. A failed connect is remembered for FAILURE_HOLD_MS, so that a pipeline
//   behind it fails fast instead of trying once per command.
// - A node that is stopping (SIGTERM: ShardNode.handOff) forwards no new session: its commands
//   are answered as before forwarding existed (a write: READONLY naming the leader), so that
//   a client moves to the leader before this node exits. On close, each open forwarded session
//   is drained: the client is no longer read, KEEL.PROXY END goes behind its commands, and the
//   leader closes the connection once it has answered them (bounded by drain's timeout).
// - When the leader this node knows changes, or the connection to it breaks, the client's
//   connection is closed (as a Redis failover does): commands it had in flight have an unknown
//   outcome, as for any dropped connection. When this node stops leading, it closes the
//   sessions forwarded to it and its own subscribers, so that they reconnect to the leader.

import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Call, command, CommandError, CommandSpec } from '@keel/engine';
import { NONE, NodeId, SoftState } from '@keel/raft';
import type { Client, ClientRelay } from '../client';
import type { KeelServer, SessionRouter } from '../server';
import type { RaftDriver } from './driver';
import * as E from './errors';

export interface LeaderProxyOptions {
  /** Sessions forwarded at once (one connection to the leader each); 0: never forward. */
  sessionsMax: number;
  /** The client address (host:port) of a node. */
  addressOf(id: NodeId): string | undefined;
  /** Connect and handshake bound. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Bytes waiting to be written to one side before the other side's reading pauses. Default 1 MiB. */
  bufferBytesMax?: number;
}

/** How long a failure to reach a leader is answered at once, without trying again. */
const FAILURE_HOLD_MS = 250;
/** The handshake's replies are a few short frames (HELLO 3's map is the largest). */
const HANDSHAKE_BYTES_MAX = 64 * 1024;
const DEFAULT_BUFFER_BYTES_MAX = 1024 * 1024;

/** Whether a command needs the leader: it reads or writes the data, or is a transaction or pub/sub. */
export function needsLeader(spec: CommandSpec): boolean {
  if (spec.isWrite || spec.isReadonly) return true;
  if (spec.group === 'transactions' || spec.group === 'pubsub') return true;
  return spec.flags.includes('blocking');
}

export interface ForwardStats {
  /** Sessions forwarded now (connecting or open). */
  sessions: number;
  sessionsTotal: number;
  commands: number;
  connectFailures: number;
  /** Closed because the leader changed, or the connection to it broke. */
  closedLeaderChange: number;
  closedUpstream: number;
}

export class LeaderProxy implements SessionRouter {
  private readonly sessions = new Set<ForwardedSession>();
  private failure: { leader: NodeId; atMs: number; error: string } | null = null;
  private wasLeader = false;
  private stopping = false;
  readonly connectTimeoutMs: number;
  readonly bufferBytesMax: number;
  readonly stats: ForwardStats = { sessions: 0, sessionsTotal: 0, commands: 0, connectFailures: 0, closedLeaderChange: 0, closedUpstream: 0 };

  constructor(
    readonly server: KeelServer,
    private readonly driver: RaftDriver,
    readonly opts: LeaderProxyOptions,
  ) {
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 2000;
    this.bufferBytesMax = opts.bufferBytesMax ?? DEFAULT_BUFFER_BYTES_MAX;
  }

  get nodeId(): NodeId {
    return this.driver.id;
  }

  route(client: Client, spec: CommandSpec, argv: string[]): boolean {
    if (this.driver.isLeader || client.forwardedFrom !== 0 || client.readonlyReads || !needsLeader(spec)) return false;
    if (this.opts.sessionsMax === 0 || this.stopping) return false;
    // State the session built while this node led stays here: its commands are answered by the
    // local paths (a write or EXEC: READONLY, not executed) until it is clean.
    if (client.multi !== null || client.watches.length !== 0 || client.subscriptionCount !== 0 || client.writesInFlight !== 0) return false;
    const lead = this.driver.leader;
    if (lead === NONE) {
      client.out.error(E.ERR_NO_LEADER);
      return true;
    }
    const address = this.opts.addressOf(lead);
    if (address === undefined) return false; // nowhere to forward: READONLY names the leader
    const f = this.failure;
    if (f !== null && f.leader === lead && performance.now() - f.atMs < FAILURE_HOLD_MS) {
      client.out.error(f.error);
      return true;
    }
    if (this.sessions.size >= this.opts.sessionsMax) {
      client.out.error(E.errTooManyForwarded(this.opts.sessionsMax, lead, address));
      return true;
    }
    const s = new ForwardedSession(this, client, lead, address, argv);
    this.sessions.add(s);
    this.stats.sessions = this.sessions.size;
    this.stats.sessionsTotal++;
    s.start();
    return true;
  }

  /** The leader, or this node's role, changed. */
  onSoftState(ss: SoftState): void {
    if (ss.lead !== NONE) {
      for (const s of [...this.sessions]) if (s.target !== ss.lead) s.closeForLeaderChange();
    }
    const leading = ss.raftState === 'leader';
    if (this.wasLeader && !leading) this.closeLeaderSessions();
    this.wasLeader = leading;
  }

  /**
   * This node stopped leading: the sessions forwarded to it, and its own subscribers (whose
   * publishers now reach the new leader), are closed, so that they reconnect and are forwarded
   * there. A client with writes in flight is closed after their replies.
   */
  private closeLeaderSessions(): void {
    for (const c of [...this.server.clients.values()]) {
      const subscriber = c.subscriptionCount !== 0 && c.relay === null && !c.readonlyReads;
      if (c.forwardedFrom === 0 && !subscriber) continue;
      c.closeAfterReply();
      if (c.writesInFlight === 0) c.flush();
    }
  }

  onFailed(s: ForwardedSession, error: string): void {
    this.stats.connectFailures++;
    this.failure = { leader: s.target, atMs: performance.now(), error };
    this.remove(s);
  }

  remove(s: ForwardedSession): void {
    this.sessions.delete(s);
    this.stats.sessions = this.sessions.size;
  }

  /** The node is stopping: no new session is forwarded. */
  stopForwarding(): void {
    this.stopping = true;
  }

  /**
   * The node stops: each open session's client is no longer read, and the leader closes the
   * session once it has answered the commands already forwarded (KEEL.PROXY END). Resolves
   * when every session ended, or after timeoutMs, when the rest are closed at once.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.stopping = true;
    for (const s of [...this.sessions]) s.end();
    const deadline = performance.now() + timeoutMs;
    while (this.sessions.size !== 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const s of [...this.sessions]) s.closeForLeaderChange();
  }
}

type State = 'connecting' | 'open' | 'closed';

/** One client's session at the leader. */
class ForwardedSession implements ClientRelay {
  private state: State = 'connecting';
  private upstream: net.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private handshake: Buffer = Buffer.alloc(0);
  private handshakeLeft = 0;
  private upstreamError: string | null = null;
  private corked = false;
  /** KEEL.PROXY FAIL or END was sent (or the session failed): nothing more is forwarded. */
  private finished = false;
  private first: string[] | null;

  constructor(
    private readonly proxy: LeaderProxy,
    private readonly client: Client,
    readonly target: NodeId,
    private readonly address: string,
    first: string[],
  ) {
    this.first = first;
  }

  start(): void {
    const c = this.client;
    c.relay = this;
    c.waiting = true; // the client's next commands queue until the session is open
    const i = this.address.lastIndexOf(':');
    const host = this.address.slice(0, i);
    const port = Number(this.address.slice(i + 1));
    if (i < 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
      this.fail(`'${this.address}' is not host:port`);
      return;
    }
    const sock = net.createConnection({ host, port });
    this.upstream = sock;
    sock.setNoDelay(true);
    this.timer = setTimeout(() => this.fail(`no session within ${this.proxy.connectTimeoutMs} ms`), this.proxy.connectTimeoutMs);
    sock.on('connect', () => this.sendHandshake());
    sock.on('data', (chunk: Buffer) => this.onUpstreamData(chunk));
    sock.on('drain', () => {
      if (this.state === 'open' && !this.finished) this.client.resumeReading();
    });
    sock.on('error', (e) => (this.upstreamError ??= e.message));
    sock.on('close', () => this.onUpstreamClose());
  }

  /** Replays the session's state at the leader; the client's commands wait for its replies. */
  private sendHandshake(): void {
    if (this.state !== 'connecting') return;
    const c = this.client;
    const cmds: string[][] = [];
    const pass = this.proxy.server.config.requirepass;
    if (pass !== '') cmds.push(['AUTH', pass]);
    cmds.push(['KEEL.PROXY', 'FROM', String(this.proxy.nodeId), c.addr]);
    if (c.protocol === 3) cmds.push(['HELLO', '3']);
    if (c.name !== '') cmds.push(['CLIENT', 'SETNAME', c.name]);
    if (c.db !== 0) cmds.push(['SELECT', String(c.db)]);
    this.handshakeLeft = cmds.length;
    this.upstream!.write(Buffer.concat(cmds.map(encodeCommand)));
  }

  private onUpstreamData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    if (this.state === 'connecting') {
      this.handshake = this.handshake.length === 0 ? chunk : Buffer.concat([this.handshake, chunk]);
      let pos = 0;
      while (this.handshakeLeft > 0) {
        const end = replyEnd(this.handshake, pos, 0);
        if (end === -2) return this.fail('the leader answered with a malformed reply');
        if (end < 0) break;
        const t = this.handshake[pos];
        if (t === 0x2d /* - */ || t === 0x21 /* ! */) {
          const line = this.handshake.subarray(pos + 1, this.handshake.indexOf(13, pos)).toString('latin1');
          return this.fail(`the leader refused the session: ${line}`);
        }
        this.handshakeLeft--;
        pos = end;
      }
      this.handshake = this.handshake.subarray(pos);
      if (this.handshakeLeft > 0) {
        if (this.handshake.length > HANDSHAKE_BYTES_MAX) this.fail('the leader answered more than the handshake');
        return;
      }
      const rest = this.handshake;
      this.handshake = Buffer.alloc(0);
      this.open();
      if (rest.length > 0) this.toClient(rest);
      return;
    }
    this.toClient(chunk);
  }

  private toClient(bytes: Buffer): void {
    const c = this.client;
    if (c.isClosed) return;
    c.flush(); // anything this node answered before the session moved goes first
    c.socket.write(bytes);
    c.lastInteractionMs = Date.now();
    if (c.socket.writableLength > this.proxy.bufferBytesMax) this.upstream!.pause();
  }

  /** The handshake succeeded: the first command goes, then those queued behind it. */
  private open(): void {
    this.clearTimer();
    this.state = 'open';
    const first = this.first!;
    this.first = null;
    this.forward(first);
    this.client.resume();
  }

  forward(argv: string[]): void {
    if (this.finished) return; // after KEEL.PROXY FAIL or END nothing more is sent
    this.send(argv);
  }

  private send(argv: string[]): void {
    if (this.state !== 'open') throw new Error(`a command forwarded in state ${this.state}`);
    const up = this.upstream!;
    this.proxy.stats.commands++;
    if (!this.corked) {
      // One write to the leader per event-loop turn, however many commands came in it.
      this.corked = true;
      up.cork();
      process.nextTick(() => {
        this.corked = false;
        up.uncork();
      });
    }
    up.write(encodeCommand(argv));
    if (up.writableLength > this.proxy.bufferBytesMax) this.client.pauseReading();
  }

  /** Ends the session after the leader answered what was forwarded (see LeaderProxy.drain). */
  end(): void {
    if (this.state === 'connecting') {
      this.closeForLeaderChange();
      return;
    }
    if (this.state !== 'open' || this.finished) return;
    this.finished = true; // nothing more is forwarded
    this.client.pauseReading();
    this.send(['KEEL.PROXY', 'END']);
  }

  /** The client's socket drained: read the leader again, and the client if the leader has room. */
  onClientDrain(): void {
    if (this.state !== 'open') return;
    const up = this.upstream!;
    up.resume();
    if (!this.finished && up.writableLength <= this.proxy.bufferBytesMax) this.client.resumeReading();
  }

  /**
   * The client sent bytes that are not RESP after the commands forwarded so far: the leader
   * replies to those, then (KEEL.PROXY FAIL) with this error, and closes; so does the client.
   */
  onProtocolError(err: string): void {
    if (this.finished) return;
    if (this.state === 'open') {
      this.send(['KEEL.PROXY', 'FAIL', err]);
      this.finished = true;
      return;
    }
    this.finished = true;
    const c = this.client;
    c.out.error(err);
    c.closeAfterReply();
    c.flush();
  }

  /** The connect or the handshake failed: the first command was not executed, the session stays here. */
  private fail(reason: string): void {
    if (this.state !== 'connecting') return;
    this.state = 'closed';
    this.clearTimer();
    this.upstream?.destroy();
    const err = E.errLeaderUnreachable(this.target, this.address, reason);
    this.proxy.onFailed(this, err);
    this.revert(err);
  }

  /** Back to a local session, answering the first command with err. */
  private revert(err: string): void {
    const c = this.client;
    c.relay = null;
    if (c.isClosed) return;
    c.out.error(err);
    c.resume();
  }

  private onUpstreamClose(): void {
    if (this.state === 'connecting') {
      this.fail(this.upstreamError ?? 'the leader closed the connection');
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.proxy.stats.closedUpstream++;
    this.proxy.remove(this);
    this.endClient();
  }

  /** The leader changed: the client is closed (an open session), or told and kept (connecting). */
  closeForLeaderChange(): void {
    if (this.state === 'connecting') {
      this.state = 'closed';
      this.clearTimer();
      this.upstream?.destroy();
      this.proxy.remove(this);
      this.revert(E.ERR_FORWARD_LEADER_CHANGED);
      return;
    }
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.proxy.stats.closedLeaderChange++;
    this.proxy.remove(this);
    this.upstream!.destroy();
    this.endClient();
  }

  /** Ends the client's connection after the bytes already relayed. */
  private endClient(): void {
    const c = this.client;
    if (c.isClosed) return;
    c.closeAfterReply();
    c.flush();
  }

  /** The client closed. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    this.upstream?.destroy();
    this.proxy.remove(this);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** A command as a RESP multibulk (arguments are binary strings: one char a byte). */
export function encodeCommand(argv: string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

const REPLY_DEPTH_MAX = 16;

/**
 * The end of the RESP2/RESP3 reply that starts at pos, -1 if it is incomplete, -2 if the bytes
 * are not RESP (or nest deeper than REPLY_DEPTH_MAX). For the handshake's few short replies.
 */
export function replyEnd(buf: Buffer, pos: number, depth: number): number {
  if (pos >= buf.length) return -1;
  if (depth > REPLY_DEPTH_MAX) return -2;
  const lf = buf.indexOf(10, pos);
  if (lf < 0) return -1;
  if (lf === pos || buf[lf - 1] !== 13) return -2;
  const type = buf[pos]!;
  const next = lf + 1;
  const line = buf.subarray(pos + 1, lf - 1).toString('latin1');
  switch (String.fromCharCode(type)) {
    case '+': case '-': case ':': case '_': case '#': case ',': case '(':
      return next;
    case '$': case '!': case '=': {
      const n = Number(line);
      if (!Number.isSafeInteger(n) || n < -1) return -2;
      if (n === -1) return next;
      const end = next + n + 2;
      if (end > buf.length) return -1;
      return buf[end - 2] === 13 && buf[end - 1] === 10 ? end : -2;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(line);
      if (!Number.isSafeInteger(n) || n < -1) return -2;
      if (n === -1) return next;
      if (type === 0x25 /* % */ || type === 0x7c /* | */) n *= 2;
      let p = next;
      for (let i = 0; i < n; i++) {
        p = replyEnd(buf, p, depth + 1);
        if (p < 0) return p;
      }
      return type === 0x7c ? replyEnd(buf, p, depth + 1) : p; // an attribute precedes its reply
    }
    default:
      return -2;
  }
}

// --- commands -------------------------------------------------------------------------------

/**
 * READONLY / READWRITE (Redis Cluster's names): a READONLY session on a follower reads this
 * node's state, possibly stale, and is never forwarded. KEEL.PROXY FROM <node> <addr> marks a
 * session as forwarded from another node (never forwarded again), on the leader only; KEEL.PROXY FAIL <error>
 * answers that error and closes, in order after the commands before it (a protocol error the
 * follower found in the client's bytes); KEEL.PROXY END closes after the commands before it,
 * with no reply of its own (the follower is stopping).
 */
export function followerCommands(node: { readonly id: NodeId; readonly driver: { readonly isLeader: boolean } }): CommandSpec[] {
  const client = (c: Call) => c.client as unknown as Client;
  function proxy(c: Call): void {
    const sub = c.argv[1]!.toLowerCase();
    const cl = client(c);
    if (sub === 'from' && c.argv.length === 4) {
      const id = Number(c.argv[2]);
      if (!Number.isSafeInteger(id) || id < 1) throw new CommandError(`ERR '${c.argv[2]}' is not a raft id`);
      // The follower's view of the leader may be out of date: a session goes only to the leader.
      if (!node.driver.isLeader) throw new CommandError(`TRYAGAIN node ${node.id} is not the leader (any more)`);
      cl.forwardedFrom = id;
      // The client's address as the follower saw it, for CLIENT LIST (kept only if it looks like one).
      const addr = c.argv[3]!;
      if (addr.length <= 256 && /^\S+:\d+$/.test(addr)) cl.forwardedAddr = addr;
      c.out.ok();
    } else if (sub === 'end' && c.argv.length === 2) {
      if (cl.forwardedFrom === 0) throw new CommandError('ERR KEEL.PROXY END is for sessions forwarded by a follower');
      cl.closeAfterReply(); // no reply of its own: the client never sent it
    } else if (sub === 'fail' && c.argv.length === 3) {
      if (cl.forwardedFrom === 0) throw new CommandError('ERR KEEL.PROXY FAIL is for sessions forwarded by a follower');
      c.out.error(c.argv[2]!.replace(/[\r\n]/g, ' ')); // one line, whatever it was sent
      cl.closeAfterReply();
    } else {
      throw new CommandError('ERR syntax error: KEEL.PROXY FROM <raft id> <client address> | FAIL <error> | END');
    }
  }
  const flags = ['fast', 'loading', 'stale'] as const;
  return [
    command('readonly', 1, [...flags], [0, 0, 0], 'cluster', '3.0.0', 'Enables read queries for a connection to a follower: reads run on that node, possibly stale.', (c) => {
      client(c).readonlyReads = true;
      c.out.ok();
    }),
    command('readwrite', 1, [...flags], [0, 0, 0], 'cluster', '3.0.0', 'Disables read queries on a follower for a connection (the default: linearizable reads at the leader).', (c) => {
      client(c).readonlyReads = false;
      c.out.ok();
    }),
    command('keel.proxy', -2, ['admin', 'noscript', ...flags], [0, 0, 0], 'server', '0.1.0', 'Marks a session forwarded by a follower to this node (internal).', proxy),
  ];
}
