/**
 * The train-split load time alone (the full benchmark takes minutes):
 * `npx tsx bench/load.ts [--repeats N] [--single-thread]`. Prints the first (cold) load, then
 * each warm load's wall-clock and CPU ms (every thread of the process), and their medians.
 */
import { parseArgs } from 'node:util';
import { median } from '../shared/median';
import { eesetTuning } from '../src-main/data/eeset';
import { EE_SET_DIR, timeTrainLoad } from './load-time';

const { values: args } = parseArgs({
  options: { repeats: { type: 'string', default: '8' }, 'single-thread': { type: 'boolean', default: false } },
});
if (args['single-thread']) eesetTuning.workerMinFiles = Infinity;
const { dataset, times } = await timeTrainLoad(EE_SET_DIR, Number(args.repeats));
const report = dataset.reports.train!;
const ms = (v: number[]): string => v.map((t) => t.toFixed(0)).join(' ');
process.stdout.write(
  [
    `train: ${report.kept} of ${report.listed} kept (${JSON.stringify(report.dropped)}); worker parsed ${eesetTuning.lastWorkerFiles} files in the last load`,
    `first load: ${times.coldMs.toFixed(0)} ms`,
    `warm wall ms: ${ms(times.wallMs)}; median ${median(times.wallMs).toFixed(0)}`,
    `warm CPU ms:  ${ms(times.cpuMs)}; median ${median(times.cpuMs).toFixed(0)}`,
    '',
  ].join('\n'),
);
