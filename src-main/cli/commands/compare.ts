import { OPTIMIZERS, type OptimizerName } from '../../../shared/engine/optimizers';
import { LockstepError } from '../../../shared/errors';
import { DEFAULT_TFJS_BACKEND } from '../../../shared/protocol';
import { DEFAULT_CHECK_EVERY, DEFAULT_LOSS_BOUND } from '../../../shared/train/lockstep';
import { compareRun } from '../../services/compare-run';
import { checkEngineChoice } from '../../services/engines';
import { judgeAgainstNull, type NullJudgement } from '../../services/null-model';
import { intFlag, numberFlag, required } from '../args';
import type { Command } from '../command';
import { ProgressBar } from '../progress';

const e = (x: number): string => x.toExponential(2);

function nullModelLines(n: NullJudgement): string[] {
  const { min, median, max } = n.spread;
  return [
    `null model (the same mathematics, only rounding changed; ${n.runs.length} runs): max relative ${e(min)} … ${e(max)}, median ${e(median)};`,
    `           ${n.nullRunsFurther} of them diverge further than scratch vs tfjs; bound ${e(n.bound)}`,
    `resynced:  every step from identical weights, max relative ${e(n.resynced.maxRelLossDiff)}`,
  ];
}

export const compare: Command = {
  summary: 'train scratch and tfjs in lockstep from the same weights on the same batches; report their divergence',
  usage:
    'compare [--data PATH] --model PRESET|SPEC.json [--optimizer sgd|momentum|adam] [--lr X] [--batch N]\n' +
    `      [--steps 200] [--seed 1] [--backend cpu|wasm] [--bound ${DEFAULT_LOSS_BOUND} (per-step relative loss difference)]\n` +
    '      [--null (where the bound is exceeded, measure the null model — the same mathematics with only rounding changed — and the comparison resynced every step; judge by both)]\n' +
    "      [--resync (tfjs takes scratch's weights before every step: each step compared from identical weights, no drift accumulates)]",
  flags: {
    data: { type: 'string' },
    model: { type: 'string' },
    optimizer: { type: 'string' },
    lr: { type: 'string' },
    batch: { type: 'string' },
    steps: { type: 'string' },
    seed: { type: 'string' },
    backend: { type: 'string' },
    bound: { type: 'string' },
    null: { type: 'boolean' },
    resync: { type: 'boolean' },
  },
  async run(flags) {
    const { null: withNull, resync, ...rest } = flags as Record<string, string | boolean | undefined>;
    const f = rest as Record<string, string | undefined>;
    const { backend } = checkEngineChoice('lockstep', f.backend ?? DEFAULT_TFJS_BACKEND);
    if (f.optimizer !== undefined && !OPTIMIZERS.includes(f.optimizer as OptimizerName)) {
      throw new LockstepError(`--optimizer must be one of ${OPTIMIZERS.join(', ')}, got '${f.optimizer}'`);
    }
    const bound = numberFlag('bound', f.bound);
    if (bound !== undefined && !(bound > 0))
      throw new LockstepError(`--bound must be a positive number, got '${f.bound}'`);
    const steps = intFlag('steps', f.steps, 1) ?? 200;
    const bar = new ProgressBar('compare', steps);
    const request = {
      data: f.data,
      model: required('model', f.model),
      backend,
      steps,
      bound,
      resync: resync === true,
      settings: {
        optimizer: f.optimizer as OptimizerName | undefined,
        lr: numberFlag('lr', f.lr),
        batch: intFlag('batch', f.batch, 1),
        seed: intFlag('seed', f.seed, 0),
      },
    };
    const compared = await compareRun(request, (step) => bar.update(step));
    bar.done();
    // A resynced comparison is judged against the bound itself: no drift accumulates for a null model to account for.
    const nullModel =
      withNull && !compared.ok && !request.resync
        ? await judgeAgainstNull(request, compared.maxRelLossDiff)
        : undefined;
    const r = nullModel ? { ...compared, bound: nullModel.bound, ok: nullModel.ok, nullModel } : compared;
    const requestedBound = request.bound ?? DEFAULT_LOSS_BOUND;
    const failure = !nullModel
      ? `step ${r.firstFailingStep}'s relative loss difference exceeds ${requestedBound}`
      : nullModel.resynced.ok
        ? `${e(r.maxRelLossDiff)} is beyond the null model's largest divergence, ${e(nullModel.bound)}`
        : `resynced, step ${nullModel.resynced.firstFailingStep}'s relative loss difference exceeds ${requestedBound}`;
    const text = [
      `${r.model} on ${r.data}: ${r.engines.scratch} vs ${r.engines.tfjs}, ${r.optimizer} lr ${r.lr}, batch ${r.batch}, seed ${r.seed}, ${r.steps} steps${request.resync ? ", tfjs resynced to scratch's weights every step" : ''}`,
      `loss:      max |Ls − Lt| ${e(r.maxAbsLossDiff)}, max relative ${e(r.maxRelLossDiff)} (bound ${compared.bound})`,
      `weights:   max |Δ| ${e(r.maxAbsWeightDiff)};  gradients: max |Δ| ${e(r.maxAbsGradDiff)} (every ${DEFAULT_CHECK_EVERY}th step and the last)`,
      `ms/step:   ${r.engines.scratch} ${r.scratchMsPerStep.toFixed(2)}, ${r.engines.tfjs} ${r.tfjsMsPerStep.toFixed(2)}`,
      ...(nullModel ? nullModelLines(nullModel) : []),
      r.ok ? 'ok' : `FAILED: ${failure}`,
    ].join('\n');
    return { json: { ...r }, text, exitCode: r.ok ? 0 : 1, reason: r.ok ? undefined : `lockstep failed: ${failure}` };
  },
};
