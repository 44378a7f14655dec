// Pub/sub commands: SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB.

import { Call, command, CommandError, CommandSpec, globMatch } from '@keel/engine';
import type { Client } from '../client';
import type { KeelServer } from '../server';

export function pubsubCommands(server: KeelServer): CommandSpec[] {
  const ps = server.pubsub;
  const client = (c: Call) => c.client as Client;

  const each = (fn: (cl: Client, name: string) => void) => (c: Call) => {
    for (let i = 1; i < c.argv.length; i++) fn(client(c), c.argv[i]!);
  };

  function unsubscribe(c: Call): void {
    if (c.argv.length === 1) ps.unsubscribeEverything(client(c), 'unsubscribe');
    else each((cl, ch) => ps.unsubscribe(cl, ch))(c);
  }

  function punsubscribe(c: Call): void {
    if (c.argv.length === 1) ps.unsubscribeEverything(client(c), 'punsubscribe');
    else each((cl, p) => ps.punsubscribe(cl, p))(c);
  }

  function channels(c: Call): void {
    if (c.argv.length > 3) throw new CommandError("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.");
    const pattern = c.argv[2];
    const names = [...ps.channels.keys()].filter((ch) => pattern === undefined || globMatch(pattern, ch));
    c.out.array(names.length);
    for (const n of names) c.out.bulk(n);
  }

  function numsub(c: Call): void {
    c.out.array((c.argv.length - 2) * 2);
    for (let i = 2; i < c.argv.length; i++) {
      c.out.bulk(c.argv[i]!);
      c.out.integer(ps.channels.get(c.argv[i]!)?.size ?? 0);
    }
  }

  const flags = ['pubsub', 'noscript', 'loading', 'stale'] as const;
  const g = 'pubsub';
  const pubsub = command('pubsub', -2, [], [0, 0, 0], g, '2.8.0', 'A container for Pub/Sub commands.', undefined, {
    subcommands: [
      command('pubsub|channels', -2, ['pubsub', 'loading', 'stale'], [0, 0, 0], g, '2.8.0', 'Returns the active channels.', channels),
      command('pubsub|numsub', -2, ['pubsub', 'loading', 'stale'], [0, 0, 0], g, '2.8.0', 'Returns a count of subscribers to channels.', numsub),
      command('pubsub|numpat', 2, ['pubsub', 'loading', 'stale'], [0, 0, 0], g, '2.8.0', 'Returns a count of unique pattern subscriptions.', (c) => c.out.integer(ps.patterns.size)),
      command('pubsub|help', 2, ['loading', 'stale'], [0, 0, 0], g, '6.2.0', 'Returns helpful text about the different subcommands.', (c) => {
        const lines = ['PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:', 'CHANNELS [<pattern>]', '    Return the currently active channels matching a <pattern> (default: \'*\').', 'NUMPAT', '    Return number of subscriptions to patterns.', 'NUMSUB [<channel> ...]', '    Return the number of subscribers for the specified channels, excluding', '    pattern subscriptions(default: no channels).', 'HELP', '    Print this help.'];
        c.out.array(lines.length);
        for (const l of lines) c.out.simple(l);
      }),
    ],
  });
  return [
    command('subscribe', -2, [...flags], [0, 0, 0], g, '2.0.0', 'Listens for messages published to channels.', each((cl, ch) => ps.subscribe(cl, ch))),
    command('unsubscribe', -1, [...flags], [0, 0, 0], g, '2.0.0', 'Stops listening to messages posted to channels.', unsubscribe),
    command('psubscribe', -2, [...flags], [0, 0, 0], g, '2.0.0', 'Listens for messages published to channels that match one or more patterns.', each((cl, p) => ps.psubscribe(cl, p))),
    command('punsubscribe', -1, [...flags], [0, 0, 0], g, '2.0.0', 'Stops listening to messages published to channels that match one or more patterns.', punsubscribe),
    command('publish', 3, ['pubsub', 'loading', 'stale', 'fast'], [0, 0, 0], g, '2.0.0', 'Posts a message to a channel.', (c) => c.out.integer(ps.publish(c.argv[1]!, c.argv[2]!))),
    pubsub,
  ];
}
