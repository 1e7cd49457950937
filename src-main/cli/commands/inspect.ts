import { describeFrontEnd } from '../../../shared/audio/logmel';
import { SPLIT_NAMES } from '../../../shared/data/dataset';
import { LockstepError } from '../../../shared/errors';
import { printable } from '../../../shared/printable';
import { prepareData } from '../../../shared/train/prepare';
import { noUsableExamples } from '../../data/unusable';
import { openDataset } from '../../services/datasets';
import { intFlag, required } from '../args';
import type { Command } from '../command';
import { SPLIT_FLAGS, SPLIT_USAGE, splitPolicy } from '../split-flags';

export const inspect: Command = {
  summary: 'report what a dataset holds and what the protocol drops, per split; exit 1 if it cannot train',
  usage: `inspect --data PATH [--frames 70] [--pad] ${SPLIT_USAGE}`,
  flags: { data: { type: 'string' }, frames: { type: 'string' }, pad: { type: 'boolean' }, ...SPLIT_FLAGS },
  async run(flags) {
    const data = required('data', flags.data as string | undefined);
    const frames = intFlag('frames', flags.frames as string | undefined, 1);
    const dataset = await openDataset(data, { frames, short: flags.pad ? 'pad' : 'drop', split: splitPolicy(flags) });
    const splits: Record<string, unknown> = {};
    const lines: string[] = [printable(`dataset ${dataset.name} (${dataset.classes.join(' ')})`)];
    if (dataset.audio) lines.push(`audio: ${describeFrontEnd(dataset.audio)}`);
    let kept = 0;
    for (const name of SPLIT_NAMES) {
      const r = dataset.reports[name];
      if (!r) continue;
      kept += r.kept;
      splits[name] = r;
      const d = r.dropped;
      lines.push(
        `${name.padEnd(5)} ${r.listed} listed, ${r.kept} kept; dropped: ${d.nonFinite} non-finite, ${d.short} short, ${d.missing} missing, ${d.malformed} malformed`,
      );
      lines.push(`      classes: ${r.classCounts.map((c, k) => `${dataset.classes[k]} ${c}`).join(', ')}`);
      for (const x of r.droppedExamples.slice(0, 5)) {
        lines.push(printable(`      - ${x.file}${x.line ? ` line ${x.line}` : ''}: ${x.message}`));
      }
      if (r.droppedExamples.length > 5)
        lines.push(`      … and ${r.droppedExamples.length - 5} more (--json lists all)`);
    }
    if (kept === 0) throw noUsableExamples(dataset, dataset.name);
    // Skipped files are fine (exit 0); a dataset that cannot train is not (exit 1, with why).
    let unusable: string | undefined;
    try {
      prepareData(dataset, { standardize: false });
    } catch (e) {
      if (!(e instanceof LockstepError)) throw e;
      unusable = e.message;
    }
    return {
      json: {
        dataset: dataset.name,
        classes: dataset.classes,
        audio: dataset.audio ?? null,
        splits,
        trainable: unusable === undefined,
        ...(unusable ? { reason: unusable } : {}),
      },
      text: lines.join('\n'),
      exitCode: unusable ? 1 : 0,
      reason: unusable,
    };
  },
};
