import { isAbsolute, join, resolve } from 'node:path';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  session,
  shell,
  type IpcMainEvent,
  type IpcMainInvokeEvent,
  type MenuItemConstructorOptions,
} from 'electron';
import type { Method, Params } from '../../shared/protocol';
import { RENDERER_CSP } from '../host/csp';
import { AppServices, errorMessage } from '../services/app-services';
import { makeUserDataPrivate } from '../services/private-data';
import { exportFileName, type ExportFormat } from '../services/run-export';

/**
 * The Electron shell: one hardened window over the renderer. Everything behind the window
 * lives in plain-Node services (src-main/services, the same AppServices the browser host
 * runs); this file only carries requests and events between them and the window, and owns
 * the native bits: the File menu and the open / save dialogs.
 *
 * IPC: the preload calls `lockstep:invoke` (method, params); params are validated here by
 * AppServices.handle; the reply is `{ ok, result }` or `{ ok: false, error }` (a complete
 * user-facing message), which the preload turns back into a resolved or rejected promise.
 * Events go to the window as `lockstep:event` (event, payload).
 */
let services: AppServices | null = null;
let mainWindow: BrowserWindow | null = null;

const rendererIndex = join(__dirname, '../renderer/index.html');
/** `electron-vite dev` serves the renderer itself (where Electron runs); otherwise the built files. */
const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

/** Only the app's own page, in its main frame, may call the services. */
function trusted(event: IpcMainInvokeEvent | IpcMainEvent): boolean {
  const frame = event.senderFrame;
  if (!frame || frame !== event.sender.mainFrame || BrowserWindow.fromWebContents(event.sender) !== mainWindow)
    return false;
  return (
    frame.url.startsWith('file://') || (!!devServerUrl && frame.url.startsWith(new URL(devServerUrl).origin + '/'))
  );
}

/**
 * The paths the user gave the window by dropping them (granted by the preload, see preload.ts).
 * The renderer reaches the file system only through these, the open dialog (File menu) and the
 * save dialog (exports): a `datasets.importPath` of any other path, or a `runs.export` naming
 * its own destination, is refused.
 */
const grantedPaths = new Set<string>();

function onGrantPath(event: IpcMainEvent, path: unknown): void {
  if (trusted(event) && typeof path === 'string' && isAbsolute(path)) grantedPaths.add(resolve(path));
  event.returnValue = true;
}

/** Why a request from the window touches a path the user did not give it, or null. */
function pathRefusal(method: unknown, params: unknown): string | null {
  const path = params && typeof params === 'object' ? (params as { path?: unknown }).path : undefined;
  if (method === 'datasets.importPath' && !(typeof path === 'string' && grantedPaths.has(resolve(path)))) {
    return 'request refused: the window may import only a file or folder dropped on it (or opened with File → Open)';
  }
  if (method === 'runs.export' && path !== undefined)
    return 'request refused: the export destination is chosen in the save dialog';
  return null;
}

/** The save dialog of each export format: a folder, or one file of a type. */
const EXPORT_DIALOGS: Record<ExportFormat, { title: string; filter?: Electron.FileFilter }> = {
  tfjs: { title: 'Export the run as a TensorFlow.js model folder' },
  npz: { title: 'Export the weights as .npz', filter: { name: 'NumPy archive', extensions: ['npz'] } },
  onnx: { title: 'Export the model as .onnx', filter: { name: 'ONNX model', extensions: ['onnx'] } },
  checkpoint: { title: 'Export the run as a Lockstep checkpoint folder' },
};

/** `runs.export` without a path: ask where to save (null when the user cancels). */
async function askExportPath(params: Params<'runs.export'>): Promise<string | null> {
  const run = services!.runs.get(params.runId);
  const { title, filter } = EXPORT_DIALOGS[params.format];
  const options: Electron.SaveDialogOptions = {
    title,
    defaultPath: join(app.getPath('documents'), exportFileName(run.name, params.format)),
    buttonLabel: 'Export',
    properties: ['createDirectory', 'showOverwriteConfirmation'],
    ...(filter ? { filters: [filter] } : {}),
  };
  const result = mainWindow ? await dialog.showSaveDialog(mainWindow, options) : await dialog.showSaveDialog(options);
  return result.canceled || !result.filePath ? null : result.filePath;
}

