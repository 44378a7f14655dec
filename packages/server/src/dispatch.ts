// processCommand: the gates every command passes, in Redis's order, each rejecting with its
// own error; then the command runs as a write (through the write path) or at once.
//
//   1. unknown command or subcommand     -ERR unknown command ...
//   2. arity                             -ERR wrong number of arguments ...
//   3. authentication                    -NOAUTH Authentication required.
//   4. RESP2 subscriber context          -ERR Can't execute ...
//   5. on a follower (server.router): a command that needs the leader forwards the session
//      to it (replication/leader-proxy.ts), or is answered TRYAGAIN when no leader is known
//   6. inside MULTI: queue it            +QUEUED
//   7. run: writes go through the write path, everything else executes now

import { CommandSpec, Engine } from '@keel/engine';
import type { Client } from './client';
import type { KeelServer } from './server';

/**
 * Commands that run at once inside MULTI instead of being queued (KEEL.PROXY: a follower ends
 * a session it forwarded here, whatever state the session is in).
 */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset', 'keel.proxy']);
/** What a RESP2 client may send while subscribed. */
const SUBSCRIBED_ALLOWED = new Set(['subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'ping', 'quit', 'reset', 'keel.proxy']);

/** Resolves argv to a command or subcommand spec, or the error reply. */
export function resolveCommand(engine: Engine, argv: string[]): CommandSpec | string {
  return engine.commands.resolve(argv);
}

/**
 * Rejects a command with an error. Inside MULTI the transaction is flagged; a rejected EXEC
 * (inside MULTI or not) discards the transaction and says so, as Redis's rejectCommand /
 * execCommandAbort do.
 */
function reject(client: Client, argv: string[], error: string): void {
  if (client.multi !== null) client.multiError = true;
  if (argv[0]!.toLowerCase() === 'exec') {
    client.multi = null;
    client.multiError = false;
    client.watches = [];
    client.out.error(`EXECABORT Transaction discarded because of: ${error.startsWith('ERR ') ? error.slice(4) : error}`);
    return;
  }
  client.out.error(error);
}

/** Writes one client may have in flight at once; more wait in its queue (which pauses reading). */
const PIPELINED_WRITES_MAX = 1024;

/**
 * True if argv is a write that would go straight to the write path (no gate would answer it
 * now, it is not queued by MULTI, it cannot block) and the client's last command cannot block:
 * it may then be proposed behind the writes the client has in flight.
 */
export function canPipeline(server: KeelServer, client: Client, argv: string[]): boolean {
  if (client.writesInFlight >= PIPELINED_WRITES_MAX) return false;
  const spec = server.engine.commands.resolve(argv);
  if (typeof spec === 'string' || !spec.isWrite || spec.flags.includes('blocking')) return false;
  if (client.lastSpec === null || client.lastSpec.flags.includes('blocking')) return false;
  if (client.multi !== null || !client.authenticated || Engine.arityError(spec, argv.length) !== null) return false;
  return client.protocol === 3 || client.subscriptionCount === 0;
}

export function dispatch(server: KeelServer, client: Client, argv: string[]): void {
  const out = client.out;
  const resolved = resolveCommand(server.engine, argv);
  if (typeof resolved === 'string') {
    reject(client, argv, resolved);
    return;
  }
  const spec = resolved;
  const arityError = Engine.arityError(spec, argv.length);
  if (arityError !== null) {
    reject(client, argv, arityError);
    return;
  }
  if (!client.authenticated && !spec.flags.includes('no_auth')) {
    reject(client, argv, 'NOAUTH Authentication required.');
    return;
  }
  const base = spec.baseName!;
  if (client.protocol === 2 && client.subscriptionCount !== 0 && !SUBSCRIBED_ALLOWED.has(base)) {
    out.error(`ERR Can't execute '${spec.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    return;
  }
  if (server.router !== null && server.router.route(client, spec, argv)) return;
  client.lastCommand = spec.name;
  client.lastSpec = spec;
  if (client.multi !== null && !MULTI_CONTROL.has(base)) {
    if (spec.flags.includes('no_multi')) {
      client.multiError = true;
      out.error(`ERR Command not allowed inside a transaction`);
      return;
    }
    client.multi.push(argv);
    out.simple('QUEUED');
    return;
  }
  if (spec.isWrite) {
    server.writePath.submit(client, { kind: 'command', db: client.db, argv });
  } else if (server.readPath !== null && spec.isReadonly) {
    server.readPath.submit(client, () => server.execute(client, spec, argv));
  } else {
    server.execute(client, spec, argv);
  }
}
