import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { EventName, Events, LockstepApi, Method, Params, Results } from '../../shared/protocol';
import type { ElectronLockstep } from '../../shared/wire';

/**
 * The renderer's only door to the app (sandboxed, CommonJS): `window.lockstep`, a frozen
 * LockstepApi over IPC (no Node, no ipcRenderer), plus `pathForFile(file)` so a file or folder
 * dropped on the window is imported by its path (`datasets.importPath`). The main process
 * imports only paths the user gave: each path of a real dropped file is granted to it here
 * (a File the page makes itself has no path), synchronously, before the page can ask for it.
 */
const listeners = new Map<EventName, Set<(payload: never) => void>>();

ipcRenderer.on('lockstep:event', (_event, name: EventName, payload: unknown) => {
  for (const listener of listeners.get(name) ?? []) {
    try {
      (listener as (p: unknown) => void)(payload);
    } catch (e) {
      console.error(`lockstep: a ${name} listener threw`, e);
    }
  }
});

const api: ElectronLockstep = {
  host: 'electron',
  async invoke<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
    const reply = (await ipcRenderer.invoke('lockstep:invoke', method, params)) as {
      ok: boolean;
      result?: unknown;
      error?: string;
    };
    if (!reply.ok) throw new Error(reply.error ?? 'request failed');
    return reply.result as Results[M];
  },
  on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('lockstep.on: listener must be a function');
    let set = listeners.get(event);
    if (!set) listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => void set.delete(listener as (payload: never) => void);
  },
  pathForFile(file: File): string {
    const path = webUtils.getPathForFile(file);
    if (path) ipcRenderer.sendSync('lockstep:grant-path', path);
    return path;
  },
} satisfies LockstepApi & ElectronLockstep;

contextBridge.exposeInMainWorld('lockstep', Object.freeze(api));
