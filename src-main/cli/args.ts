import { parseArgs } from 'node:util';
import { LockstepError } from '../../shared/errors';

/** `multiple`: the flag takes several values (`--audio a.wav b.wav`, or repeated), given as a string[]. */
export type FlagSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Parses a command's flags; an unknown or malformed flag is a user error naming the flag. */
export function parseFlags<T extends FlagSpec>(
  command: string,
  argv: string[],
  flags: T,
): { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string } {
  // Bare words after a multiple-valued flag are its further values (so a shell glob works).
  const multiple = Object.keys(flags).find((name) => flags[name].multiple);
  try {
    const options = { ...flags, json: { type: 'boolean' as const } };
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: multiple !== undefined });
    const values = parsed.values as Record<string, unknown>;
    if (multiple !== undefined && parsed.positionals.length > 0) {
      if (values[multiple] === undefined) {
        throw new Error(`unexpected argument '${parsed.positionals[0]}' (is --${multiple} missing?)`);
      }
      (values[multiple] as string[]).push(...parsed.positionals);
    }
    return values as never;
  } catch (e) {
    throw new LockstepError(`${command}: ${(e as Error).message.replace(/\. To specify.*$/s, '')}`);
  }
}

export function numberFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new LockstepError(`--${name} expects a number, got '${value}'`);
  return n;
}

export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  const n = numberFlag(name, value);
  if (n !== undefined && (!Number.isInteger(n) || n < min))
    throw new LockstepError(`--${name} expects an integer ≥ ${min}, got '${value}'`);
  return n;
}

export function required(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new LockstepError(`--${name} is required`);
  return value;
}
