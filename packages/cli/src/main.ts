#!/usr/bin/env node
// The `keel` command.

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runServer } from './server';

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
        .option('config-file', { type: 'string', describe: 'same as the positional config' })
        .strict(false),
    async (argv) => {
      await runServer(argv as unknown as Record<string, unknown>);
    },
  )
  .demandCommand(1, 'Name a command: keel server --help')
  .strict()
  .help()
  .parseAsync();
