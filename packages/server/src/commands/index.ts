// The server's own commands: connection, transactions, pub/sub, CLIENT, and introspection.

import { CommandSpec } from '@keel/engine';
import type { KeelServer } from '../server';
import { clientCommands } from './client';
import { connectionCommands } from './connection';
import { introspectionCommands } from './introspection';
import { multiCommands } from './multi';
import { pubsubCommands } from './pubsub';

export function serverCommands(server: KeelServer): CommandSpec[] {
  return [
    ...connectionCommands(server),
    ...multiCommands(server),
    ...pubsubCommands(server),
    ...clientCommands(server),
    ...introspectionCommands(server),
  ];
}
