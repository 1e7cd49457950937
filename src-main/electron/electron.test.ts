/**
 * Electron's binary cannot run here, so the shell is checked against a stand-in `electron`
 * module: the preload's window.lockstep, and the main process's IPC handler, menu and window.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../services/test-helpers';

const userData = tempDir();
afterAll(userData.cleanup);

const h = vi.hoisted(() => {
  const state = {
    exposed: {} as Record<string, unknown>,
    rendererListeners: new Map<string, (...args: unknown[]) => void>(),
    ipcInvoke: vi.fn(),
    handlers: new Map<string, (...args: unknown[]) => unknown>(),
    windows: [] as Array<Record<string, unknown>>,
    sent: [] as unknown[][],
    menu: null as unknown,
    appEvents: new Map<string, (...args: unknown[]) => void>(),
    userDataPath: '',
    resolveReady: null as null | (() => void),
    dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn(), showErrorBox: vi.fn() },
    webRequestHeaders: null as null | ((details: unknown, cb: (r: unknown) => void) => void),
  };
  return state;
});

vi.mock('electron', () => {
  const ready = new Promise<void>((r) => (h.resolveReady = r));
  class BrowserWindow {
    static all: BrowserWindow[] = [];
    webContents: Record<string, unknown>;
    options: unknown;
    loaded: string | null = null;
    constructor(options: unknown) {
      this.options = options;
      const mainFrame = { url: 'file:///app/out/renderer/index.html' };
      const events = new Map<string, (...a: unknown[]) => void>();
      this.webContents = {
        mainFrame,
        events,
        on: (name: string, fn: (...a: unknown[]) => void) => events.set(name, fn),
        setWindowOpenHandler: (fn: unknown) => events.set('window-open', fn as (...a: unknown[]) => void),
        send: (...args: unknown[]) => h.sent.push(args),
      };
      BrowserWindow.all.push(this);
      h.windows.push(this as unknown as Record<string, unknown>);
    }
    on(): void {}
    isDestroyed(): boolean {
      return false;
    }
    loadFile(path: string): Promise<void> {
      this.loaded = path;
      return Promise.resolve();
    }
    loadURL(url: string): Promise<void> {
      this.loaded = url;
      return Promise.resolve();
    }
    static getAllWindows(): BrowserWindow[] {
      return BrowserWindow.all;
    }
    static fromWebContents(wc: unknown): BrowserWindow | undefined {
      return BrowserWindow.all.find((w) => w.webContents === wc);
    }
  }
  return {
    app: {
      isPackaged: true,
      whenReady: () => ready,
      getPath: (name: string) => (name === 'userData' ? h.userDataPath : '/tmp'),
      on: (name: string, fn: (...a: unknown[]) => void) => h.appEvents.set(name, fn),
      quit: vi.fn(),
    },
    BrowserWindow,
    Menu: { buildFromTemplate: (t: unknown) => t, setApplicationMenu: (m: unknown) => (h.menu = m) },
    dialog: h.dialog,
    shell: { openExternal: vi.fn() },
    ipcMain: { handle: (channel: string, fn: (...a: unknown[]) => unknown) => h.handlers.set(channel, fn) },
    session: {
      defaultSession: {
        setPermissionRequestHandler: vi.fn(),
        webRequest: { onHeadersReceived: (fn: (details: unknown, cb: (r: unknown) => void) => void) => (h.webRequestHeaders = fn) },
      },
    },
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (h.exposed[key] = api) },
    ipcRenderer: { invoke: h.ipcInvoke, on: (channel: string, fn: (...a: unknown[]) => void) => h.rendererListeners.set(channel, fn) },
    webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
  };
});

describe('preload', () => {
  it('exposes a frozen LockstepApi over IPC, with events and pathForFile', async () => {
    await import('./preload');
    const api = h.exposed.lockstep as {
      host: string;
      invoke: (m: string, p: unknown) => Promise<unknown>;
      on: (e: string, l: (p: unknown) => void) => () => void;
      pathForFile: (f: unknown) => string;
    };
    expect(api.host).toBe('electron');
    expect(Object.isFrozen(api)).toBe(true);
    h.ipcInvoke.mockResolvedValueOnce({ ok: true, result: { removed: true } });
    await expect(api.invoke('runs.delete', { runId: 'a' })).resolves.toEqual({ removed: true });
    expect(h.ipcInvoke).toHaveBeenLastCalledWith('lockstep:invoke', 'runs.delete', { runId: 'a' });
    h.ipcInvoke.mockResolvedValueOnce({ ok: false, error: 'runs.get: runId: bad' });
    await expect(api.invoke('runs.get', { runId: '!' })).rejects.toThrow('runs.get: runId: bad');
    const got: unknown[] = [];
    const off = api.on('run.state', (p) => got.push(p));
    const deliver = h.rendererListeners.get('lockstep:event')!;
    deliver({}, 'run.state', { id: 'r1' });
    deliver({}, 'run.epoch', { runId: 'r1' });
    off();
    deliver({}, 'run.state', { id: 'r2' });
    expect(got).toEqual([{ id: 'r1' }]);
    expect(api.pathForFile({ name: 'ee-set' })).toBe('/dropped/ee-set');
  });
});

describe('main process', () => {
  it('routes validated requests to AppServices, refuses other senders, forwards events, opens datasets', async () => {
    h.userDataPath = userData.path;
    await import('./main');
    h.resolveReady!();
    await new Promise((r) => setTimeout(r, 20));
    const win = h.windows[0] as { options: { webPreferences: Record<string, unknown> }; loaded: string; webContents: { mainFrame: unknown; events: Map<string, (...a: unknown[]) => unknown> } };
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false });
    expect(win.loaded).toMatch(/renderer[\\/]index\.html$/);
    const prevent = vi.fn();
    win.webContents.events.get('will-navigate')!({ preventDefault: prevent });
    expect(prevent).toHaveBeenCalled();
    expect(win.webContents.events.get('window-open')!({ url: 'https://example.com' })).toEqual({ action: 'deny' });

    const invoke = h.handlers.get('lockstep:invoke')!;
    const event = { sender: win.webContents, senderFrame: win.webContents.mainFrame };
    const info = (await invoke(event, 'app.info', {})) as { ok: boolean; result: { host: string } };
    expect(info).toMatchObject({ ok: true, result: { host: 'electron' } });
    expect(await invoke(event, 'runs.get', { runId: '../x' })).toMatchObject({ ok: false, error: expect.stringMatching(/^runs\.get: runId/) });
    expect(await invoke(event, 'nope', {})).toMatchObject({ ok: false, error: "unknown method 'nope'" });
    const stranger = { sender: { mainFrame: {} }, senderFrame: { url: 'https://evil.example/' } };
    expect(await invoke(stranger, 'app.info', {})).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });

    // File → Open Dataset Folder… imports; the window hears datasets.changed.
    const { writeCourseFixture } = await import('../services/test-helpers');
    const folder = tempDir();
    writeCourseFixture(folder.path);
    h.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [folder.path] });
    const file = (h.menu as Array<{ label?: string; submenu?: Array<{ label?: string; click?: () => void }> }>).find((m) => m.label === 'File')!;
    file.submenu!.find((i) => i.label?.startsWith('Open Dataset Folder'))!.click!();
    await vi.waitFor(() => expect(h.sent.some(([channel, name]) => channel === 'lockstep:event' && name === 'datasets.changed')).toBe(true));
    const list = (await invoke(event, 'datasets.list', {})) as { result: Array<{ name: string }> };
    expect(list.result.map((d) => d.name)).toEqual(['demo', folder.path.split(/[\\/]/).pop()]);
    folder.cleanup();

    // Import errors go to an error box, not a crash.
    h.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [folder.path + '-missing'] });
    file.submenu!.find((i) => i.label?.startsWith('Open Dataset Folder'))!.click!();
    await vi.waitFor(() => expect(h.dialog.showErrorBox).toHaveBeenCalled());

    // The CSP also travels as a header.
    const cb = vi.fn();
    h.webRequestHeaders!({ responseHeaders: { a: ['b'] } }, cb);
    expect(cb.mock.calls[0][0].responseHeaders['Content-Security-Policy'][0]).toMatch(/default-src 'self'/);

    // Quitting stops the services first.
    const quitEvent = { preventDefault: vi.fn() };
    h.appEvents.get('before-quit')!(quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
  });
});
