import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FRONT_END } from '../../shared/audio/logmel';
import { toneClip, writeTree } from '../data/audio-test-fixtures';
import { readCheckpoint } from '../store/checkpoint-dir';
import { AppServices } from './app-services';
import { runParams, tempDir, waitForEnd } from './test-helpers';

describe('the app on an audio dataset', () => {
  const dir = tempDir();
  const services = new AppServices(join(dir.path, 'user'), { training: { progressIntervalMs: 20 } });
  afterAll(async () => {
    try {
      await services.close();
    } finally {
      dir.cleanup();
    }
  });

  it('imports it with its front end, which a run trained on it records in its checkpoint', async () => {
    const files: Record<string, Uint8Array> = {};
    for (const [k, c] of ['B', 'D'].entries())
      for (const s of [1, 2, 3, 4, 5]) files[`${c}/s${s}_${c}.wav`] = toneClip(k, 0.5);
    writeTree(join(dir.path, 'tones'), files);
    const summary = await services.invoke('datasets.importPath', { path: join(dir.path, 'tones') });
    expect(summary.audio).toEqual(DEFAULT_FRONT_END);
    expect((await services.invoke('datasets.list', {})).find((d) => d.id === summary.id)?.audio).toEqual(
      DEFAULT_FRONT_END,
    );
    const started = await services.invoke('runs.start', runParams({ epochs: 1, batch: 4 }, summary.id));
    expect((await waitForEnd(services, started.id)).state).toBe('finished');
    const ckpt = readCheckpoint(join(dir.path, 'user', 'runs', started.id, 'checkpoint'));
    expect(ckpt.manifest.audio).toEqual(DEFAULT_FRONT_END);
  });
});
