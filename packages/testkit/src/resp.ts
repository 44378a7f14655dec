// A small RESP2 client over net for tests and jepsen-lite: one connection, pipelined commands
// answered in order, a per-command timeout (after which the connection is destroyed: its later
// replies could not be matched to their commands any more). Errors come back as ReplyError
// values, not throws; a timeout or a lost connection rejects with ConnectionLost or
// CommandTimeout.

import * as net from 'node:net';

export type Reply = string | number | null | Reply[] | ReplyError;

export class ReplyError {
  constructor(readonly message: string) {}
  get code(): string {
    return this.message.split(' ')[0]!;
  }
  toString(): string {
    return `-${this.message}`;
  }
}

export class ConnectionLost extends Error {}
export class CommandTimeout extends Error {}

export class RespConn {
  private buf: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<{ resolve: (r: Reply) => void; reject: (e: Error) => void }> = [];
  closed = false;

  private constructor(private readonly s: net.Socket, readonly port: number) {
    s.setNoDelay(true);
    s.on('data', (d) => this.onData(d));
    s.on('error', () => {});
    s.on('close', () => this.fail(new ConnectionLost('connection closed')));
  }

  static connect(host: string, port: number, timeoutMs = 1000): Promise<RespConn> {
    return new Promise((resolve, reject) => {
      const s = net.createConnection({ host, port });
      const t = setTimeout(() => {
        s.destroy();
        reject(new ConnectionLost(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(t);
        s.removeAllListeners('error');
        resolve(new RespConn(s, port));
      });
      s.once('error', (e) => {
        clearTimeout(t);
        s.destroy();
        reject(new ConnectionLost(`connect to ${host}:${port}: ${e.message}`));
      });
    });
  }

  cmd(args: Array<string | number>, timeoutMs = 10000): Promise<Reply> {
    if (this.closed) return Promise.reject(new ConnectionLost('connection closed'));
    const parts = [`*${args.length}\r\n`];
    for (const a of args) {
      const b = String(a);
      parts.push(`$${Buffer.byteLength(b)}\r\n${b}\r\n`);
    }
    this.s.write(parts.join(''));
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        reject(new CommandTimeout(`no reply to ${args[0]} within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      this.waiting.push({
        resolve: (r) => (clearTimeout(t), resolve(r)),
        reject: (e) => (clearTimeout(t), reject(e)),
      });
    });
  }

  close(): void {
    this.s.destroy();
    this.fail(new ConnectionLost('connection closed'));
  }

  private fail(e: Error): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(e);
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    for (;;) {
      let r: { value: Reply; end: number } | undefined;
      try {
        r = parse(this.buf, 0);
      } catch (e) {
        this.s.destroy();
        this.fail(new ConnectionLost(`protocol error: ${(e as Error).message}`));
        return;
      }
      if (r === undefined) return;
      this.buf = this.buf.subarray(r.end);
      this.waiting.shift()?.resolve(r.value);
    }
  }
}

function parse(b: Buffer, at: number): { value: Reply; end: number } | undefined {
  const nl = b.indexOf('\r\n', at);
  if (nl < 0) return undefined;
  const line = b.toString('utf8', at + 1, nl);
  const t = b[at];
  if (t === 0x2b) return { value: line, end: nl + 2 };
  if (t === 0x2d) return { value: new ReplyError(line), end: nl + 2 };
  if (t === 0x3a) return { value: Number(line), end: nl + 2 };
  if (t === 0x24) {
    const n = Number(line);
    if (n < 0) return { value: null, end: nl + 2 };
    if (b.length < nl + 2 + n + 2) return undefined;
    return { value: b.toString('utf8', nl + 2, nl + 2 + n), end: nl + 2 + n + 2 };
  }
  if (t === 0x2a) {
    const n = Number(line);
    if (n < 0) return { value: null, end: nl + 2 };
    const out: Reply[] = [];
    let p = nl + 2;
    for (let i = 0; i < n; i++) {
      const r = parse(b, p);
      if (r === undefined) return undefined;
      out.push(r.value);
      p = r.end;
    }
    return { value: out, end: p };
  }
  throw new Error(`bad reply type byte ${t}`);
}
