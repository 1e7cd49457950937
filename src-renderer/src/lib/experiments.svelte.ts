import type { Events, ExperimentRow, ExperimentSpec, ExperimentSummary, Params } from '../../../shared/protocol';
import type { LabApi } from './api';
import { errorMessage } from './format';

/**
 * The Experiments view's state: the built-in experiments, every experiment the services know
 * (kept current by their experiment.state and experiment.row events), the one on screen, and
 * the start / stop / report requests. The runs' own curves arrive as ordinary run.* events,
 * which the lab already collects into its series.
 */
export const ACTIVE_EXPERIMENT_STATES: ReadonlySet<ExperimentSummary['state']> = new Set([
  'running',
  'timing',
  'reporting',
]);

export class ExperimentsState {
  private api: LabApi | null = null;
  builtins = $state.raw<ExperimentSpec[]>([]);
  list = $state.raw<ExperimentSummary[]>([]);
  currentId = $state<string | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  loaded = $state(false);

  current = $derived(this.list.find((e) => e.id === this.currentId) ?? null);
  isActive = $derived(!!this.current && ACTIVE_EXPERIMENT_STATES.has(this.current.state));

  /** Subscribes once and loads the built-ins and the experiments; later calls only reload. */
  async init(api: LabApi): Promise<void> {
    if (this.api !== api) {
      this.api = api;
      api.on('experiment.state', (s) => this.upsert(s));
      api.on('experiment.row', (e) => this.applyRow(e));
    }
    try {
      const [builtins, list] = await Promise.all([
        api.invoke('experiments.builtins', {}),
        api.invoke('experiments.list', {}),
      ]);
      this.builtins = builtins;
      this.list = list;
      this.currentId ??= this.list[0]?.id ?? null;
      this.loaded = true;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  upsert(summary: ExperimentSummary): void {
    const i = this.list.findIndex((e) => e.id === summary.id);
    this.list = i >= 0 ? this.list.map((e) => (e.id === summary.id ? summary : e)) : [summary, ...this.list];
  }

  applyRow({ experimentId, row }: Events['experiment.row']): void {
    const exp = this.list.find((e) => e.id === experimentId);
    if (!exp) return;
    const rows: ExperimentRow[] = exp.rows.map((r) => (r.key === row.key ? row : r));
    this.upsert({ ...exp, rows });
  }

  async start(params: Params<'experiments.start'>): Promise<boolean> {
    return this.request(async (api) => {
      const summary = await api.invoke('experiments.start', params);
      this.upsert(summary);
      this.currentId = summary.id;
    });
  }

  async stop(): Promise<boolean> {
    const id = this.currentId;
    if (!id) return false;
    return this.request(async (api) => this.upsert(await api.invoke('experiments.stop', { experimentId: id })));
  }

  private async request(work: (api: LabApi) => Promise<void>): Promise<boolean> {
    if (!this.api) return false;
    this.error = null;
    this.busy = true;
    try {
      await work(this.api);
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    } finally {
      this.busy = false;
    }
  }
}

export const experiments = new ExperimentsState();
