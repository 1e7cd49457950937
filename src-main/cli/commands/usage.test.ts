import { describe, expect, it } from 'vitest';
import { compare } from './compare';
import { evaluate } from './evaluate';
import { experiment } from './experiment';
import { exportCommand } from './export';
import { features } from './features';
import { gradcheck } from './gradcheck';
import { inspect } from './inspect';
import { predict } from './predict';
import { train } from './train';

describe("every command's usage", () => {
  const commands = {
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
  it.each(Object.entries(commands))('%s names each of its flags, as plain text', (_, command) => {
    for (const flag of Object.keys(command.flags)) expect(command.usage).toContain(`--${flag}`);
    // Pieces of a broken string concatenation must not reach the help text.
    expect(command.usage).not.toMatch(/['`] \+|\+ ['`]/);
  });
});
