import type { FlagSpec } from './args';

export interface CommandResult {
  /** The one JSON object printed as the last stdout line with --json. */
  json: Record<string, unknown>;
  /** The human-readable report printed without --json. */
  text: string;
  /** Non-zero when the command ran but its verdict is a failure (a failed gradient check). */
  exitCode?: number;
  /** Why, for stderr, when exitCode is non-zero. */
  reason?: string;
}

export interface Command {
  summary: string;
  usage: string;
  flags: FlagSpec;
  run(flags: Record<string, string | boolean | undefined>): Promise<CommandResult>;
}

export function pct(x: number | undefined | null): string {
  return x === undefined || x === null || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`;
}
