/**
 * Writes the synthetic spoken-letter set (src-main/data/spoken-letters.ts) as an audio dataset:
 * `npx tsx scripts/spoken-letters.ts --out DIR [--parallel 2]`, then e.g.
 * `npm run --silent cli -- train --data DIR --model tdnn`.
 */
import { parseArgs } from 'node:util';
import { buildSpokenLetters, hasEspeak } from '../src-main/data/spoken-letters';

const { values } = parseArgs({ options: { out: { type: 'string' }, parallel: { type: 'string' } } });
if (!values.out) throw new Error('usage: npx tsx scripts/spoken-letters.ts --out DIR [--parallel 2]');
if (!hasEspeak()) throw new Error('espeak-ng is not installed (apt-get install espeak-ng)');
const t0 = performance.now();
const n = await buildSpokenLetters(values.out, { parallel: Number(values.parallel ?? 2) });
console.log(`${n} clips in ${values.out} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
