import type { EventName, Events, LockstepApi, Method, Params, Results } from '../../../shared/protocol';
import { createWireClient, type WebSocketLike } from '../../../shared/wire';

/**
 * The one door from the UI to the services. In Electron the preload exposes `window.lockstep`
 * (the same LockstepApi over IPC, plus `pathForFile` for dropped files); in a plain browser
 * the page was served by the browser host and talks to it over a WebSocket (the shared client
 * of shared/wire.ts), authenticated by the token the host put in the page's URL (`?token=…`).
 */
export interface ElectronBridge extends LockstepApi {
  host?: 'electron';
  /** The absolute path of a dropped or picked File (Electron's webUtils.getPathForFile). */
  pathForFile(file: File): string;
}

export interface LabApi extends LockstepApi {
  host: 'electron' | 'browser';
  /** Called when the browser host's connection closes (never in Electron). */
  onClose?(listener: (info: { code: number; reason: string }) => void): () => void;
  /** Electron only. */
  pathForFile?(file: File): string;
}

export interface ApiEnvironment {
  lockstep?: unknown;
  location: { host: string; protocol: string; search: string };
  WebSocket?: new (url: string) => WebSocketLike;
}

function isBridge(v: unknown): v is ElectronBridge {
  return (
    !!v &&
    typeof v === 'object' &&
    typeof (v as ElectronBridge).invoke === 'function' &&
    typeof (v as ElectronBridge).on === 'function'
  );
}

/** `ws://<host>/ws?token=<token>` from the page's own address (wss when served over https). */
export function webSocketUrl(location: ApiEnvironment['location']): string {
  const token = new URLSearchParams(location.search).get('token');
  if (!token)
    throw new Error(
      'This page needs its access token: open the address the Lockstep host printed (it ends in ?token=…).',
    );
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(token)}`;
}

/** Picks the transport: the Electron preload when present, else the browser host's WebSocket. */
export function createApi(env: ApiEnvironment): LabApi {
  if (isBridge(env.lockstep)) {
    const bridge = env.lockstep;
    return {
      host: 'electron',
      invoke: <M extends Method>(method: M, params: Params<M>): Promise<Results[M]> => bridge.invoke(method, params),
      on: <E extends EventName>(event: E, listener: (payload: Events[E]) => void) => bridge.on(event, listener),
      pathForFile: typeof bridge.pathForFile === 'function' ? (file: File) => bridge.pathForFile(file) : undefined,
    };
  }
  if (env.lockstep !== undefined && env.lockstep !== null) {
    // A preload that exposes something else (an older build): say so instead of hanging.
    throw new Error(
      'window.lockstep is present but is not the Lockstep API (no invoke/on): the preload and the renderer are out of step.',
    );
  }
  const url = webSocketUrl(env.location);
  const Socket = env.WebSocket ?? (globalThis.WebSocket as unknown as new (url: string) => WebSocketLike);
  // The shared client (shared/wire.ts): JSON text frames, binary frames for upload bytes.
  const client = createWireClient(new Socket(url));
  return { host: 'browser', invoke: client.invoke, on: client.on, onClose: client.onClose };
}

let api: LabApi | null = null;

/** The app's API, made once. */
export function getApi(): LabApi {
  api ??= createApi(window as unknown as ApiEnvironment);
  return api;
}
