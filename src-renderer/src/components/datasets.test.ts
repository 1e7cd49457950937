import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PRESETS } from '../../../shared/presets';
import type { DatasetSummary } from '../../../shared/protocol';
import type { LabApi } from '../lib/api';
import { lab } from '../lib/lab.svelte';
import DatasetsPanel from './DatasetsPanel.svelte';
import TrainBar from './TrainBar.svelte';

const split = (kept: number) => ({
  listed: kept,
  kept,
  dropped: { nonFinite: 0, short: 0, missing: 0, malformed: 0 },
  droppedExamples: [],
  classCounts: new Array(9).fill(kept / 9),
});
const classes = ['B', 'C', 'D', 'E', 'G', 'P', 'T', 'V', 'Z'];
const imported = (id: string, importedAt: string): DatasetSummary => ({
  id,
  name: 'data',
  source: '/home/me/ee-set/data',
  importedAt,
  classes,
  frames: 70,
  channels: 16,
  splits: { train: split(27), dev: split(18) },
});
// The same folder imported twice: both are called after it.
const first = imported('ds-a', '2026-12-05T10:00:00Z');
const second = imported('ds-b', '2026-12-05T10:05:00Z');

function fakeApi(): LabApi {
  const results: Record<string, (p: Record<string, unknown>) => unknown> = {
    'app.info': () => ({ version: 't', host: 'browser', presets: [...PRESETS.values()], classes }),
    'datasets.list': () => [first, second],
    'runs.list': () => [],
    'datasets.example': () => ({ id: 'x', label: 0, frames: 70, channels: 16, values: new Array(70 * 16).fill(0) }),
    'datasets.rename': (p) => ({ ...second, name: p.name }),
  };
  return {
    host: 'browser',
    invoke: vi.fn(async (m: string, p: Record<string, unknown>) => results[m](p)) as unknown as LabApi['invoke'],
    on: () => () => {},
  };
}

afterEach(() => cleanup());

describe('datasets of the same name', () => {
  it('are told apart in the menus, warned about, and one can be renamed', async () => {
    const api = fakeApi();
    await lab.init(api);
    lab.datasetId = second.id;
    render(TrainBar);
    const options = [...(screen.getByTestId('dataset-select') as HTMLSelectElement).options].map((o) => o.textContent);
    expect(options).toHaveLength(2);
    expect(options[0]).toMatch(/^data \(27 train · 18 dev\) · imported /);
    expect(new Set(options).size).toBe(2);
    render(DatasetsPanel);
    expect(screen.getByTestId('dataset-duplicate').textContent).toMatch(
      /Another dataset is also called “data” \(the same source and counts/,
    );
    expect(screen.getAllByTestId('dataset-source').map((s) => s.textContent)).toEqual([first.source, second.source]);

    await fireEvent.click(screen.getByTestId('dataset-rename'));
    await fireEvent.input(screen.getByTestId('dataset-rename-input'), { target: { value: 'data (again)' } });
    await fireEvent.click(screen.getByTestId('dataset-rename-save'));
    expect(api.invoke).toHaveBeenCalledWith('datasets.rename', { datasetId: second.id, name: 'data (again)' });
    await waitFor(() => expect(screen.getByTestId('dataset-name').textContent).toBe('data (again)'));
    expect(screen.queryByTestId('dataset-duplicate')).toBeNull();
    expect([...(screen.getByTestId('dataset-select') as HTMLSelectElement).options].map((o) => o.textContent)).toEqual([
      'data (27 train · 18 dev)',
      'data (again) (27 train · 18 dev)',
    ]);
  });
});
