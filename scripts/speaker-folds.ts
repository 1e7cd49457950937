/**
 * Writes speaker-disjoint folds of an ee-set's train split as dataset roots (see
 * src-main/data/speaker-folds.ts), then prints the command that trains on each: accuracy on
 * speakers the network never heard, over every training speaker instead of dev's nine.
 *
 *   npx tsx scripts/speaker-folds.ts --data PATH --out DIR [--folds 4] [--seed 1] [--model best]
 */
import { parseArgs } from 'node:util';
import { isLockstepError } from '../shared/errors';
import { writeSpeakerFolds } from '../src-main/data/speaker-folds';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    out: { type: 'string' },
    folds: { type: 'string', default: '4' },
    seed: { type: 'string', default: '1' },
    model: { type: 'string', default: 'best' },
  },
});

if (!values.data || !values.out) {
  console.error('usage: npx tsx scripts/speaker-folds.ts --data PATH --out DIR [--folds 4] [--seed 1] [--model best]');
  process.exit(2);
}
try {
  for (const fold of writeSpeakerFolds(values.data, values.out, Number(values.folds), Number(values.seed))) {
    console.log(
      `${fold.dir}: train ${fold.trainExamples} examples, dev ${fold.devExamples} of ${fold.heldOut.length} held-out speakers (${fold.heldOut.join(' ')})`,
    );
    console.log(`  npm run --silent cli -- train --data ${fold.dir} --model ${values.model} --json`);
  }
} catch (e) {
  if (!isLockstepError(e)) throw e;
  console.error(`speaker-folds: ${e.message}`);
  process.exit(2);
}
