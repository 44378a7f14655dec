// CLIENT: ID SETNAME GETNAME LIST INFO KILL HELP.

import { Call, command, CommandError, CommandSpec, ERR_SYNTAX, parseInt64 } from '@keel/engine';
import type { Client } from '../client';
import type { KeelServer } from '../server';
import { validClientName } from './connection';

/** One line of CLIENT LIST / CLIENT INFO, with Redis 7.0's fields. */
export function clientInfoLine(server: KeelServer, cl: Client): string {
  const now = Date.now();
  const flags = (cl.multi !== null ? 'x' : '') + (cl.subscriptionCount !== 0 ? 'P' : '') + (cl.closing ? 'A' : '') || 'N';
  const omem = cl.outputBytes;
  const qbuf = cl.decoder.pendingBytes;
  return [
    `id=${cl.id}`,
    `addr=${cl.addr}`,
    `laddr=${cl.laddr}`,
    `fd=-1`,
    `name=${cl.name}`,
    `age=${Math.floor((now - cl.createdAtMs) / 1000)}`,
    `idle=${Math.floor((now - cl.lastInteractionMs) / 1000)}`,
    `flags=${flags}`,
    `db=${cl.db}`,
    `sub=${cl.channels.size}`,
    `psub=${cl.patterns.size}`,
    `ssub=0`,
    `multi=${cl.multi === null ? -1 : cl.multi.length}`,
    `qbuf=${qbuf}`,
    `qbuf-free=0`,
    `argv-mem=0`,
    `multi-mem=0`,
    `rbs=0`,
    `rbp=0`,
    `obl=0`,
    `oll=0`,
    `omem=${omem}`,
    `tot-mem=${omem + qbuf}`,
    `events=r${omem > 0 ? 'w' : ''}`,
    `cmd=${cl.lastCommand}`,
    `user=default`,
    `redir=-1`,
    `resp=${cl.protocol}`,
  ].join(' ');
}

