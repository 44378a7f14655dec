// Every command the engine implements, by module (one module a data type, as Redis's t_*.c).

import { CommandSpec } from './command';
import { stringCommands } from './types/string';
import { bitmapCommands } from './types/bitmap';
import { genericCommands } from './types/generic';
import { listCommands } from './types/list';
import { hashCommands } from './types/hash';
import { setCommands } from './types/set';
import { zsetCommands } from './types/zset';
import { sortCommands } from './types/sort';

export function engineCommands(): CommandSpec[] {
  return [...genericCommands, ...stringCommands, ...bitmapCommands, ...listCommands, ...hashCommands, ...setCommands, ...zsetCommands, ...sortCommands];
}
