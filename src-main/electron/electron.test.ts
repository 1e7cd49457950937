/**
 * Electron's binary cannot run here, so the shell is checked against a stand-in `electron`
 * module: the preload's window.lockstep, and the main process's IPC handler, menu and window.
 */
import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { tempDir } from '../services/test-helpers';

const userData = tempDir();
afterAll(userData.cleanup);

const h = vi.hoisted(() => {
  const state = {
    exposed: {} as Record<string, unknown>,
    rendererListeners: new Map<string, (...args: unknown[]) => void>(),
    ipcInvoke: vi.fn(),
    handlers: new Map<string, (...args: unknown[]) => unknown>(),
    listeners: new Map<string, (...args: unknown[]) => unknown>(),
    ipcSendSync: vi.fn(),
    windows: [] as Array<Record<string, unknown>>,
    sent: [] as unknown[][],
    menu: null as unknown,
    appEvents: new Map<string, (...args: unknown[]) => void>(),
    userDataPath: '',
    resolveReady: null as null | (() => void),
    dialog: { showOpenDialog: vi.fn(), showSaveDialog: vi.fn(), showErrorBox: vi.fn() },
    webRequestHeaders: null as null | ((details: unknown, cb: (r: unknown) => void) => void),
    beforeRequest: null as null | ((details: { url: string }, cb: (r: { cancel: boolean }) => void) => void),
    permissionRequest: vi.fn(),
    permissionCheck: vi.fn(),
    openExternal: vi.fn(),
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
    shell: { openExternal: h.openExternal },
    ipcMain: {
      handle: (channel: string, fn: (...a: unknown[]) => unknown) => h.handlers.set(channel, fn),
      on: (channel: string, fn: (...a: unknown[]) => unknown) => h.listeners.set(channel, fn),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: h.permissionRequest,
        setPermissionCheckHandler: h.permissionCheck,
        webRequest: {
          onHeadersReceived: (fn: (details: unknown, cb: (r: unknown) => void) => void) => (h.webRequestHeaders = fn),
          onBeforeRequest: (fn: NonNullable<typeof h.beforeRequest>) => (h.beforeRequest = fn),
        },
      },
    },
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => (h.exposed[key] = api) },
    ipcRenderer: {
      invoke: h.ipcInvoke,
      sendSync: h.ipcSendSync,
      on: (channel: string, fn: (...a: unknown[]) => void) => h.rendererListeners.set(channel, fn),
    },
    webUtils: { getPathForFile: (file: { name: string }) => (file.name ? `/dropped/${file.name}` : '') },
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
    // A dropped file's path is granted to the main process, before the page can use it; a File without a path grants nothing.
    expect(h.ipcSendSync.mock.calls).toEqual([['lockstep:grant-path', '/dropped/ee-set']]);
    expect(api.pathForFile({ name: '' })).toBe('');
    expect(h.ipcSendSync).toHaveBeenCalledTimes(1);
  });
});

