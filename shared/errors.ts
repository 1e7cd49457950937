import { printable } from './printable';

/**
 * The one error type for anything a user caused: a bad file, a bad spec, a bad flag.
 * Its message is complete on its own ("train/lab/x.txt line 3, field label: expected an
 * integer in 0–8, found 'Q'"), so the CLI prints it as one line and the UI shows it as is.
 * Names and tokens quoted from a user's files are in it escaped (see printable.ts), so a file
 * name holding an ANSI escape or a CR cannot rewrite the terminal it is printed on.
 * Anything else that is thrown is a bug in Lockstep.
 */
export class LockstepError extends Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;

  constructor(message: string, where: { file?: string; line?: number; field?: string } = {}) {
    super(LockstepError.locate(message, where));
    this.name = 'LockstepError';
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }

  private static locate(
    message: string,
    { file, line, field }: { file?: string; line?: number; field?: string },
  ): string {
    const parts: string[] = [];
    if (file !== undefined) parts.push(file);
    if (line !== undefined) parts.push(`line ${line}`);
    if (field !== undefined) parts.push(`field ${field}`);
    return printable(parts.length ? `${parts.join(', ')}: ${message}` : message);
  }
}

export function isLockstepError(e: unknown): e is LockstepError {
  return e instanceof LockstepError;
}
