import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import ChartMenu from './ChartMenu.svelte';
import { labControls } from '../lib/gradient-lab-settings.svelte';
import GradientLab from './GradientLab.svelte';

/** Waits until the lab has computed the current setting (tfjs included). */
async function settled(): Promise<HTMLElement> {
  const root = screen.getByTestId('gradient-lab');
  await waitFor(() => expect(root.dataset.busy).toBe('false'), { timeout: 20_000 });
  return root;
}

function change(testid: string, value: string): Promise<boolean> {
  const el = screen.getByTestId(testid) as HTMLInputElement | HTMLSelectElement;
  el.value = value;
  return fireEvent.change(el);
}

afterEach(() => {
  cleanup();
  labControls.reset();
  labControls.kind = 'MaxPooling1D';
});

/** Types a value into a number field without committing it (no Enter, no Tab, no change event). */
function type(testid: string, value: string): Promise<boolean> {
  return fireEvent.input(screen.getByTestId(testid), { target: { value } });
}

describe('GradientLab', () => {
  it('shows the derivative and three Jacobians whose pairwise errors are under tolerance', async () => {
    render(GradientLab);
    await settled();
    expect(screen.getByTestId('lab-derivative').querySelector('.katex')).not.toBeNull();
    for (const s of ['ours', 'tfjs', 'numeric']) {
      const map = screen.getByTestId(`jacobian-${s}`);
      // Max pooling, L = 8, C = 1, W = 3, stride 1, valid: 6 outputs × 8 inputs.
      expect([map.dataset.rows, map.dataset.cols]).toEqual(['6', '8']);
      expect(map.querySelector('svg')).not.toBeNull();
    }
    for (const pair of ['ours-numeric', 'ours-tfjs', 'tfjs-numeric'])
      expect(screen.getByTestId(`err-${pair}`).dataset.ok).toBe('true');
  }, 30_000);

  it('follows the kernel, stride and padding of a convolution', async () => {
    render(GradientLab);
    await settled();
    await change('lab-kind', 'Conv1D');
    await change('lab-kernel', '4');
    await change('lab-strides', '2');
    await change('lab-padding', 'same');
    const root = await settled();
    await waitFor(() => expect(screen.getByTestId('jacobian-ours').dataset.rows).toBe('8'));
    // L = 8, stride 2, 'same': 4 outputs × 2 filters; input 8 × 1.
    expect(screen.getByTestId('jacobian-ours').dataset.cols).toBe('8');
    expect(root.dataset.kind).toBe('Conv1D');
    expect(screen.getByTestId('lab-formula').textContent).toContain('convolution');
  }, 30_000);

  it('"make ties" reports the tied windows and marks their entries in all three maps', async () => {
    render(GradientLab);
    await settled();
    expect(screen.getByTestId('lab-ties').dataset.count).toBe('0');
    await fireEvent.click(screen.getByTestId('lab-make-ties'));
    await settled();
    await waitFor(() => expect(Number(screen.getByTestId('lab-ties').dataset.count)).toBeGreaterThan(0));
    const kinked = Number(screen.getByTestId('lab-kinked').dataset.count);
    expect(kinked).toBeGreaterThan(0);
    for (const s of ['ours', 'tfjs', 'numeric'])
      expect(screen.getByTestId(`jacobian-${s}`).querySelectorAll('[data-kink]')).toHaveLength(kinked);
    expect(screen.getAllByTestId('lab-tied-input').length).toBeGreaterThanOrEqual(2);
  }, 30_000);

  it('keeps its setting when the view is left and reopened; Reset and Re-seed', async () => {
    const first = render(GradientLab);
    await settled();
    await change('lab-kind', 'Dense');
    await settled();
    first.unmount();
    render(GradientLab);
    expect(screen.getByTestId('gradient-lab').dataset.kind).toBe('Dense');
    await settled();
    await fireEvent.click(screen.getByTestId('lab-reseed'));
    await waitFor(() => expect(screen.getByTestId('lab-input').textContent).toContain('seed 2'));
    await fireEvent.click(screen.getByTestId('lab-reset'));
    await settled();
    await waitFor(() => expect(screen.getByTestId('lab-input').textContent).toContain('seed 1'));
    // Reset goes back to the opening sizes and seed, not to another function.
    expect(screen.getByTestId('gradient-lab').dataset.kind).toBe('Dense');
  }, 30_000);

  it('follows a size as it is typed, before Enter or Tab', async () => {
    render(GradientLab);
    await settled();
    await change('lab-kind', 'Conv1D');
    await settled();
    const sizes = () => screen.getByTestId('lab-formula').querySelector('.sizes annotation')?.textContent ?? '';
    await waitFor(() => expect(sizes()).toMatch(/d = 1\b/));
    await type('lab-dilation', '2');
    await settled();
    await waitFor(() => expect(sizes()).toMatch(/d = 2\b/));
    // L = 8, K = 3, d = 2, valid: a span of 5, so 4 outputs × 2 filters.
    expect(screen.getByTestId('jacobian-ours').dataset.rows).toBe('8');
    await type('lab-dilation', '');
    await settled();
    expect(sizes()).toMatch(/d = 2\b/);
  }, 30_000);

  it("shows the spec's own message for a window longer than the input", async () => {
    render(GradientLab);
    await settled();
    await change('lab-length', '2');
    await settled();
    await waitFor(() =>
      expect(screen.getByTestId('lab-error').textContent).toBe(
        'layer 1 MaxPooling1D: poolSize 3 is longer than its input length 2',
      ),
    );
  }, 30_000);
});

describe('ChartMenu', () => {
  afterEach(() => vi.restoreAllMocks());

  it("saves the CSV and SVG it is given under the chart's name", async () => {
    const saved: Array<{ name: string; blob: Blob }> = [];
    let last: Blob | null = null;
    URL.createObjectURL = vi.fn((b: Blob) => ((last = b), 'blob:x'));
    URL.revokeObjectURL = vi.fn();
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      saved.push({ name: this.download, blob: last! });
    });
    render(ChartMenu, {
      testid: 'm',
      stem: 'training-loss',
      png: async () => new Blob(['png']),
      svg: () => '<svg/>',
      csv: () => 'series,step,y\n',
    });
    await fireEvent.click(screen.getByTestId('m-button'));
    await fireEvent.click(screen.getByTestId('m-csv'));
    await fireEvent.click(screen.getByTestId('m-button'));
    await fireEvent.click(screen.getByTestId('m-svg'));
    await fireEvent.click(screen.getByTestId('m-button'));
    await fireEvent.click(screen.getByTestId('m-png'));
    await waitFor(() => expect(saved).toHaveLength(3));
    expect(saved.map((s) => s.name)).toEqual(['training-loss.csv', 'training-loss.svg', 'training-loss.png']);
    expect(await saved[0].blob.text()).toBe('series,step,y\n');
    expect(saved[1].blob.type).toBe('image/svg+xml');
    expect(screen.queryByRole('menu')).toBeNull();
  });
});
