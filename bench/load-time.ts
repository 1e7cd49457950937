/**
 * The benchmark's train-split load time: the process's first load (cold: code not yet
 * optimised, the loader's worker thread starting), then `repeats` warm loads, each timed in
 * wall-clock and CPU time (every thread of this process, so the worker's share counts: on a
 * machine shared with other jobs, CPU time is what the load itself costs).
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Dataset } from '../shared/data/dataset';
import { loadEeSet } from '../src-main/data/eeset';

/** The real ee-set: EE_SET_DIR, by default beside the repository. */
export const EE_SET_DIR =
  process.env.EE_SET_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../shared/datasets/ee-set');

export interface LoadTimes {
  /** The first load's wall-clock ms. */
  coldMs: number;
  /** Each warm load's wall-clock ms and CPU ms. */
  wallMs: number[];
  cpuMs: number[];
}

export async function timeTrainLoad(dataDir: string, repeats: number): Promise<{ dataset: Dataset; times: LoadTimes }> {
  // openDataset reads a folder with loadEeSet; called directly here to load the train split alone.
  const load = () => loadEeSet(dataDir, { frames: 70, splits: ['train'] });
  let t0 = performance.now();
  let dataset = await load();
  const times: LoadTimes = { coldMs: performance.now() - t0, wallMs: [], cpuMs: [] };
  for (let i = 0; i < repeats; i++) {
    const c0 = process.cpuUsage();
    t0 = performance.now();
    dataset = await load();
    times.wallMs.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    times.cpuMs.push((c.user + c.system) / 1000);
  }
  return { dataset, times };
}
