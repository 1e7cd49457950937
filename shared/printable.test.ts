import { describe, expect, it } from 'vitest';
import { LockstepError } from './errors';
import { printable } from './printable';

describe("printable: names from a user's files printed on one line", () => {
  it('escapes ANSI escapes, CR, LF, tab, DEL, C1 controls and bidirectional overrides; keeps the rest', () => {
    expect(printable('a\x1b[31mred\x1b[0m\r\n\tb\x7f\x9b\u202eevil')).toBe(
      'a\\x1b[31mred\\x1b[0m\\r\\n\\tb\\x7f\\x9b\\u202eevil',
    );
    expect(printable('train/fbc/ä é 字.txt')).toBe('train/fbc/ä é 字.txt');
  });

  it('a LockstepError escapes its file and message but keeps the raw file name in .file', () => {
    const e = new LockstepError("found '\x1b[2Jx'", { file: 'lab/\rfake.txt', line: 3 });
    expect(e.message).toBe("lab/\\rfake.txt, line 3: found '\\x1b[2Jx'");
    expect(e.file).toBe('lab/\rfake.txt');
  });
});
