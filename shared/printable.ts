/**
 * Text from a user's files (file names, paths, tokens) made safe to print on one line: control
 * characters (C0, DEL, C1, which include ESC and CR, so ANSI escapes and carriage returns) and
 * the bidirectional overrides that reorder what a terminal shows are written as escapes
 * (`\x1b`, `\r`, `\u202e`); everything else is kept as is.
 */
// eslint-disable-next-line no-control-regex -- control characters are what it finds
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    if (NAMED[c] !== undefined) return NAMED[c];
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
