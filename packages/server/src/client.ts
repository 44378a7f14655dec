// One client connection: its socket, its request decoder and reply writer, and the per-client
// state Redis keeps in `client` (selected database, protocol, transaction, subscriptions).
//
// Commands are processed strictly in order. A command may leave the client `waiting` (a write
// awaiting its commit, a blocked BLPOP); later commands queue until it completes, so replies
// stay in order and a read after a write sees the write.

import type { Socket } from 'node:net';
import { RequestDecoder, ReplyWriter } from '@keel/resp';
import type { ClientView, CommandSpec, WatchToken } from '@keel/engine';

/** Commands queued while a client waits, before reading from its socket pauses. */
const QUEUED_COMMANDS_MAX = 16 * 1024;

export interface ClientHost {
  dispatch(client: Client, argv: string[]): void;
  onClientClosed(client: Client): void;
  /** Enforces the output buffer limits after a write (may close or pause the client). */
  checkOutput(client: Client): void;
  /** May argv go out now, behind the writes this client has in flight? (see Client.onCommand) */
  canPipeline(client: Client, argv: string[]): boolean;
  readonly maxQueryBufferBytes: number;
}

/**
 * Where a client's commands go once its session is forwarded to another node (a follower
 * relaying to its leader: replication/leader-proxy.ts). Set, the client runs no command itself:
 * every decoded command goes to forward(), and the other node's replies reach the socket.
 */
export interface ClientRelay {
  forward(argv: string[]): void;
  /** The client's socket drained (the relay may read from the other node again). */
  onClientDrain(): void;
  /** The decoder failed after the commands forwarded so far: the error is sent after their replies. */
  onProtocolError(err: string): void;
  /** The client closed. */
  close(): void;
}

export class Client implements ClientView {
  db = 0;
  inExec = false;
  name = '';
  private authed = false;
  readonly out = new ReplyWriter();
  readonly decoder: RequestDecoder;
  readonly createdAtMs = Date.now();
  lastInteractionMs = this.createdAtMs;
  lastCommand = 'NULL';

  /** MULTI: the queued commands, or null when not in a transaction. */
  multi: string[][] | null = null;
  /** A command failed to queue: EXEC will abort. */
  multiError = false;
  watches: WatchToken[] = [];

  readonly channels = new Set<string>();
  readonly patterns = new Set<string>();

