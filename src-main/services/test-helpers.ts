/**
 * Helpers for the services' and host's tests (not used by the app): temp folders, a small
 * course-layout dataset, a fast network, and waiting for run events.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { afterAll } from 'vitest';
import type { Events, Params, RunSummary } from '../../shared/protocol';
import type { AppServices } from './app-services';

export function tempDir(prefix = 'lockstep-test-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * For a test file's top level: returns `tmp()`, which makes a fresh folder under the OS temp
 * folder; every folder it made is removed after the file's tests, whether they passed or not.
 */
export function tempDirsRemovedAfterAll(prefix = 'lockstep-test-'): () => string {
  const made: Array<() => void> = [];
  afterAll(() => made.forEach((cleanup) => cleanup()));
  return () => {
    const dir = tempDir(prefix);
    made.push(dir.cleanup);
    return dir.path;
  };
}

function featureText(seed: number, label: number, rows: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < 16; c++)
      cells.push((Math.sin(seed * 3.1 + r * 0.2 + c) + (c === label * 3 ? 2 : 0)).toExponential(7));
    lines.push(cells.join(' '));
  }
  return lines.join('\n') + '\n';
}

/**
 * A small ee-set course layout under `root`: train (12 examples, classes 0–2, one short file
 * dropped) and dev (6 examples). Returns the file map (relative path → text) it wrote.
 */
export function writeCourseFixture(root: string): Map<string, string> {
  const files = new Map<string, string>();
  const add = (rel: string, text: string): void => {
    files.set(rel, text);
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  for (const [split, n] of [
    ['train', 12],
    ['dev', 6],
  ] as const) {
    const lines: string[] = [];
    for (let i = 0; i < n; i++) {
      const label = i % 3;
      lines.push(`${label} ${split}/feat/ex${i}.txt`);
      add(`${split}/feat/ex${i}.txt`, featureText(i + (split === 'dev' ? 100 : 0), label, 72));
    }
    if (split === 'train') {
      lines.push(`1 train/feat/short.txt`);
      add('train/feat/short.txt', featureText(99, 1, 20));
    }
    add(`${split}/lab/${split}.txt`, lines.join('\n') + '\n');
  }
  return files;
}

/** Every file under `root` as a page would upload the dropped folder `name`: relativePath `name/<path>`, sorted. */
export function droppedFolder(root: string, name: string): Array<{ relativePath: string; data: Uint8Array }> {
  const out: Array<{ relativePath: string; data: Uint8Array }> = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push({ relativePath: `${name}/${relative(root, p).split(sep).join('/')}`, data: readFileSync(p) });
    }
  };
  walk(root);
  return out.sort((a, b) => (a.relativePath < b.relativePath ? -1 : 1));
}

/** A small, fast network for the demo's shape (70 × 16, 9 classes). */
export const SMALL_SPEC: Params<'runs.start'>['spec'] = {
  input: [70, 16],
  layers: [
    { type: 'Conv1D', filters: 4, kernelSize: 3, strides: 2, activation: 'tanh' },
    { type: 'MaxPooling1D', poolSize: 2 },
    { type: 'TimeSum' },
    { type: 'Dense', units: 9, activation: 'softmax' },
  ],
};

export function runParams(
  overrides: Partial<Params<'runs.start'>['settings']> = {},
  datasetId = 'demo',
): Params<'runs.start'> {
  return {
    datasetId,
    spec: SMALL_SPEC,
    engine: 'scratch',
    backend: 'cpu',
    settings: {
      optimizer: 'adam',
      lr: 0.01,
      batch: 30,
      epochs: 2,
      seed: 7,
      frames: 70,
      standardize: true,
      ...overrides,
    },
  };
}

/** Resolves with the run's summary once `predicate` holds for a run.state event (or already holds). */
export function waitForState(
  services: AppServices,
  runId: string,
  predicate: (run: RunSummary) => boolean,
  timeoutMs = 30_000,
): Promise<RunSummary> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`run ${runId}: timed out waiting (state ${services.runs.get(runId).state})`));
    }, timeoutMs);
    const check = (run: RunSummary): boolean => {
      if (run.id !== runId || !predicate(run)) return false;
      clearTimeout(timer);
      off();
      resolve(run);
      return true;
    };
    const off = services.on('run.state', check);
    check(services.runs.get(runId));
  });
}

/** Waits for a run to reach a terminal state and its worker to exit; returns its final summary. */
export async function waitForEnd(services: AppServices, runId: string, timeoutMs?: number): Promise<RunSummary> {
  await waitForState(
    services,
    runId,
    (r) => ['finished', 'failed', 'stopped', 'interrupted'].includes(r.state),
    timeoutMs,
  );
  await services.sessions.exited(runId);
  return services.runs.get(runId);
}

/** Resolves with the first event of a kind for a run. */
export function nextEvent<E extends 'run.progress' | 'run.epoch'>(
  services: AppServices,
  event: E,
  runId: string,
): Promise<Events[E]> {
  return new Promise((resolve) => {
    const off = services.on(event, (payload) => {
      if (payload.runId !== runId) return;
      off();
      resolve(payload);
    });
  });
}

/**
 * Resolves once a run has reported epoch `epoch`. The worker saves the first epoch's weights
 * right after its point, so by epoch 2's point they are on disk.
 */
export function untilEpoch(services: AppServices, runId: string, epoch: number): Promise<void> {
  return new Promise((resolve) => {
    const off = services.on('run.epoch', (e) => {
      if (e.runId === runId && e.points.some((p) => p.epoch >= epoch)) {
        off();
        resolve();
      }
    });
  });
}
