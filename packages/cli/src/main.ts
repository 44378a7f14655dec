#!/usr/bin/env node
// The `keel` command.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runServer } from './server';
import { runWalCheck, runWalRepair } from './wal';
import { runAddNode, runClusterStatus, runRemoveNode, runTransferLeader } from './cluster';

async function cli(f: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await f();
  } catch (e) {
    process.stderr.write(`keel: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}

void yargs(hideBin(process.argv))
  .scriptName('keel')
  .parserConfiguration({ 'boolean-negation': false })
  .command(
    'server [config]',
    'Start a Keel node (a single node on 127.0.0.1:6379 by default)',
    (y) =>
      y
        .positional('config', { type: 'string', describe: 'a redis.conf-style config file' })
        .option('port', { type: 'number', describe: 'TCP port for clients (6379)' })
        .option('bind', { type: 'string', describe: 'address to listen on (127.0.0.1)' })
        .option('dir', { type: 'string', describe: 'data directory (./data)' })
        .option('requirepass', { type: 'string', describe: 'password clients must AUTH with' })
        .option('maxclients', { type: 'number', describe: 'maximum simultaneous clients (10000)' })
        .option('appendfsync', { type: 'string', choices: ['always', 'everysec', 'no'], describe: 'when the write-ahead log is fsync\'d (always)' })
        .option('node-id', { type: 'string', describe: 'this node\'s name, ending in its raft id (n1)' })
        .option('peers', { type: 'string', describe: 'the shard: n1=host:port[@clusterport],n2=...; none: a shard of one' })
        .option('cluster-port', { type: 'number', describe: 'node-to-node port (client port + 10000)' })
        .option('join', { type: 'boolean', describe: 'join the running shard named by --peers: wait, empty, for its leader to add this node (keel cluster add-node)' })
        .option('snapshot-entries', { type: 'number', describe: 'snapshot after this many writes in the log (100000)' })
        .option('snapshot-bytes', { type: 'number', describe: 'snapshot after this many bytes of log entries (64 MiB)' })
        .option('snapshot-growth-percent', { type: 'number', describe: 'and only once the log holds this % of the last snapshot\'s size (100; 0: off)' })
        .option('lease-reads', { type: 'boolean', describe: 'the leader serves reads from a lease, without a ReadIndex round; assumes node clocks tick within 5% of each other (set on every node)' })
        .option('forward-sessions-max', { type: 'number', describe: 'client sessions a follower forwards to the leader at once (1024; 0: none, followers answer READONLY)' })
        .option('tick-ms', { type: 'number', describe: 'raft tick (100)', hidden: true })
        .option('election-timeout-ticks', { type: 'number', describe: 'raft election timeout in ticks (10)', hidden: true })
        .option('commit-timeout-ms', { type: 'number', describe: 'a write not committed within this is answered UNKNOWN (5000)', hidden: true })
        .option('metrics-port', { type: 'number', describe: 'serve Prometheus metrics at http://<bind>:<port>/metrics (off)' })
        .option('unsafe-test-stale-reads', { type: 'boolean', describe: 'TEST ONLY: answer reads from local state without ReadIndex (stale reads; breaks linearizability)', hidden: true })
        .option('config-file', { type: 'string', describe: 'same as the positional config' })
        .strict(false),
    async (argv) => {
      await runServer(argv as unknown as Record<string, unknown>);
    },
  )
  .command('wal <action>', 'Check or repair a node\'s write-ahead log and snapshots', (y) =>
    y
      .command('check', 'Report what the log and snapshots hold, and any damage (exit 1 if damaged)', (yy) =>
        yy.option('dir', { type: 'string', demandOption: true, describe: 'the node\'s data directory' }).option('json', { type: 'boolean' }),
        async () => {
          process.exitCode = await runWalCheck(process.argv.slice(3));
        })
      .command('repair', 'Truncate a damaged tail (after confirmation), never touching anything valid', (yy) =>
        yy.option('dir', { type: 'string', demandOption: true, describe: 'the node\'s data directory' }).option('yes', { type: 'boolean', describe: 'do not ask' }),
        async () => {
          process.exitCode = await runWalRepair(process.argv.slice(3));
        })
      .demandCommand(1),
  )
  .command('cluster <action>', 'See and manage a running shard', (y) =>
    y
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'a node\'s client address' })
      .option('port', { type: 'number', default: 6379, describe: 'a node\'s client port' })
      .command('status', 'Role, term, leader, members, and per-peer lag (from INFO replication)', (yy) => yy.option('json', { type: 'boolean' }),
        async (argv) => cli(() => runClusterStatus(String(argv.host), Number(argv.port), argv.json === true)))
      .command('transfer-leader', 'Move the shard\'s leadership to a node (KEEL.TRANSFERLEADER)', (yy) =>
        yy.option('to', { type: 'string', demandOption: true, describe: 'the node to lead: n2 (or its raft id)' }),
        async (argv) => cli(() => runTransferLeader(String(argv.host), Number(argv.port), String(argv.to))))
      .command('add-node', 'Add a node: a learner first, a voter once it caught up (KEEL.ADDNODE); start it with keel server --join', (yy) =>
        yy
          .option('node', { type: 'string', demandOption: true, describe: 'the new node: n4 (its raft id is its number)' })
          .option('address', { type: 'string', demandOption: true, describe: 'its client address host:port[@clusterport] (cluster port: port + 10000)' })
          .option('timeout', { type: 'number', default: 300000, describe: 'ms to wait for it to catch up' }),
        async (argv) => cli(() => runAddNode(String(argv.host), Number(argv.port), String(argv.node), String(argv.address), Number(argv.timeout))))
      .command('remove-node', 'Remove a node from the shard (KEEL.REMOVENODE); a removed leader hands off first', (yy) =>
        yy.option('node', { type: 'string', demandOption: true, describe: 'the node to remove: n2 (or its raft id)' }),
        async (argv) => cli(() => runRemoveNode(String(argv.host), Number(argv.port), String(argv.node))))
      .demandCommand(1),
  )
  .demandCommand(1, 'Name a command: keel server --help')
  .strict()
  .help()
  .parseAsync();