export function clientCommands(server: KeelServer): CommandSpec[] {
  const client = (c: Call) => c.client as Client;

  function list(c: Call): void {
    let clients = [...server.clients.values()];
    const argv = c.argv;
    for (let i = 2; i < argv.length; i++) {
      const opt = argv[i]!.toLowerCase();
      if (opt === 'type' && i + 1 < argv.length) {
        const t = argv[++i]!.toLowerCase();
        if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t)) throw new CommandError(`ERR Unknown client type '${argv[i]}'`);
        clients = clients.filter((cl) => (t === 'pubsub' ? cl.subscriptionCount !== 0 : t === 'normal' ? cl.subscriptionCount === 0 : false));
      } else if (opt === 'id' && i + 1 < argv.length) {
        const ids = new Set<number>();
        while (i + 1 < argv.length) {
          const v = parseInt64(argv[++i]!);
          if (v === null || typeof v !== 'number' || v <= 0) throw new CommandError('ERR Invalid client ID');
          ids.add(v);
        }
        clients = clients.filter((cl) => ids.has(cl.id));
      } else throw new CommandError(ERR_SYNTAX);
    }
    c.out.verbatim('txt', clients.map((cl) => clientInfoLine(server, cl) + '\n').join(''));
  }

  function kill(c: Call): void {
    const argv = c.argv;
    if (argv.length === 3) {
      // The old form: CLIENT KILL addr:port
      const target = [...server.clients.values()].find((cl) => cl.addr === argv[2]);
      if (target === undefined) throw new CommandError('ERR No such client');
      target.close();
      c.out.ok();
      return;
    }
    if ((argv.length - 2) % 2 !== 0) throw new CommandError(ERR_SYNTAX);
    let victims = [...server.clients.values()];
    let skipMe = true;
    for (let i = 2; i < argv.length; i += 2) {
      const opt = argv[i]!.toLowerCase();
      const v = argv[i + 1]!;
      if (opt === 'id') {
        const id = parseInt64(v);
        if (id === null || typeof id !== 'number' || id <= 0) throw new CommandError('ERR client-id should be greater than 0');
        victims = victims.filter((cl) => cl.id === id);
      } else if (opt === 'addr') victims = victims.filter((cl) => cl.addr === v);
      else if (opt === 'laddr') victims = victims.filter((cl) => cl.laddr === v);
      else if (opt === 'type') {
        const t = v.toLowerCase();
        if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(t)) throw new CommandError(`ERR Unknown client type '${v}'`);
        victims = victims.filter((cl) => (t === 'pubsub' ? cl.subscriptionCount !== 0 : t === 'normal' ? cl.subscriptionCount === 0 : false));
      } else if (opt === 'user') victims = v === 'default' ? victims : [];
      else if (opt === 'skipme') {
        const yn = v.toLowerCase();
        if (yn !== 'yes' && yn !== 'no') throw new CommandError(ERR_SYNTAX);
        skipMe = yn === 'yes';
      } else throw new CommandError(ERR_SYNTAX);
    }
    const me = client(c);
    if (skipMe) victims = victims.filter((cl) => cl !== me);
    for (const v of victims) {
      if (v === me) v.closeAfterReply();
      else v.close();
    }
    c.out.integer(victims.length);
  }

  function setname(c: Call): void {
    const name = c.argv[2]!;
    if (!validClientName(name)) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
    client(c).name = name;
    c.out.ok();
  }

  function unblock(c: Call): void {
    const id = parseInt64(c.argv[2]!);
    if (id === null) throw new CommandError('ERR value is not an integer or out of range');
    let how: 'timeout' | 'error' = 'timeout';
    if (c.argv.length === 4) {
      const opt = c.argv[3]!.toLowerCase();
      if (opt === 'error') how = 'error';
      else if (opt !== 'timeout') throw new CommandError('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
    } else if (c.argv.length > 4) throw new CommandError(ERR_SYNTAX);
    const target = typeof id === 'number' ? server.clients.get(id) : undefined;
    c.out.integer(target !== undefined && server.blocking.unblock(target, how) ? 1 : 0);
  }

  function help(c: Call): void {
    const lines = [
      'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'GETNAME',
      '    Return the name of the current connection.',
      'ID',
      '    Return the ID of the current connection.',
      'INFO',
      '    Return information about the current client connection.',
      'KILL <ip:port>',
      '    Kill connection made from <ip:port>.',
      'KILL <option> <value> [<option> <value> [...]]',
      '    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME.',
      'LIST [options ...]',
      '    Return information about client connections. Options: TYPE, ID.',
      'SETNAME <name>',
      '    Assign the name <name> to the current connection.',
      'HELP',
      '    Print this help.',
    ];
    c.out.array(lines.length);
    for (const l of lines) c.out.simple(l);
  }

  const g = 'connection';
  const f = ['noscript', 'loading', 'stale'] as const;
  return [
    command('client', -2, [], [0, 0, 0], g, '2.4.0', 'A container for client connection commands.', undefined, {
      subcommands: [
        command('client|id', 2, [...f], [0, 0, 0], g, '5.0.0', 'Returns the unique client ID of the connection.', (c) => c.out.integer(client(c).id)),
        command('client|setname', 3, [...f], [0, 0, 0], g, '2.6.9', 'Sets the connection name.', setname),
        command('client|getname', 2, [...f], [0, 0, 0], g, '2.6.9', 'Returns the name of the connection.', (c) => {
          const n = client(c).name;
          if (n === '') c.out.nullBulk();
          else c.out.bulk(n);
        }),
        command('client|list', -2, ['admin', ...f], [0, 0, 0], g, '2.4.0', 'Lists open connections.', list),
        command('client|info', 2, [...f], [0, 0, 0], g, '6.2.0', 'Returns information about the connection.', (c) => c.out.verbatim('txt', clientInfoLine(server, client(c)) + '\n')),
        command('client|kill', -3, ['admin', ...f], [0, 0, 0], g, '2.4.0', 'Terminates open connections.', kill),
        command('client|unblock', -3, [...f], [0, 0, 0], g, '5.0.0', 'Unblocks a client blocked by a blocking command from a different connection.', unblock),
        command('client|help', 2, ['loading', 'stale'], [0, 0, 0], g, '5.0.0', 'Returns helpful text about the different subcommands.', help),
      ],
    }),
  ];
}