describe('main process', () => {
  it('routes validated requests to AppServices, refuses other senders, forwards events, opens datasets', async () => {
    h.userDataPath = userData.path;
    chmodSync(userData.path, 0o755); // as earlier versions left it
    await import('./main');
    h.resolveReady!();
    await new Promise((r) => setTimeout(r, 20));
    // The user data is the user's alone: the folder, and what the services made in it.
    for (const d of [userData.path, join(userData.path, 'datasets'), join(userData.path, 'runs')]) {
      expect(statSync(d).mode & 0o777).toBe(0o700);
    }
    const win = h.windows[0] as {
      options: { webPreferences: Record<string, unknown> };
      loaded: string;
      webContents: { mainFrame: unknown; events: Map<string, (...a: unknown[]) => unknown> };
    };
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
    expect(await invoke(event, 'runs.get', { runId: '../x' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^runs\.get: runId/),
    });
    expect(await invoke(event, 'nope', {})).toMatchObject({ ok: false, error: "unknown method 'nope'" });
    const stranger = { sender: { mainFrame: {} }, senderFrame: { url: 'https://evil.example/' } };
    expect(await invoke(stranger, 'app.info', {})).toMatchObject({
      ok: false,
      error: expect.stringMatching(/refused/),
    });

    // File → Open Dataset Folder… imports; the window hears datasets.changed.
    const { writeCourseFixture } = await import('../services/test-helpers');
    const folder = tempDir();
    onTestFinished(folder.cleanup);
    writeCourseFixture(folder.path);
    h.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [folder.path] });
    const file = (h.menu as Array<{ label?: string; submenu?: Array<{ label?: string; click?: () => void }> }>).find(
      (m) => m.label === 'File',
    )!;
    file.submenu!.find((i) => i.label?.startsWith('Open Dataset Folder'))!.click!();
    await vi.waitFor(() =>
      expect(h.sent.some(([channel, name]) => channel === 'lockstep:event' && name === 'datasets.changed')).toBe(true),
    );
    const list = (await invoke(event, 'datasets.list', {})) as { result: Array<{ name: string }> };
    expect(list.result.map((d) => d.name)).toEqual(['demo', folder.path.split(/[\\/]/).pop()]);

    // Import errors go to an error box, not a crash.
    h.dialog.showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [folder.path + '-missing'] });
    file.submenu!.find((i) => i.label?.startsWith('Open Dataset Folder'))!.click!();
    await vi.waitFor(() => expect(h.dialog.showErrorBox).toHaveBeenCalled());

    // The CSP also travels as a header.
    const cb = vi.fn();
    h.webRequestHeaders!({ responseHeaders: { a: ['b'] } }, cb);
    expect(cb.mock.calls[0][0].responseHeaders['Content-Security-Policy'][0]).toMatch(/default-src 'self'/);
  });

  it('is hardened: isolated sandboxed renderer without Node, strict CSP, no navigation, no new windows, no remote content, no permissions', async () => {
    const win = h.windows[0] as {
      options: { webPreferences: Record<string, unknown> };
      webContents: { events: Map<string, (...a: unknown[]) => unknown> };
    };
    expect(win.options.webPreferences).toEqual({
      preload: expect.stringMatching(/preload[\\/]index\.cjs$/),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
    });

    // Navigation and redirects away from the app are cancelled, whatever the target.
    for (const event of ['will-navigate', 'will-redirect']) {
      for (const url of ['https://example.com/', 'file:///etc/passwd', 'http://127.0.0.1:9/']) {
        const preventDefault = vi.fn();
        win.webContents.events.get(event)!({ preventDefault }, url);
        expect(preventDefault, `${event} ${url}`).toHaveBeenCalled();
      }
    }
    // window.open is always denied; only an https link goes to the system browser.
    h.openExternal.mockClear();
    const open = win.webContents.events.get('window-open')!;
    for (const url of ['https://example.com/doc', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)'])
      expect(open({ url })).toEqual({ action: 'deny' });
    expect(h.openExternal.mock.calls).toEqual([['https://example.com/doc']]);
    // Any other web contents (devtools, or one a bug opens): no webviews, no windows.
    const other = new Map<string, (...a: unknown[]) => unknown>();
    h.appEvents.get('web-contents-created')!(
      {},
      {
        on: (name: string, fn: (...a: unknown[]) => unknown) => other.set(name, fn),
        setWindowOpenHandler: (fn: (...a: unknown[]) => unknown) => other.set('window-open', fn),
      },
    );
    const preventWebview = vi.fn();
    other.get('will-attach-webview')!({ preventDefault: preventWebview });
    expect(preventWebview).toHaveBeenCalled();
    expect(other.get('window-open')!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });

    // Permissions (camera, notifications, …) are refused, asked or checked.
    const answer = vi.fn();
    h.permissionRequest.mock.calls[0][0]({}, 'media', answer);
    expect(answer).toHaveBeenCalledWith(false);
    expect(h.permissionCheck.mock.calls[0][0]({}, 'clipboard-read')).toBe(false);

    // No remote content: every http(s)/ws(s) request is cancelled; the app's own files load.
    const cancelled = (url: string): boolean => {
      let decision: boolean | undefined;
      h.beforeRequest!({ url }, (r) => (decision = r.cancel));
      return decision!;
    };
    for (const url of [
      'https://cdn.example.com/x.js',
      'http://127.0.0.1:5199/',
      'ws://127.0.0.1:5199/ws',
      'wss://example.com/',
    ])
      expect(cancelled(url), url).toBe(true);
    for (const url of [
      'file:///app/out/renderer/index.html',
      'file:///app/out/renderer/assets/app.js',
      'data:image/png;base64,AA==',
      'devtools://devtools/bundled/x.html',
    ])
      expect(cancelled(url), url).toBe(false);

    // Files: only paths the user gave. An import of a path not dropped is refused; a dropped one
    // (granted by the preload, from the app's own window only) imports; exports go through the save dialog.
    const { writeCourseFixture } = await import('../services/test-helpers');
    const dropped = tempDir();
    onTestFinished(dropped.cleanup);
    writeCourseFixture(dropped.path);
    const event = {
      sender: win.webContents,
      senderFrame: (win.webContents as unknown as { mainFrame: unknown }).mainFrame,
    };
    const invoke = h.handlers.get('lockstep:invoke')!;
    const grant = h.listeners.get('lockstep:grant-path')!;
    expect(await invoke(event, 'datasets.importPath', { path: dropped.path })).toEqual({
      ok: false,
      error: 'request refused: the window may import only a file or folder dropped on it (or opened with File → Open)',
    });
    const stranger = {
      sender: { mainFrame: {} },
      senderFrame: { url: 'https://evil.example/' },
      returnValue: undefined,
    };
    grant(stranger, dropped.path);
    expect(await invoke(event, 'datasets.importPath', { path: dropped.path })).toMatchObject({ ok: false });
    const granted = { ...event, returnValue: undefined as unknown };
    grant(granted, dropped.path);
    expect(granted.returnValue).toBe(true);
    expect(await invoke(event, 'datasets.importPath', { path: dropped.path })).toMatchObject({
      ok: true,
      result: { name: dropped.path.split(/[\\/]/).pop() },
    });
    expect(await invoke(event, 'datasets.importPath', { path: '/etc' })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/refused/),
    });
    expect(await invoke(event, 'runs.export', { runId: 'run-x', format: 'npz', path: '/tmp/anywhere.npz' })).toEqual({
      ok: false,
      error: 'request refused: the export destination is chosen in the save dialog',
    });

    // The CSP sent with every response: scripts only from the app (no eval), no plugins, no remote sources, no framing.
    const cb = vi.fn();
    h.webRequestHeaders!({ responseHeaders: {} }, cb);
    const csp = cb.mock.calls[0][0].responseHeaders['Content-Security-Policy'][0] as string;
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name, values]),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp).not.toMatch(/'unsafe-eval'|https?:|\*\s|\s\*(;|$)/);

    // Quitting stops the services first.
    const quitEvent = { preventDefault: vi.fn() };
    h.appEvents.get('before-quit')!(quitEvent);
    expect(quitEvent.preventDefault).toHaveBeenCalled();
  });
});
