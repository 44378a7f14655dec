// Every command the engine implements, by module (one module a data type, as Redis's t_*.c).

import { CommandSpec } from './command';
import { stringCommands } from './types/string';
import { genericCommands } from './types/generic';

export function engineCommands(): CommandSpec[] {
  return [...genericCommands, ...stringCommands];
}
