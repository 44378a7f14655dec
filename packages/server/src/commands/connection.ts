// Connection commands: PING ECHO QUIT RESET HELLO AUTH SELECT.

import { Call, command, CommandError, CommandSpec, ERR_DB_INDEX, ERR_NOT_INTEGER, DATABASES, parseInt64 } from '@keel/engine';
import type { Client } from '../client';
import type { KeelServer } from '../server';

export const KEEL_VERSION = '0.1.0';
/** The Redis version whose commands and replies Keel implements (clients gate features on it). */
export const REDIS_COMPAT_VERSION = '7.0.15';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

export function connectionCommands(server: KeelServer): CommandSpec[] {
  const client = (c: Call) => c.client as Client;

  function ping(c: Call): void {
    const cl = client(c);
    if (c.argv.length > 2) throw new CommandError("ERR wrong number of arguments for 'ping' command");
    if (cl.protocol === 2 && cl.subscriptionCount !== 0) {
      c.out.array(2);
      c.out.bulk('pong');
      c.out.bulk(c.argv[1] ?? '');
    } else if (c.argv.length === 2) c.out.bulk(c.argv[1]!);
    else c.out.simple('PONG');
  }

  /** Checks a password against requirepass; throws Redis's errors. */
  function checkPassword(user: string | null, pass: string): void {
    const required = server.config.requirepass;
    if (user !== null && user !== 'default') throw new CommandError(WRONGPASS);
    if (required === '') {
      if (user === null) {
        throw new CommandError('ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?');
      }
      return; // "default" has nopass: any password is accepted
    }
    if (pass !== required) throw new CommandError(WRONGPASS);
  }

  function auth(c: Call): void {
    if (c.argv.length > 3) throw new CommandError('ERR syntax error');
    const user = c.argv.length === 3 ? c.argv[1]! : null;
    checkPassword(user, c.argv[c.argv.length - 1]!);
    client(c).authenticated = true;
    c.out.ok();
  }

  function hello(c: Call): void {
    const cl = client(c);
    const argv = c.argv;
    let proto = cl.protocol as number;
    if (argv.length >= 2) {
      const v = parseInt64(argv[1]!);
      if (v === null) throw new CommandError('ERR Protocol version is not an integer or out of range');
      if (v !== 2 && v !== 3) throw new CommandError('NOPROTO unsupported protocol version');
      proto = v;
    }
    let authPair: [string, string] | null = null;
    let setName: string | null = null;
    for (let i = 2; i < argv.length; i++) {
      const opt = argv[i]!.toLowerCase();
      const more = argv.length - i - 1;
      if (opt === 'auth' && more >= 2) {
        authPair = [argv[i + 1]!, argv[i + 2]!];
        i += 2;
      } else if (opt === 'setname' && more >= 1) {
        setName = argv[++i]!;
      } else {
        throw new CommandError(`ERR Syntax error in HELLO option '${argv[i]}'`);
      }
    }
    if (authPair !== null) {
      checkPassword(authPair[0], authPair[1]);
      cl.authenticated = true;
    }
    if (!cl.authenticated) {
      throw new CommandError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
    }
    if (setName !== null) {
      if (!validClientName(setName)) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
      cl.name = setName;
    }
    cl.out.protocol = proto as 2 | 3;
    c.out.map(7);
    c.out.bulk('server');
    c.out.bulk('redis');
    c.out.bulk('version');
    c.out.bulk(REDIS_COMPAT_VERSION);
    c.out.bulk('proto');
    c.out.integer(proto);
    c.out.bulk('id');
    c.out.integer(cl.id);
    c.out.bulk('mode');
    c.out.bulk('standalone');
    c.out.bulk('role');
    c.out.bulk('master');
    c.out.bulk('modules');
    c.out.array(0);
  }

  function select(c: Call): void {
    const v = parseInt64(c.argv[1]!);
    if (v === null) throw new CommandError(ERR_NOT_INTEGER);
    if (typeof v !== 'number' || v < 0 || v >= DATABASES) throw new CommandError(ERR_DB_INDEX);
    client(c).db = v;
    c.db = c.engine.db(v); // inside EXEC, the following commands use it too
    c.out.ok();
  }

  function quit(c: Call): void {
    c.out.ok();
    client(c).closeAfterReply();
  }

  function reset(c: Call): void {
    const cl = client(c);
    cl.multi = null;
    cl.multiError = false;
    cl.watches = [];
    server.pubsub.unsubscribeAll(cl);
    cl.db = 0;
    cl.out.protocol = 2;
    cl.name = '';
    cl.readonlyReads = false; // RESET leaves READONLY, as Redis's does
    cl.authenticated = server.config.requirepass === '';
    c.out.simple('RESET');
  }

  const conn = 'connection';
  return [
    command('ping', -1, ['fast', 'stale', 'loading'], [0, 0, 0], conn, '1.0.0', 'Returns the server\'s liveliness response.', ping),
    command('echo', 2, ['fast', 'stale', 'loading'], [0, 0, 0], conn, '1.0.0', 'Returns the given string.', (c) => c.out.bulk(c.argv[1]!)),
    command('quit', -1, ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'], [0, 0, 0], conn, '1.0.0', 'Closes the connection.', quit),
    command('reset', 1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], [0, 0, 0], conn, '6.2.0', 'Resets the connection.', reset),
    command('hello', -1, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], [0, 0, 0], conn, '6.0.0', 'Handshakes with the Redis server.', hello),
    command('auth', -2, ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], [0, 0, 0], conn, '1.0.0', 'Authenticates the connection.', auth),
    command('select', 2, ['loading', 'stale', 'fast'], [0, 0, 0], conn, '1.0.0', 'Changes the selected database.', select),
  ];
}

/** Redis accepts client names of printable ASCII without spaces ('!' to '~'). */
export function validClientName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}
