import { render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import type { LabApi } from '../lib/api';
import { lab } from '../lib/lab.svelte';
import TrainBar from './TrainBar.svelte';

describe('TrainBar', () => {
  it('says it is not connected, not "connecting…", when the services cannot be reached', async () => {
    const refused: LabApi = {
      host: 'browser',
      invoke: async () => {
        throw new Error('This page needs its access token');
      },
      on: () => () => {},
    };
    await lab.init(refused);
    render(TrainBar);
    const state = screen.getByTestId('progress').textContent ?? '';
    expect(state).not.toMatch(/connecting/);
    expect(state).toMatch(/not connected/);
    expect((screen.getByTestId('train-start') as HTMLButtonElement).disabled).toBe(true);
  });
});
