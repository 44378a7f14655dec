// Transactions: MULTI EXEC DISCARD WATCH UNWATCH. EXEC hands the queued commands and the
// watch tokens to the engine as one op, which applies them atomically (one log entry when
// replicated) and decides the watch there, so every replica reaches the same verdict.

import { Call, command, CommandError, CommandSpec } from '@keel/engine';
import type { Client } from '../client';
import type { KeelServer } from '../server';

export function multiCommands(server: KeelServer): CommandSpec[] {
  const client = (c: Call) => c.client as Client;

  function multi(c: Call): void {
    const cl = client(c);
    if (cl.multi !== null) throw new CommandError('ERR MULTI calls can not be nested');
    cl.multi = [];
    cl.multiError = false;
    c.out.ok();
  }

  function discard(c: Call): void {
    const cl = client(c);
    if (cl.multi === null) throw new CommandError('ERR DISCARD without MULTI');
    cl.multi = null;
    cl.multiError = false;
    cl.watches = [];
    c.out.ok();
  }

  function exec(c: Call): void {
    const cl = client(c);
    if (cl.multi === null) throw new CommandError('ERR EXEC without MULTI');
    const commands = cl.multi;
    const watches = cl.watches;
    const aborted = cl.multiError;
    cl.multi = null;
    cl.multiError = false;
    cl.watches = [];
    if (aborted) throw new CommandError('EXECABORT Transaction discarded because of previous errors.');
    const isWrite = commands.some((argv) => (server.engine.commands.resolve(argv) as CommandSpec).isWrite);
    const op = { kind: 'exec' as const, db: cl.db, commands, watches };
    if (isWrite) {
      server.writePath.submit(cl, op);
    } else if (server.readPath !== null) {
      // A read-only transaction needs no log entry, but must see every acknowledged write.
      server.readPath.submit(cl, () => server.engine.apply(op, cl.out, Date.now(), 0, cl));
    } else {
      // A read-only transaction needs no log entry: it runs now, atomically.
      server.engine.apply(op, c.out, c.nowMs, 0, cl);
    }
  }

  function watch(c: Call): void {
    const cl = client(c);
    if (cl.multi !== null) throw new CommandError('ERR WATCH inside MULTI is not allowed');
    for (let i = 1; i < c.argv.length; i++) {
      const key = c.argv[i]!;
      if (cl.watches.some((w) => w.db === cl.db && w.key === key)) continue;
      cl.watches.push(server.engine.watchToken(cl.db, key, c.nowMs));
    }
    c.out.ok();
  }

  function unwatch(c: Call): void {
    client(c).watches = [];
    c.out.ok();
  }

  const tx = 'transactions';
  return [
    command('multi', 1, ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], [0, 0, 0], tx, '1.2.0', 'Starts a transaction.', multi),
    command('exec', 1, ['noscript', 'loading', 'stale', 'skip_slowlog'], [0, 0, 0], tx, '1.2.0', 'Executes all commands in a transaction.', exec),
    command('discard', 1, ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], [0, 0, 0], tx, '2.0.0', 'Discards a transaction.', discard),
    command('watch', -2, ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], [1, -1, 1], tx, '2.2.0', 'Monitors changes to keys to determine the execution of a transaction.', watch),
    command('unwatch', 1, ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], [0, 0, 0], tx, '2.2.0', 'Forgets about watched keys of a transaction.', unwatch),
  ];
}
