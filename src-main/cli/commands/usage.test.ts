import { describe, expect, it } from 'vitest';
import { COMMANDS } from './index';

describe("every command's usage", () => {
  it.each(Object.entries(COMMANDS))('%s names each of its flags, as plain text', (_, command) => {
    for (const flag of Object.keys(command.flags)) expect(command.usage).toContain(`--${flag}`);
    // Pieces of a broken string concatenation must not reach the help text.
    expect(command.usage).not.toMatch(/['`] \+|\+ ['`]/);
  });
});
