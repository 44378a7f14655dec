// `keel cluster status | transfer-leader | add-node | remove-node`: talk to a running node over RESP.
//
//   status           INFO replication of the node (and of the leader, for the per-peer lags)
//   transfer-leader  KEEL.TRANSFERLEADER <node>, answered once leadership moved
//   add-node         KEEL.ADDNODE <node> <host:port[@clusterport]>, answered once it is a voter
//   remove-node      KEEL.REMOVENODE <node>, answered once the removal applied
//
// A follower answers the admin commands READONLY naming the leader; they are then sent there.

import * as net from 'node:net';

export type Reply = string | number | null | Reply[] | { error: string };

/** One RESP2 request and its reply, on a fresh connection (bounded by timeoutMs). */
export function request(host: string, port: number, args: string[], timeoutMs = 10000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection({ host, port });
    let buf = Buffer.alloc(0);
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`no reply from ${host}:${port} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (f: () => void) => {
      clearTimeout(t);
      s.destroy();
      f();
    };
    s.on('connect', () => s.write(args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).reduce((acc, p) => acc + p, `*${args.length}\r\n`)));
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parse(buf, 0);
      if (r !== undefined) done(() => resolve(r.value));
    });
    s.on('error', (e) => done(() => reject(new Error(`cannot reach ${host}:${port}: ${e.message}`))));
    s.on('close', () => done(() => reject(new Error(`${host}:${port} closed the connection`))));
  });
}

function parse(b: Buffer, at: number): { value: Reply; end: number } | undefined {
  const nl = b.indexOf('\r\n', at);
  if (nl < 0) return undefined;
  const line = b.toString('utf8', at + 1, nl);
  const t = String.fromCharCode(b[at]!);
  if (t === '+') return { value: line, end: nl + 2 };
  if (t === '-') return { value: { error: line }, end: nl + 2 };
  if (t === ':') return { value: Number(line), end: nl + 2 };
  if (t === '$' || t === '=') {
    const n = Number(line);
    if (n < 0) return { value: null, end: nl + 2 };
    if (b.length < nl + 2 + n + 2) return undefined;
    let v = b.toString('utf8', nl + 2, nl + 2 + n);
    if (t === '=') v = v.slice(4);
    return { value: v, end: nl + 2 + n + 2 };
  }
  if (t === '*') {
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
  throw new Error(`unexpected reply byte '${t}'`);
}

/** INFO text as a field map. */
export function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

async function info(host: string, port: number): Promise<Map<string, string>> {
  const r = await request(host, port, ['INFO', 'replication']);
  if (typeof r !== 'string') throw new Error(`INFO replication on ${host}:${port}: ${r !== null && typeof r === 'object' && 'error' in r ? r.error : 'unexpected reply'}`);
  const m = parseInfo(r);
  if (!m.has('raft_node_id')) throw new Error(`${host}:${port} is not a replicated Keel node (INFO replication has no raft fields)`);
  return m;
}

function peerLines(m: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [k, v] of m) {
    const id = /^raft_peer_(\d+)$/.exec(k)?.[1];
    if (id === undefined) continue;
    const f = Object.fromEntries(v.split(',').map((kv) => kv.split('=') as [string, string]));
    lines.push(`  n${id}  ${(f['address'] ?? '').padEnd(21)} match ${f['match']}  lag ${f['lag_entries']} entries, ${f['lag_ms'] === '-1' ? 'never acknowledged' : `${f['lag_ms']} ms since last ack`}  ${f['state']}${f['learner'] === '1' ? '  (learner)' : ''}`);
  }
  return lines;
}

export async function runClusterStatus(host: string, port: number, json: boolean): Promise<number> {
  const me = await info(host, port);
  let leaderInfo: Map<string, string> | null = me.get('role') === 'master' ? me : null;
  const leaderAddr = me.get('raft_leader_address') ?? '';
  if (leaderInfo === null && leaderAddr !== '') {
    const i = leaderAddr.lastIndexOf(':');
    leaderInfo = await info(leaderAddr.slice(0, i), Number(leaderAddr.slice(i + 1))).catch(() => null);
  }
  if (json) {
    process.stdout.write(JSON.stringify({ node: Object.fromEntries(me), leader: leaderInfo === null ? null : Object.fromEntries(leaderInfo) }, null, 2) + '\n');
    return 0;
  }
  const lead = me.get('raft_leader');
  const out = [
    `node:     n${me.get('raft_node_id')} (${host}:${port}), ${me.get('raft_state')} (role ${me.get('role')})`,
    `term:     ${me.get('raft_term')}`,
    `leader:   ${lead === '0' ? 'unknown' : `n${lead} (${leaderAddr})`}`,
    `members:`,
    ...memberLines(me),
    `indexes:  commit ${me.get('raft_commit_index')}, applied ${me.get('raft_applied_index')}, last ${me.get('raft_last_index')}, snapshot ${me.get('raft_snapshot_index')}`,
  ];
  if (me.get('raft_this_node_removed') === '1') out.push('this node was REMOVED from the shard: it serves no reads or writes');
  if ((me.get('raft_removed') ?? '') !== '') out.push(`removed:  ${(me.get('raft_removed') ?? '').split(',').map((id) => `n${id}`).join(', ')}`);
  if (leaderInfo !== null) {
    out.push(`peers (as the leader n${leaderInfo.get('raft_node_id')} sees them, its commit index ${leaderInfo.get('raft_commit_index')}):`);
    out.push(...peerLines(leaderInfo));
  } else {
    out.push('peers:    (no leader reachable to report them)');
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}

/** One line per member of the configuration: role and addresses (INFO's raft_member_<id> fields). */
function memberLines(m: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [k, v] of m) {
    const id = /^raft_member_(\d+)$/.exec(k)?.[1];
    if (id === undefined) continue;
    const f = Object.fromEntries(v.split(',').map((kv) => kv.split('=') as [string, string]));
    lines.push(`  n${id}  ${(f['role'] ?? '').padEnd(8)} ${(f['address'] || '?').padEnd(21)} cluster ${f['cluster'] || '?'}${id === m.get('raft_leader') ? '  (leader)' : ''}`);
  }
  return lines.length > 0 ? lines : ['  (none known: this node has not joined yet)'];
}

/** Sends an admin command; if a follower answers READONLY naming the leader, sends it there. */
async function adminRequest(host: string, port: number, args: string[], timeoutMs: number): Promise<Reply> {
  const r = await request(host, port, args, timeoutMs);
  const lead = r !== null && typeof r === 'object' && 'error' in r && r.error.startsWith('READONLY') ? /\((\S+):(\d+)\)/.exec(r.error) : null;
  return lead === null ? r : request(lead[1]!, Number(lead[2]), args, timeoutMs);
}

function report(r: Reply, ok: string): number {
  if (r !== null && typeof r === 'object' && 'error' in r) {
    process.stderr.write(`keel: ${r.error}\n`);
    return 1;
  }
  process.stdout.write(`${ok} (${String(r)})\n`);
  return 0;
}

export async function runTransferLeader(host: string, port: number, to: string): Promise<number> {
  return report(await adminRequest(host, port, ['KEEL.TRANSFERLEADER', to], 30000), `leadership transferred to ${to}`);
}

/** `keel cluster add-node`: the node joins as a learner, catches up, becomes a voter. */
export async function runAddNode(host: string, port: number, node: string, address: string, timeoutMs: number): Promise<number> {
  // The reply comes once the node is a voter: allow the server's own timeout plus a margin.
  const r = await adminRequest(host, port, ['KEEL.ADDNODE', node, address, 'TIMEOUT', String(timeoutMs)], timeoutMs + 30000);
  return report(r, `${node} (${address}) is a voter of the shard`);
}

/** `keel cluster remove-node`. */
export async function runRemoveNode(host: string, port: number, node: string): Promise<number> {
  return report(await adminRequest(host, port, ['KEEL.REMOVENODE', node], 60000), `${node} was removed from the shard`);
}
