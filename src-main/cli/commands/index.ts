import type { Command } from '../command';
import { compare } from './compare';
import { evaluate } from './evaluate';
import { experiment } from './experiment';
import { exportCommand } from './export';
import { features } from './features';
import { gradcheck } from './gradcheck';
import { inspect } from './inspect';
import { predict } from './predict';
import { train } from './train';

/** Every CLI command by the name it is typed as (main.ts dispatches; the usage test checks each). */
export const COMMANDS: Record<string, Command> = {
  inspect,
  train,
  compare,
  eval: evaluate,
  gradcheck,
  export: exportCommand,
  experiment,
  features,
  predict,
};
