/**
 * The full lockstep matrix: every preset × {sgd, adam} × {cpu, wasm}, scratch against tfjs
 * (`compare` for each cell), one line per cell, and the rows as JSON on the last line.
 *
 * A cell whose relative loss difference exceeds the bound (1e-4) at some step gets its null
 * model measured (the same mathematics with only float32 rounding changed: tfjs with each batch
 * summed in 2, 3 and 5 chunks — for networks with batch normalisation, the scratch engine's
 * reference layers against its fast path instead — tfjs on the other backend, and each engine
 * from initial weights one ulp away, 2 tfjs and 16 scratch seeds; see
 * src-main/services/null-model.ts) and is run again resynced before every step. The cell passes
 * if scratch vs tfjs drifts no further than the largest null divergence (rounding alone moves two
 * runs that far apart) and, resynced, every step stays within 1e-4 (each step computes the same).
 *
 * Each line ends with the process's heap and tfjs's live tensor count after the cell: both stay
 * flat from cell to cell (every engine is disposed), which a long matrix relies on.
 *
 * With --resync, tfjs takes scratch's weights before every step (LockstepOptions.resync): each
 * step compares the engines from identical weights, judged against 1e-4 without a null model —
 * for telling a real disagreement from chaotic drift in a cell beyond its null.
 *
 *   npx tsx scripts/lockstep-matrix.ts [--data PATH] [--steps 200] [--seed 1] [--batch 50] [--resync]
 *                                      [--backends cpu,wasm] [--optimizers sgd,adam] [--presets tdnn,...]
 *
 * Exits non-zero if any cell fails.
 */
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from '../shared/engine/optimizers';
import { PRESET_NAMES } from '../shared/presets';
import type { TfjsBackend } from '../shared/tfjs/backend';
import { DEFAULT_LOSS_BOUND } from '../shared/train/lockstep';
import { compareRun, type CompareRequest } from '../src-main/services/compare-run';
import { judgeAgainstNull } from '../src-main/services/null-model';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    steps: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    batch: { type: 'string', default: '50' },
    backends: { type: 'string', default: 'cpu,wasm' },
    optimizers: { type: 'string', default: 'sgd,adam' },
    presets: { type: 'string', default: PRESET_NAMES.join(',') },
    resync: { type: 'boolean', default: false },
  },
});

const e = (x: number): string => x.toExponential(2);
const rows = [];
for (const backend of values.backends.split(',') as TfjsBackend[]) {
  for (const model of values.presets.split(',')) {
    for (const optimizer of values.optimizers.split(',') as OptimizerName[]) {
      const request: CompareRequest = {
        data: values.data,
        model,
        backend,
        steps: Number(values.steps),
        resync: values.resync,
        settings: { optimizer, seed: Number(values.seed), batch: Number(values.batch) },
      };
      const r = await compareRun(request);
      const nullModel = r.ok || values.resync ? null : await judgeAgainstNull(request, r.maxRelLossDiff);
      const nullRuns = nullModel?.runs ?? null;
      const bound = nullModel?.bound ?? DEFAULT_LOSS_BOUND;
      const row = {
        backend,
        model,
        optimizer,
        resync: values.resync,
        lr: r.lr,
        steps: r.steps,
        bound,
        ok: nullModel?.ok ?? r.ok,
        firstStepOver1e4: r.firstFailingStep,
        maxRelLossDiff: r.maxRelLossDiff,
        maxAbsLossDiff: r.maxAbsLossDiff,
        maxAbsWeightDiff: r.maxAbsWeightDiff,
        maxAbsGradDiff: r.maxAbsGradDiff,
        scratchMsPerStep: r.scratchMsPerStep,
        tfjsMsPerStep: r.tfjsMsPerStep,
        finalScratchLoss: r.perStep.scratchLoss[r.steps - 1],
        nullRunsFurther: nullModel?.nullRunsFurther ?? null,
        resynced: nullModel?.resynced ?? null,
        nullRuns,
      };
      rows.push(row);
      process.stdout.write(
        `${backend.padEnd(5)} ${model.padEnd(15)} ${optimizer.padEnd(5)}${values.resync ? ' resync' : ''} rel ${e(row.maxRelLossDiff)} abs ${e(row.maxAbsLossDiff)} ` +
          `|Δw| ${e(row.maxAbsWeightDiff)} |Δg| ${e(row.maxAbsGradDiff)} ms/step scratch ${row.scratchMsPerStep.toFixed(1)} tfjs ${row.tfjsMsPerStep.toFixed(1)} ` +
          `final loss ${row.finalScratchLoss.toFixed(4)} ${row.ok ? 'ok' : 'FAILED'}` +
          (nullModel
            ? ` (null model, ${nullModel.runs.length} runs: ${e(nullModel.spread.min)} … ${e(nullModel.spread.max)}, median ${e(nullModel.spread.median)}, ` +
              `${nullModel.nullRunsFurther} further; resynced ${e(nullModel.resynced.maxRelLossDiff)})`
            : '') +
          ` [heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB, ${tf.memory().numTensors} tensors]\n`,
      );
    }
  }
}
process.stdout.write(JSON.stringify(rows) + '\n');
process.exitCode = rows.every((r) => r.ok) ? 0 : 1;
