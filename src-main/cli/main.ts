import { isLockstepError } from '../../shared/errors';
import { COMMANDS } from './commands/index';
import { sweepStaleArchiveFolders } from '../store/stale';
import { parseFlags } from './args';

function usage(): string {
  const lines = ['usage: npm run --silent cli -- <command> [flags] [--json]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS))
    lines.push(`  ${name.padEnd(10)} ${c.summary}`, `             ${c.usage.replace(/\n/g, '\n             ')}`);
  lines.push('', 'With --json the last line of stdout is one JSON object. Progress goes to stderr.');
  return lines.join('\n');
}

/** Runs one CLI command; returns the exit status. User errors are one line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`lockstep: unknown command '${name}' (expected one of ${Object.keys(COMMANDS).join(', ')})\n`);
    return 2;
  }
  try {
    const flags = parseFlags(name, rest, command.flags);
    const result = await command.run(flags);
    process.stdout.write(flags.json ? JSON.stringify(result.json) + '\n' : result.text + '\n');
    if (result.exitCode) process.stderr.write(`lockstep: ${result.reason}\n`);
    return result.exitCode ?? 0;
  } catch (e) {
    if (isLockstepError(e)) {
      process.stderr.write(`lockstep: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}

// Extraction folders of archives left by killed CLI or app processes.
sweepStaleArchiveFolders();
const status = await main(process.argv.slice(2));
process.exitCode = status;
// A failed command ends once its output is written, whatever a library left running (a thread, a timer).
if (status !== 0) process.stdout.write('', () => process.stderr.write('', () => process.exit(status)));
