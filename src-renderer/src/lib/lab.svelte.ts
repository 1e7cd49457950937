import { EE_SET_CLASSES } from '../../../shared/data/dataset';
import { PRESETS } from '../../../shared/presets';
import {
  DEFAULT_TFJS_BACKEND,
  trainingSettingsSchema,
  type DatasetSummary,
  type Events,
  type PresetSummary,
  type RunSummary,
  type RunState,
} from '../../../shared/protocol';
import { TRAINING_AID_KEYS, type TrainingSettings } from '../../../shared/train/settings';
import { getApi, type LabApi } from './api';
import { errorMessage } from './format';
import { appendEpochs, appendSteps, emptySeries, mergeNewer, seriesFromDetail, type RunSeries } from './series';
import { analyzeSpec, withInput, type EditableSpec } from './spec-ops';

export type Tab = 'data' | 'network' | 'train' | 'results' | 'runs' | 'gradients' | 'experiments';
export type EngineKind = 'scratch' | 'tfjs' | 'lockstep';
export type BackendKind = 'cpu' | 'wasm';

export const ACTIVE_STATES: readonly RunState[] = ['queued', 'running', 'paused'];

function plainSpec(spec: { input: [number, number]; layers: Array<Record<string, unknown>> }): EditableSpec {
  return JSON.parse(JSON.stringify(spec)) as EditableSpec;
}

/**
 * The lab's state: what is loaded from the services, what the user is editing, and the live
 * run. Curves live in `series` (plain, non-reactive); `seriesTick` tells charts to redraw.
 */
export class Lab {
  api: LabApi | null = null;
  host = $state<'electron' | 'browser'>('browser');
  version = $state('');
  connectError = $state<string | null>(null);
  connectionLost = $state<string | null>(null);
  ready = $state(false);

  presets = $state.raw<PresetSummary[]>([]);
  classes = $state.raw<string[]>([...EE_SET_CLASSES]);
  datasets = $state.raw<DatasetSummary[]>([]);
  datasetId = $state<string | null>(null);
  runs = $state.raw<RunSummary[]>([]);

  presetName = $state('tdnn');
  spec = $state.raw<EditableSpec>(plainSpec(PRESETS.get('tdnn')!.spec));
  settings = $state<TrainingSettings>({ ...PRESETS.get('tdnn')!.training });
  engine = $state<EngineKind>('scratch');
  backend = $state<BackendKind>(DEFAULT_TFJS_BACKEND);

  tab = $state<Tab>('train');
  /** The run being trained from this window. */
  activeRunId = $state<string | null>(null);
  /** The run shown in the charts and results (the active one, or one reopened). */
  currentRunId = $state<string | null>(null);
  /** Runs ticked in the Runs panel; two or more overlay their curves. */
  compareIds = $state.raw<string[]>([]);
  progress = $state.raw<Events['run.progress'] | null>(null);
  trainError = $state<string | null>(null);
  busy = $state(false);

  series = new Map<string, RunSeries>();
  seriesTick = $state(0);

  dataset = $derived(this.datasets.find((d) => d.id === this.datasetId) ?? null);
  effectiveSpec = $derived(withInput(this.spec, [this.settings.frames, this.dataset?.channels ?? this.spec.input[1]]));
  analysis = $derived(analyzeSpec(this.effectiveSpec, this.dataset?.classes.length));
  settingsError = $derived(this.checkSettings());
  activeRun = $derived(this.runs.find((r) => r.id === this.activeRunId) ?? null);
  currentRun = $derived(this.runs.find((r) => r.id === this.currentRunId) ?? null);
  isTraining = $derived(!!this.activeRun && ACTIVE_STATES.includes(this.activeRun.state));
  viewRunIds = $derived(this.compareIds.length >= 2 ? this.compareIds : this.currentRunId ? [this.currentRunId] : []);
  canTrain = $derived(
    !this.connectionLost &&
      !!this.dataset &&
      !this.analysis.error &&
      !this.settingsError &&
      !this.isTraining &&
      !this.busy &&
      this.ready,
  );
  trainBlockedReason = $derived(
    this.connectError
      ? 'not connected: the Lockstep services cannot be reached'
      : this.connectionLost
        ? 'disconnected: reload the page once the host runs again'
        : !this.ready
          ? 'connecting…'
          : !this.dataset
            ? 'select a dataset first'
            : this.analysis.error
              ? `the network is invalid: ${this.analysis.error}`
              : this.settingsError
                ? this.settingsError
                : this.isTraining
                  ? 'a run is in progress'
                  : null,
  );

