// A client process: one connection to one node at a time, each operation recorded as an
// invoke and a completion. Reply errors are classified by docs/guarantees.md:
//   TRYAGAIN / READONLY / NOQUORUM / EXECABORT / a null EXEC, and command errors: fail (not applied)
//   UNKNOWN, a timeout, a dropped connection: info (outcome unknown)
// On READONLY the operation is retried (within the same invocation: nothing was applied) at
// the leader the reply names.
//
// Reads may instead go to the process's home node (process number mod nodes), as a Jepsen
// client is bound to one node: every node must answer reads linearizably (a follower by
// ReadIndex through the leader), so reads at followers and at isolated nodes are tested too.

import { Cluster, HOST, sleep } from './cluster';
import { History } from './history';
import { CommandTimeout, ConnectionLost, Reply, ReplyError, RespConn } from '@keel/testkit';

export const FAIL_CODES = new Set(['TRYAGAIN', 'READONLY', 'NOQUORUM', 'EXECABORT', 'ERR', 'WRONGTYPE', 'MOVED', 'ASK', 'CLUSTERDOWN']);

/** Thrown by an operation body: the op is a fail (not applied). */
export class OpFail extends Error {}
/** Thrown by an operation body: the op's outcome is unknown. */
export class OpInfo extends Error {}

export function classify(r: ReplyError): 'fail' | 'info' | 'redirect' {
  if (r.code === 'READONLY') return 'redirect';
  if (r.code === 'UNKNOWN') return 'info';
  return FAIL_CODES.has(r.code) ? 'fail' : 'info';
}

/** The session an operation body runs commands through. */
export interface Session {
  /** One command; a ReplyError is thrown as OpFail / OpInfo / a redirect (handled by Client). */
  call(args: Array<string | number>): Promise<Reply>;
  /** One command whose error replies are returned, not thrown (timeouts still throw). */
  raw(args: Array<string | number>): Promise<Reply>;
}

class Redirect extends Error {
  constructor(readonly port: number | undefined, msg: string) {
    super(msg);
  }
}

export interface ClientOptions {
  opTimeoutMs: number;
}

/** Where an operation is sent: the leader (as last known), or the process's home node. */
export type Target = 'leader' | 'home';

/** Shared among the clients: the leader the last READONLY named. */
export class LeaderHint {
  node: number | undefined;
}

export class Client {
  private conn: RespConn | null = null;
  private node: number;
  /** The connection to the home node, and which node it is connected to. */
  private homeConn: RespConn | null = null;
  private homeConnNode = -1;

  constructor(
    public process: number,
    private readonly concurrency: number,
    private readonly cluster: Cluster,
    private readonly history: History,
    private readonly hint: LeaderHint,
    private readonly opts: ClientOptions,
  ) {
    this.node = process % cluster.size;
  }

  private nodeOfPort(port: number | undefined): number | undefined {
    const i = this.cluster.nodes.findIndex((n) => n.port === port);
    return i >= 0 ? i : undefined;
  }

  private async connect(): Promise<RespConn> {
    if (this.conn !== null && !this.conn.closed) return this.conn;
    this.conn = null;
    if (this.hint.node !== undefined && this.cluster.nodes[this.hint.node]?.state === 'up') this.node = this.hint.node;
    for (let attempt = 0; attempt < this.cluster.size; attempt++) {
      const n = this.cluster.nodes[this.node]!;
      try {
        this.conn = await RespConn.connect(HOST, n.port, 500);
        return this.conn;
      } catch {
        this.node = (this.node + 1) % this.cluster.size;
      }
    }
    throw new OpFail('no node accepts connections');
  }

  get home(): number {
    return this.process % this.cluster.size;
  }

  private async connectHome(): Promise<RespConn> {
    const home = this.home;
    if (this.homeConn !== null && !this.homeConn.closed && this.homeConnNode === home) return this.homeConn;
    this.homeConn?.close();
    this.homeConn = null;
    const n = this.cluster.nodes[home]!;
    try {
      this.homeConn = await RespConn.connect(HOST, n.port, 500);
    } catch (e) {
      throw new OpFail(`home node ${n.name}: ${(e as Error).message}`);
    }
    this.homeConnNode = home;
    return this.homeConn;
  }

  close(): void {
    this.conn?.close();
    this.conn = null;
    this.homeConn?.close();
    this.homeConn = null;
  }

  /**
   * Runs one operation: records the invoke, runs body (retrying at the leader on READONLY, up
   * to 3 times), records the completion. body returns the completion's value.
   */
  async invoke(f: string, key: string | undefined, value: unknown, body: (s: Session) => Promise<unknown>, target: Target = 'leader'): Promise<'ok' | 'fail' | 'info'> {
    this.history.add({ type: 'invoke', process: this.process, f, key, value });
    let type: 'ok' | 'fail' | 'info';
    let result: unknown = value;
    let error: string | undefined;
    let node = this.node;
    for (let attempt = 0; ; attempt++) {
      let conn: RespConn;
      try {
        conn = target === 'home' ? await this.connectHome() : await this.connect();
        node = target === 'home' ? this.home : this.node;
      } catch (e) {
        type = 'fail';
        error = (e as Error).message;
        break;
      }
      const timeout = this.opts.opTimeoutMs;
      const session: Session = {
        raw: (args) => conn.cmd(args, timeout),
        call: async (args) => {
          const r = await conn.cmd(args, timeout);
          if (r instanceof ReplyError) {
            const c = classify(r);
            if (c === 'redirect') {
              const m = /\(([^:()]+):(\d+)\)/.exec(r.message);
              throw new Redirect(m === null ? undefined : Number(m[2]), r.message);
            }
            throw c === 'fail' ? new OpFail(r.message) : new OpInfo(r.message);
          }
          return r;
        },
      };
      try {
        result = await body(session);
        type = 'ok';
        break;
      } catch (e) {
        if (e instanceof Redirect && target === 'home') {
          this.close();
          type = 'fail';
          error = e.message;
          break;
        }
        if (e instanceof Redirect) {
          this.close();
          const leader = this.nodeOfPort(e.port);
          if (leader !== undefined) {
            this.hint.node = leader;
            this.node = leader;
          } else {
            this.node = (this.node + 1) % this.cluster.size;
          }
          if (attempt < 3) continue;
          type = 'fail';
          error = e.message;
          break;
        }
        this.close(); // a failed sequence may leave WATCH/MULTI state behind: start afresh
        if (e instanceof OpFail) {
          type = 'fail';
          if (target === 'leader' && /^(TRYAGAIN|NOQUORUM)/.test(e.message)) {
            if (this.hint.node === this.node) this.hint.node = undefined;
            this.node = (this.node + 1) % this.cluster.size;
          }
        } else if (e instanceof OpInfo || e instanceof CommandTimeout || e instanceof ConnectionLost) {
          type = 'info';
          if (target === 'leader') this.node = (this.node + 1) % this.cluster.size;
        } else {
          type = 'info';
        }
        error = (e as Error).message;
        break;
      }
    }
    this.history.add({ type, process: this.process, f, key, value: result, error, node });
    if (type === 'info') this.process += this.concurrency; // retire the process, as Jepsen does
    else if (type === 'fail') await sleep(10);
    return type;
  }
}
