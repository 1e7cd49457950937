/**
 * For checkpoint-dir.test.ts: one process that writes `count` checkpoints into one folder, as
 * fast as it can, while other copies of it do the same (`tsx checkpoint-writer.fixture.ts DIR COUNT SEED`).
 */
import { PRESETS } from '../../shared/presets';
import type { NetworkSpec } from '../../shared/engine/spec';
import { randomModel, saveCheckpoint } from '../export/test-fixtures';

const [dir, count, seed] = process.argv.slice(2);
const model = randomModel(PRESETS.get('fnn-10-relu')!.spec as NetworkSpec, Number(seed));
for (let i = 0; i < Number(count); i++) saveCheckpoint(model, dir);