  private checkSettings(): string | null {
    const r = trainingSettingsSchema.safeParse($state.snapshot(this.settings));
    if (r.success) return null;
    const issue = r.error.issues[0];
    return `${issue.path.join('.') || 'settings'}: ${issue.message}`;
  }

  async init(api?: LabApi): Promise<void> {
    try {
      this.api = api ?? getApi();
      this.host = this.api.host;
      this.subscribe(this.api);
      this.api.onClose?.((info) => {
        this.connectionLost = `The connection to the Lockstep host closed (${info.code}${info.reason ? `: ${info.reason}` : ''}). Reload the page once the host runs again.`;
      });
      const [info, datasets, runs] = await Promise.all([
        this.api.invoke('app.info', {}),
        this.api.invoke('datasets.list', {}),
        this.api.invoke('runs.list', {}),
      ]);
      this.version = info.version;
      this.host = info.host ?? this.host;
      if (info.presets?.length) this.presets = info.presets;
      if (info.classes?.length) this.classes = info.classes;
      this.datasets = datasets;
      this.runs = runs;
      this.datasetId =
        (datasets.find((d) => d.id === 'demo') ?? datasets.find((d) => d.name === 'demo') ?? datasets[0])?.id ?? null;
      this.applyPreset('tdnn');
      this.ready = true;
    } catch (e) {
      this.connectError = errorMessage(e);
    }
  }

  get presetList(): PresetSummary[] {
    if (this.presets.length) return this.presets;
    return [...PRESETS.values()].map((p) => ({
      name: p.name,
      description: p.description,
      spec: p.spec as PresetSummary['spec'],
      training: p.training,
    }));
  }

  applyPreset(name: string): void {
    const preset = this.presetList.find((p) => p.name === name);
    if (!preset) return;
    this.presetName = name;
    this.spec = plainSpec(preset.spec as EditableSpec);
    this.settings = { ...preset.training };
  }

  setSpec(spec: EditableSpec, fromPreset = false): void {
    this.spec = spec;
    if (!fromPreset) this.presetName = '';
  }

  private subscribe(api: LabApi): void {
    api.on('run.progress', (p) => {
      const s = this.seriesFor(p.runId);
      appendSteps(s, p.steps);
      if (p.runId === this.activeRunId || p.runId === this.currentRunId) this.progress = p;
      this.seriesTick++;
    });
    api.on('run.epoch', (p) => {
      appendEpochs(this.seriesFor(p.runId), p.points);
      this.seriesTick++;
    });
    api.on('run.state', (run) => this.upsertRun(run));
    api.on('datasets.changed', (list) => {
      const known = new Set(this.datasets.map((d) => d.id));
      const added = list.filter((d) => !known.has(d.id));
      this.datasets = list;
      // A new import (File → Open in Electron, or another window): show it, unless a run is on.
      if (added.length === 1 && !this.isTraining) this.datasetId = added[0].id;
      if (!list.some((d) => d.id === this.datasetId)) this.datasetId = list[0]?.id ?? null;
    });
  }

  seriesFor(runId: string): RunSeries {
    let s = this.series.get(runId);
    if (!s) this.series.set(runId, (s = emptySeries(runId)));
    return s;
  }

  upsertRun(run: RunSummary): void {
    const i = this.runs.findIndex((r) => r.id === run.id);
    this.runs = i >= 0 ? this.runs.map((r) => (r.id === run.id ? run : r)) : [run, ...this.runs];
  }

