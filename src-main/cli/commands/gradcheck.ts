import { gradientCheck, gradientPoint } from '../../../shared/engine/gradcheck';
import { DEFAULT_TFJS_BACKEND } from '../../../shared/protocol';
import { tfjsGradientCheck } from '../../../shared/tfjs/gradcheck';
import { checkEngineChoice, wasmDirectory } from '../../services/engines';
import { resolveModel } from '../../services/models';
import { intFlag, required } from '../args';
import type { Command } from '../command';

export const gradcheck: Command = {
  summary:
    "check every layer's backward pass against finite differences (float64) and against tfjs's autodiff (float32)",
  usage:
    'gradcheck --model PRESET|SPEC.json [--seed 1] [--batch 3] [--samples 1000 (per tensor; 0 = all)] [--backend cpu|wasm (tfjs)]',
  flags: {
    model: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    samples: { type: 'string' },
    backend: { type: 'string' },
  },
  async run(flags) {
    const f = flags as Record<string, string | undefined>;
    const { backend } = checkEngineChoice('tfjs', f.backend ?? DEFAULT_TFJS_BACKEND);
    const model = resolveModel(required('model', f.model));
    const options = {
      seed: intFlag('seed', f.seed, 0),
      batch: intFlag('batch', f.batch, 1),
      maxPerTensor: intFlag('samples', f.samples, 0),
    };
    const result = gradientCheck(model.spec, options);
    const tfjs = await tfjsGradientCheck(gradientPoint(model.spec, options), { backend, wasmDir: wasmDirectory() });
    const layers = result.layers.map((l, i) => ({ ...l, tfjsMaxRelError: tfjs.layers[i].tfjsMaxRelError }));
    const ok = result.ok && tfjs.ok;
    const lines = layers.map(
      (l) =>
        `${l.layer.padEnd(26)} ${l.className.padEnd(24)} vs finite differences ${l.maxRelError.toExponential(2)}  vs tfjs ${l.tfjsMaxRelError.toExponential(2)}  ` +
        `(${l.tensors.map((t) => `${t.name.split('/').pop()} ${t.checked}${t.skipped ? `+${t.skipped} at kinks` : ''}`).join(', ')})`,
    );
    lines.push(
      `${ok ? 'ok' : 'FAILED'}: max relative error ${result.maxRelError.toExponential(2)} against finite differences (tolerance ${result.tolerance}), ` +
        `${tfjs.tfjsMaxRelError.toExponential(2)} against tfjs-${backend} (tolerance ${tfjs.tolerance}, float32)`,
    );
    const failures = [
      ...(result.ok
        ? []
        : [
            `max relative error ${result.maxRelError.toExponential(2)} > ${result.tolerance} against finite differences`,
          ]),
      ...(tfjs.ok
        ? []
        : [`max relative error ${tfjs.tfjsMaxRelError.toExponential(2)} > ${tfjs.tolerance} against tfjs`]),
    ];
    return {
      json: {
        ...result,
        ok,
        layers,
        tfjsBackend: backend,
        tfjsTolerance: tfjs.tolerance,
        tfjsMaxRelError: tfjs.tfjsMaxRelError,
      },
      text: lines.join('\n'),
      exitCode: ok ? 0 : 1,
      reason: ok ? undefined : `gradient check failed: ${failures.join('; ')}`,
    };
  },
};
