import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { ScratchEngine } from '../../shared/engine/scratch-engine';
import { LockstepError } from '../../shared/errors';
import { ENGINES, type EngineName } from '../../shared/names';
import { TFJS_BACKENDS, type TfjsBackend } from '../../shared/tfjs/backend';
import { TfjsEngine } from '../../shared/tfjs/tfjs-engine';
import type { EngineOptions, TrainingEngine } from '../../shared/train/engine';
import { LockstepEngine } from '../../shared/train/lockstep';

export type { EngineName };

export interface EngineChoice {
  engine: EngineName;
  /** The tfjs backend (tfjs and lockstep). */
  backend: TfjsBackend;
  /** Lockstep: the per-step relative loss difference allowed. */
  bound?: number;
}

/** The folder of tfjs-backend-wasm's .wasm files, wherever npm put the package. */
export function wasmDirectory(): string {
  return join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
}

export function checkEngineChoice(engine: string, backend: string): EngineChoice {
  if (!ENGINES.includes(engine as EngineName))
    throw new LockstepError(`--engine must be one of ${ENGINES.join(', ')}, got '${engine}'`);
  if (!TFJS_BACKENDS.includes(backend as TfjsBackend))
    throw new LockstepError(`--backend must be one of ${TFJS_BACKENDS.join(', ')}, got '${backend}'`);
  return { engine: engine as EngineName, backend: backend as TfjsBackend };
}

export function createTfjsEngine(backend: TfjsBackend, options: EngineOptions): Promise<TfjsEngine> {
  return TfjsEngine.create({ ...options, backend, wasmDir: wasmDirectory() });
}

/** The engine a run asked for: scratch, tfjs on a backend, or both in lockstep (scratch as the reference). */
export async function createEngine(choice: EngineChoice, options: EngineOptions): Promise<TrainingEngine> {
  switch (choice.engine) {
    case 'scratch':
      return new ScratchEngine(options);
    case 'tfjs':
      return createTfjsEngine(choice.backend, options);
    case 'lockstep':
      return new LockstepEngine(new ScratchEngine(options), await createTfjsEngine(choice.backend, options), {
        bound: choice.bound,
      });
  }
}