  async start(): Promise<void> {
    if (!this.api || !this.canTrain || !this.dataset) return;
    this.trainError = null;
    this.busy = true;
    try {
      const run = await this.api.invoke('runs.start', {
        datasetId: this.dataset.id,
        spec: $state.snapshot(this.effectiveSpec) as EditableSpec,
        settings: this.cleanSettings(),
        engine: this.engine,
        backend: this.backend,
      });
      this.series.set(run.id, this.series.get(run.id) ?? emptySeries(run.id));
      this.upsertRun(run);
      this.activeRunId = run.id;
      this.currentRunId = run.id;
      this.compareIds = [];
      this.progress = null;
      this.seriesTick++;
    } catch (e) {
      this.trainError = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }

  private cleanSettings(): TrainingSettings {
    const s = $state.snapshot(this.settings) as TrainingSettings;
    const out: TrainingSettings = {
      optimizer: s.optimizer,
      lr: s.lr,
      batch: s.batch,
      epochs: s.epochs,
      seed: s.seed,
      frames: s.frames,
      standardize: s.standardize,
    };
    if (s.optimizer === 'momentum') {
      if (s.momentum !== undefined) out.momentum = s.momentum;
      if (s.nesterov !== undefined) out.nesterov = s.nesterov;
    }
    if (s.weightDecay) out.weightDecay = s.weightDecay;
    if (s.frontEnd && s.frontEnd.normalize !== 'none') out.frontEnd = s.frontEnd;
    for (const key of TRAINING_AID_KEYS) if (s[key] !== undefined) Object.assign(out, { [key]: s[key] });
    return out;
  }

  async control(action: 'runs.pause' | 'runs.resume' | 'runs.stop'): Promise<void> {
    if (!this.api || !this.activeRunId) return;
    this.trainError = null;
    try {
      this.upsertRun(await this.api.invoke(action, { runId: this.activeRunId }));
    } catch (e) {
      this.trainError = errorMessage(e);
    }
  }

  /**
   * Keeps training an interrupted run from its last saved epoch (the services refuse, saying why, when
   * none was saved); it becomes the run the train bar follows, its curves reloaded without what is retrained.
   */
  async resumeRun(runId: string): Promise<void> {
    if (!this.api) return;
    this.upsertRun(await this.api.invoke('runs.resume', { runId }));
    this.series.delete(runId);
    await this.openRun(runId, false);
    this.activeRunId = runId;
    this.currentRunId = runId;
    this.progress = null;
    this.seriesTick++;
  }

  /** Loads a run's full curves (reopening it) and shows it. */
  async openRun(runId: string, show = true): Promise<void> {
    if (!this.api) return;
    const detail = await this.api.invoke('runs.get', { runId });
    const live = this.series.get(runId);
    const fresh = seriesFromDetail(detail);
    // Events may have got here first: keep their newer steps.
    if (live) mergeNewer(fresh, live);
    this.series.set(runId, fresh);
    const { epochs: _e, steps: _s, ...summary } = detail;
    this.upsertRun(summary);
    if (show) {
      this.currentRunId = runId;
      this.compareIds = [];
    }
    this.seriesTick++;
  }

  async ensureSeries(ids: readonly string[]): Promise<void> {
    await Promise.all(ids.filter((id) => !this.series.has(id)).map((id) => this.openRun(id, false)));
  }

  async deleteRun(runId: string): Promise<void> {
    if (!this.api) return;
    await this.api.invoke('runs.delete', { runId });
    this.runs = this.runs.filter((r) => r.id !== runId);
    this.series.delete(runId);
    this.compareIds = this.compareIds.filter((id) => id !== runId);
    if (this.currentRunId === runId) this.currentRunId = null;
    if (this.activeRunId === runId) this.activeRunId = null;
  }

  async removeDataset(id: string): Promise<void> {
    if (!this.api) return;
    await this.api.invoke('datasets.remove', { datasetId: id });
    this.datasets = this.datasets.filter((d) => d.id !== id);
    if (this.datasetId === id) this.datasetId = this.datasets[0]?.id ?? null;
  }

  /** Renames a dataset in the services (which check the name and keep it); the list follows. */
  async renameDataset(id: string, name: string): Promise<void> {
    if (!this.api) return;
    const renamed = await this.api.invoke('datasets.rename', { datasetId: id, name });
    this.datasets = this.datasets.map((d) => (d.id === id ? renamed : d));
  }

  addDataset(d: DatasetSummary): void {
    this.datasets = [...this.datasets.filter((x) => x.id !== d.id), d];
    this.datasetId = d.id;
  }
}

export const lab = new Lab();