async function invoke(
  event: IpcMainInvokeEvent,
  method: unknown,
  params: unknown,
): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  if (!trusted(event)) return { ok: false, error: 'request refused: it did not come from the Lockstep window' };
  if (!services) return { ok: false, error: 'Lockstep is starting or stopping; try again' };
  const refusal = pathRefusal(method, params);
  if (refusal !== null) return { ok: false, error: refusal };
  try {
    if (
      method === 'runs.export' &&
      params &&
      typeof params === 'object' &&
      (params as { path?: unknown }).path === undefined
    ) {
      // Validate first, so a bad request never opens a dialog.
      services.runs.get(String((params as { runId?: unknown }).runId));
      const path = await askExportPath(params as Params<'runs.export'>);
      if (path === null) return { ok: true, result: { files: [] } };
      params = { ...(params as object), path };
    }
    return { ok: true, result: await services.handle(String(method) as Method, params) };
  } catch (e) {
    return { ok: false, error: errorMessage(e) };
  }
}

/** File → Open: import a dataset folder or file the user picks. */
async function openDataset(kind: 'folder' | 'file'): Promise<void> {
  if (!services) return;
  const options: Electron.OpenDialogOptions =
    kind === 'folder'
      ? { title: 'Open a dataset folder (holding train/, dev/, eval/)', properties: ['openDirectory'] }
      : {
          title: 'Open a dataset file',
          properties: ['openFile'],
          filters: [
            { name: 'Datasets', extensions: ['txt', 'zip', 'gz', 'tgz', 'npz', 'csv'] },
            { name: 'All files', extensions: ['*'] },
          ],
        };
  const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
  const path = result.filePaths[0];
  if (result.canceled || !path) return;
  try {
    // datasets.changed tells the window.
    await services.handle('datasets.importPath', { path });
  } catch (e) {
    dialog.showErrorBox('Could not import the dataset', errorMessage(e));
  }
}

function buildMenu(): void {
  const isMac = process.platform === 'darwin';
  const template: MenuItemConstructorOptions[] = [
    ...(isMac ? [{ role: 'appMenu' } as MenuItemConstructorOptions] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Dataset Folder…', accelerator: 'CmdOrCtrl+O', click: () => void openDataset('folder') },
        { label: 'Open Dataset File…', accelerator: 'CmdOrCtrl+Shift+O', click: () => void openDataset('file') },
        { type: 'separator' },
        isMac ? { role: 'close' } : { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function createWindow(): void {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    title: 'Lockstep',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webviewTag: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      navigateOnDragDrop: false,
    },
  });
  mainWindow = win;
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  // No navigation away from the app and no new windows; https links open in the system browser.
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.on('will-redirect', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\//.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererIndex);
}

// Every web contents (the window, devtools, anything a bug might open): no webviews, no new windows.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
});

/** The app's own page loads from file:// (or the dev server); anything else on the network is remote content. */
function isOwnContent(url: string): boolean {
  if (!/^(https?|wss?):/i.test(url)) return true; // file:, data:, blob:, devtools:
  return !!devServerUrl && new URL(url).origin.replace(/^ws/, 'http') === new URL(devServerUrl).origin;
}

void app.whenReady().then(() => {
  makeUserDataPrivate(app.getPath('userData'));
  services = new AppServices(app.getPath('userData'), { host: 'electron' });
  services.onAny((event, payload) => {
    for (const win of BrowserWindow.getAllWindows())
      if (!win.isDestroyed()) win.webContents.send('lockstep:event', event, payload);
  });
  ipcMain.handle('lockstep:invoke', invoke);
  ipcMain.on('lockstep:grant-path', onGrantPath);

  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);
  // No remote content: the renderer needs nothing from the network (the services are behind IPC).
  ses.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isOwnContent(details.url) }));
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });

  buildMenu();
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => app.quit());

// Stop the training workers before quitting, so active runs are recorded as interrupted.
let closing = false;
app.on('before-quit', (event) => {
  if (!services || closing) return;
  closing = true;
  event.preventDefault();
  const s = services;
  services = null;
  void s.close().finally(() => app.quit());
});