  /** Set while a command is in progress asynchronously; later commands queue. */
  waiting = false;
  /** Writes submitted and not yet answered (the replicated write path keeps this count). */
  writesInFlight = 0;
  /** The log index of this client's last applied write (replicated shard; WAIT counts on it). */
  lastWriteIndex = 0;
  /** Set when this session is forwarded to the leader (see ClientRelay). */
  relay: ClientRelay | null = null;
  /** READONLY was sent: on a follower, reads run here, possibly stale (docs/guarantees.md). */
  readonlyReads = false;
  /** This session was forwarded here by the follower with this raft id (0: a direct client). */
  forwardedFrom = 0;
  /** A forwarded session: the client's address as the follower saw it (CLIENT LIST's addr). */
  forwardedAddr = '';
  /** The last command dispatched (a blocking one stops a pipeline behind it). */
  lastSpec: CommandSpec | null = null;
  private readonly queue: string[][] = [];
  closing = false;
  private closed = false;
  /** When the output first went over the soft limit (pub/sub clients), or 0. */
  softLimitSinceMs = 0;
  private readPaused = false;
  /** A protocol error found behind commands still in progress: replied once they are. */
  private protocolError: string | null = null;
  private flushScheduled = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly host: ClientHost,
    needsAuth: boolean,
    maxBulkBytes: number,
  ) {
    this.decoder = new RequestDecoder({ maxBulkBytes });
    this.authenticated = !needsAuth;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  /** Until a client authenticates, the decoder applies Redis's smaller request limits. */
  get authenticated(): boolean {
    return this.authed;
  }

  set authenticated(v: boolean) {
    this.authed = v;
    this.decoder.authRequired = !v;
  }

  get protocol(): 2 | 3 {
    return this.out.protocol;
  }

  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }

  /** The client's address: for a session a follower forwarded here, the client's own, not the follower's. */
  get addr(): string {
    return this.forwardedAddr !== '' ? this.forwardedAddr : `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  get laddr(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  private readonly onCommand = (argv: string[]): void => {
    if (this.closing || this.protocolError !== null) return;
    // While only writes are in flight, more writes go out at once: the log keeps their order
    // and the write path answers them in order. Anything else waits for them.
    const pipeline = this.queue.length === 0 && this.waiting && this.writesInFlight !== 0 && this.host.canPipeline(this, argv);
    if (!pipeline && (this.waiting || this.queue.length !== 0)) {
      this.queue.push(argv);
      if (this.queue.length >= QUEUED_COMMANDS_MAX) this.pauseReading();
      return;
    }
    this.host.dispatch(this, argv);
  };

  private onData(chunk: Buffer): void {
    if (this.closing) return;
    this.lastInteractionMs = Date.now();
    const err = this.decoder.feed(chunk, this.onCommand);
    if (err !== null) {
      // The commands before the bad bytes are answered first, then the error, then the close.
      if (this.relay !== null && !this.waiting && this.queue.length === 0) {
        this.pauseReading();
        this.relay.onProtocolError(err);
      } else if (this.waiting || this.queue.length !== 0) {
        this.protocolError = err;
        this.pauseReading();
      } else {
        this.out.error(err);
        this.closeAfterReply();
      }
    } else if (this.decoder.pendingBytes > this.host.maxQueryBufferBytes) {
      this.closing = true; // Redis closes without a reply when the query buffer overflows.
    }
    this.flush();
  }

  /** Called when an asynchronous command completed: runs the commands queued behind it. */
  resume(): void {
    this.waiting = false;
    // Run the queue; behind a write in flight, further writes go out too (see onCommand).
    while (!this.closing && this.queue.length !== 0) {
      if (this.waiting && !(this.writesInFlight !== 0 && this.host.canPipeline(this, this.queue[0]!))) break;
      this.host.dispatch(this, this.queue.shift()!);
    }
    if (this.protocolError !== null && !this.waiting && this.queue.length === 0 && !this.closing) {
      if (this.relay !== null) {
        this.relay.onProtocolError(this.protocolError);
      } else {
        this.out.error(this.protocolError);
        this.closeAfterReply();
      }
    }
    if (this.queue.length < QUEUED_COMMANDS_MAX / 2) this.resumeReading();
    this.flush();
  }

  /** Sends what the writer holds now. */
  flush(): void {
    this.flushScheduled = false;
    if (this.closed) return;
    const buf = this.out.take();
    if (buf !== null) {
      this.socket.write(buf);
      this.host.checkOutput(this);
    }
    if (this.closing && !this.closed) {
      this.socket.end();
      this.closed = true;
      this.host.onClientClosed(this);
    }
  }

  /** Flushes at the end of this event-loop turn (for output not caused by the client's own input). */
  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  closeAfterReply(): void {
    this.closing = true;
  }

  /** Bytes of replies not yet taken by the kernel. */
  get outputBytes(): number {
    return this.socket.writableLength + this.out.length;
  }

  pauseReading(): void {
    if (this.readPaused) return;
    this.readPaused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.readPaused || this.waiting) return;
    this.readPaused = false;
    this.socket.resume();
  }

  private onDrain(): void {
    this.softLimitSinceMs = 0;
    if (this.relay !== null && !this.waiting) {
      this.relay.onClientDrain();
      return;
    }
    if (this.queue.length < QUEUED_COMMANDS_MAX / 2) this.resumeReading();
  }

  /** Closes at once, dropping anything unsent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.socket.destroy();
    this.host.onClientClosed(this);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get queuedCommands(): number {
    return this.queue.length;
  }
}
