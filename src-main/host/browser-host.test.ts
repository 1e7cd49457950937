import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { WebSocket } from 'ws';
import type { Events, ResponseMessage, RunSummary } from '../../shared/protocol';
import {
  createWireClient,
  decodeMessage,
  encodeMessage,
  wireUrl,
  type WebSocketLike,
  type WireClient,
} from '../../shared/wire';
import { droppedFolder, runParams, tempDir, writeCourseFixture } from '../services/test-helpers';
import { startBrowserHost, type BrowserHost } from './browser-host';

/** Opens a raw socket and resolves with it once open (or rejects with the refusal's status). */
function rawSocket(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Sends one raw frame and resolves with the next response. */
function exchange(ws: WebSocket, frame: string | Uint8Array): Promise<ResponseMessage> {
  return new Promise((resolve) => {
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      const message = decodeMessage(isBinary ? data : data.toString('utf8')) as ResponseMessage;
      if (message.kind !== 'response') return;
      ws.off('message', onMessage);
      resolve(message);
    };
    ws.on('message', onMessage);
    ws.send(frame);
  });
}

describe('wire framing', () => {
  it('sends messages without binary data as JSON text, with Uint8Arrays as one binary frame', () => {
    expect(encodeMessage({ kind: 'request', id: 1, method: 'app.info', params: {} })).toBe(
      '{"kind":"request","id":1,"method":"app.info","params":{}}',
    );
    const a = Uint8Array.from([1, 2, 3]);
    const b = Buffer.from('hello');
    const frame = encodeMessage({
      kind: 'request',
      id: 2,
      method: 'uploads.chunk',
      params: {
        files: [
          { relativePath: 'a', data: a },
          { relativePath: 'b', data: b },
          { relativePath: 'c', data: new Uint8Array(0) },
        ],
      },
    });
    expect(frame).toBeInstanceOf(Uint8Array);
    const back = decodeMessage(frame) as { params: { files: Array<{ relativePath: string; data: Uint8Array }> } };
    expect(back.params.files.map((f) => [f.relativePath, Array.from(f.data)])).toEqual([
      ['a', [1, 2, 3]],
      ['b', Array.from(b)],
      ['c', []],
    ]);
    expect(back.params.files[0].data).toBeInstanceOf(Uint8Array);
  });

  it('rejects malformed frames', () => {
    expect(() => decodeMessage('{')).toThrow(/malformed JSON/);
    const bad = new Uint8Array(12);
    bad.set(new TextEncoder().encode('LSW1'));
    new DataView(bad.buffer).setUint32(4, 100, true);
    expect(() => decodeMessage(bad)).toThrow(/header longer/);
    const frame = encodeMessage({ data: Uint8Array.from([1, 2]) }) as Uint8Array;
    const header = new TextDecoder().decode(frame.subarray(8, 8 + new DataView(frame.buffer).getUint32(4, true)));
    const lying = encodeHeader(header.replace('[0,2]', '[1,5]'), frame.subarray(8 + header.length));
    expect(() => decodeMessage(lying)).toThrow(/outside the frame/);
    expect(() => decodeMessage(Uint8Array.from([0xff, 0xfe, 0, 1]))).toThrow(/malformed binary frame/);
  });

  it('derives the socket URL from the page URL', () => {
    expect(wireUrl('http://127.0.0.1:5199/?token=a-b_c')).toBe('ws://127.0.0.1:5199/ws?token=a-b_c');
  });
});

function encodeHeader(header: string, blob: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + blob.length);
  out.set(new TextEncoder().encode('LSW1'));
  new DataView(out.buffer).setUint32(4, h.length, true);
  out.set(h, 8);
  out.set(blob, 8 + h.length);
  return out;
}

describe('browser host', () => {
  const dir = tempDir();
  const renderer = join(dir.path, 'renderer');
  const fixture = join(dir.path, 'ee-set');
  let host: BrowserHost;
  let client: WireClient;
  let wsUrl: string;
  const events: Array<{ event: string; payload: unknown }> = [];

  beforeAll(async () => {
    mkdirSync(join(renderer, 'assets'), { recursive: true });
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>Lockstep</title>');
    writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)');
    writeCourseFixture(fixture);
    host = await startBrowserHost({
      userData: join(dir.path, 'user'),
      rendererDir: renderer,
      port: 0,
      services: { training: { progressIntervalMs: 20 } },
    });
    wsUrl = wireUrl(host.url);
    client = createWireClient(new WebSocket(wsUrl) as unknown as Parameters<typeof createWireClient>[0]);
    for (const name of ['run.progress', 'run.epoch', 'run.state', 'datasets.changed'] as const) {
      client.on(name, (payload) => events.push({ event: name, payload }));
    }
  });
  afterAll(async () => {
    try {
      client?.close();
      await host?.close();
    } finally {
      dir.cleanup();
    }
  });

  it('prints a 127.0.0.1 URL with a token and serves the renderer', async () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{20,}$/);
    const res = await fetch(host.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await res.text()).toContain('<title>Lockstep</title>');
    const base = `http://127.0.0.1:${host.port}`;
    expect((await fetch(`${base}/assets/app.js`)).headers.get('content-type')).toMatch(/javascript/);
    expect((await fetch(`${base}/favicon.ico`)).status).toBe(204);
    expect((await fetch(`${base}/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/%2e%2e/%2e%2e/etc/passwd`)).status).toBe(404);
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(405);
  });

  it('refuses the socket without the token (401), with a wrong one, or from a foreign origin (403)', async () => {
    const base = `ws://127.0.0.1:${host.port}/ws`;
    await expect(rawSocket(base)).rejects.toThrow('HTTP 401');
    await expect(rawSocket(`${base}?token=wrong`)).rejects.toThrow('HTTP 401');
    await expect(rawSocket(wsUrl, { Origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    const ok = await rawSocket(wsUrl, { Origin: `http://127.0.0.1:${host.port}` });
    ok.close();
    expect((await fetch(`http://127.0.0.1:${host.port}/ws`)).status).toBe(401);
  });

  it('answers requests through the shared client', async () => {
    const info = await client.invoke('app.info', {});
    expect(info.host).toBe('browser');
    await expect(client.invoke('runs.get', { runId: 'nope' })).rejects.toThrow(/no run with id 'nope'/);
  });

  it('answers malformed frames, unknown methods and bad params with errors, and keeps serving', async () => {
    const ws = await rawSocket(wsUrl);
    const bad = await exchange(ws, 'this is not json');
    expect(bad).toMatchObject({ kind: 'response', id: -1, ok: false });
    expect(bad.error).toMatch(/malformed JSON/);
    expect(await exchange(ws, JSON.stringify({ kind: 'request', id: 7, method: 'no.such', params: {} }))).toMatchObject(
      { id: 7, ok: false, error: "unknown method 'no.such'" },
    );
    const params = await exchange(
      ws,
      JSON.stringify({
        kind: 'request',
        id: 8,
        method: 'datasets.example',
        params: { datasetId: 'demo', split: 'test', index: 0 },
      }),
    );
    expect(params).toMatchObject({ id: 8, ok: false });
    expect(params.error).toMatch(/datasets\.example: split/);
    expect((await exchange(ws, JSON.stringify({ kind: 'response', id: 9 }))).error).toMatch(/expected kind 'request'/);
    expect((await exchange(ws, JSON.stringify([1, 2]))).error).toMatch(/request object/);
    expect((await exchange(ws, JSON.stringify({ kind: 'request', id: 'x', method: 'app.info' }))).error).toMatch(
      /request id/,
    );
    expect((await exchange(ws, Uint8Array.from([1, 2, 3, 0xff]))).error).toMatch(/malformed binary frame/);
    const fine = await exchange(ws, JSON.stringify({ kind: 'request', id: 10, method: 'datasets.list', params: {} }));
    expect(fine).toMatchObject({ id: 10, ok: true });
    ws.close();
    expect((await client.invoke('datasets.list', {}))[0].id).toBe('demo');
  });

  it('refuses params nested deeper than 32 levels with a schema error, in text and binary frames', async () => {
    const errors = vi.spyOn(console, 'error');
    const ws = await rawSocket(wsUrl);
    const nested = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    // The Dense layer, spec.layers.3, is level 4 of params: its units nest 100 000 levels below it.
    const startRequest = (id: number, units: string): string => {
      const request = { kind: 'request', id, method: 'runs.start', params: runParams() };
      return JSON.stringify(request).replace('"units":9', `"units":${units}`);
    };
    const deepRequest = startRequest(3, nested(100_000));
    const expected = 'runs.start: spec.layers.3.units.a.a.a.a.…: expected at most 32 levels of nesting, found more';
    expect(await exchange(ws, deepRequest)).toMatchObject({ id: 3, ok: false, error: expected });
    // The same request as a binary frame (the framing that carries uploads).
    const withAttachment = deepRequest.replace('"units":{', '"data":{"$bin":[0,1]},"units":{');
    const binary = encodeHeader(withAttachment, Uint8Array.from([7]));
    expect(await exchange(ws, binary)).toMatchObject({ id: 3, ok: false, error: expected });
    // 32 levels reach the schema (which refuses the unknown layer key); 33 do not.
    const withLevels = (levels: number): string => startRequest(4, `9,"x":${nested(levels - 4)}`);
    expect((await exchange(ws, withLevels(32))).error).toMatch(/unknown option 'x'/);
    expect((await exchange(ws, withLevels(33))).error).toBe(
      'runs.start: spec.layers.3.x.a.a.a.a.…: expected at most 32 levels of nesting, found more',
    );
    expect(errors).not.toHaveBeenCalled();
    errors.mockRestore();
    ws.close();
    expect((await client.invoke('app.info', {})).host).toBe('browser');
  });

  it('handles at most 64 requests of one connection at once, reading no more until one is answered', async () => {
    let running = 0;
    let most = 0;
    const handle = vi.spyOn(host.services, 'handle').mockImplementation(async () => {
      most = Math.max(most, ++running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return {};
    });
    const ws = await rawSocket(wsUrl);
    const n = 5000;
    const answered = new Set<number>();
    const all = new Promise<void>((resolve) =>
      ws.on('message', (data: Buffer) => {
        const message = decodeMessage(data.toString('utf8')) as ResponseMessage;
        if (message.kind === 'response' && answered.add(message.id).size === n) resolve();
      }),
    );
    for (let id = 0; id < n; id++) ws.send(JSON.stringify({ kind: 'request', id, method: 'app.info', params: {} }));
    await all;
    handle.mockRestore();
    ws.close();
    expect(most).toBe(64);
  });

  it('drops a connection that does not read once its unread replies pass the limit; others are served', async () => {
    const limits = { maxInFlight: 100_000, maxUnreadBytes: 256 * 1024 };
    const userData = join(dir.path, 'unread');
    const other = await startBrowserHost({ userData, rendererDir: renderer, port: 0, limits });
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const ws = await rawSocket(wireUrl(other.url));
      ws.pause(); // this client reads nothing
      let replies = 0;
      ws.on('message', () => replies++);
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      const n = 3000;
      for (let id = 0; id < n; id++) ws.send(JSON.stringify({ kind: 'request', id, method: 'app.info', params: {} }));
      const dropped = /^lockstep: dropped a browser connection that stopped reading \(\d+\.\d MiB unread\)$/;
      await vi.waitFor(() => expect(warn).toHaveBeenCalledWith(expect.stringMatching(dropped)));
      ws.resume();
      expect(await closed).toBe(1006);
      expect(replies).toBeLessThan(n);
      const fresh = createWireClient(new WebSocket(wireUrl(other.url)) as unknown as WebSocketLike);
      expect((await fresh.invoke('app.info', {})).host).toBe('browser');
      fresh.close();
    } finally {
      warn.mockRestore();
      await other.close();
    }
  });

  it('closes a socket that sends a frame over 80 MiB with 1009, and keeps serving', async () => {
    const ws = await rawSocket(wsUrl);
    const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
    ws.on('error', () => {});
    ws.send(new Uint8Array(80 * 1024 * 1024 + 1));
    expect(await closed).toBe(1009);
    expect((await client.invoke('app.info', {})).host).toBe('browser');
  });

  it('imports dropped files sent in chunks (large files in slices) and deletes the temporary copies', async () => {
    const files = droppedFolder(fixture, 'ee-set');
    const progress: number[] = [];
    const summary = await client.uploadFiles('ee-set', files, {
      chunkBytes: 20_000,
      onProgress: (sent) => progress.push(sent),
    });
    expect(summary.name).toBe('ee-set');
    expect(summary.source).toBe('upload: ee-set');
    expect(summary.splits.train).toMatchObject({ listed: 13, kept: 12, dropped: { short: 1 } });
    expect(summary.splits.dev?.kept).toBe(6);
    const total = files.reduce((n, f) => n + f.data.byteLength, 0);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(total);
    // Same examples as importing the folder by path (in the services: the socket may not).
    const byPath = await host.services.invoke('datasets.importPath', { path: fixture });
    for (const i of [0, 5]) {
      const a = await client.invoke('datasets.example', { datasetId: summary.id, split: 'train', index: i });
      const b = await client.invoke('datasets.example', { datasetId: byPath.id, split: 'train', index: i });
      expect(a).toEqual(b);
    }
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    const changed = events
      .filter((e) => e.event === 'datasets.changed')
      .map((e) => e.payload as Events['datasets.changed']);
    expect(changed.at(-1)?.map((d) => d.id)).toContain(summary.id);
  });

  it('imports a single dropped archive as the dataset it holds', async () => {
    const entries = Object.fromEntries(droppedFolder(fixture, 'ee-set').map((f) => [f.relativePath, f.data]));
    const zip = zipSync(entries);
    const summary = await client.uploadFiles('ee-set.zip', [{ relativePath: 'ee-set.zip', data: zip }], {
      chunkBytes: 1000,
    });
    expect(summary.name).toBe('ee-set');
    expect(summary.splits.train?.kept).toBe(12);
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
  });

  it('refuses datasets.importPath over the socket: no file on the host is read or quoted', async () => {
    const ws = await rawSocket(wsUrl);
    const before = (await client.invoke('datasets.list', {})).map((d) => d.id);
    for (const path of ['/etc/shadow', '/proc/self/environ', '/etc/passwd', fixture]) {
      const request = { kind: 'request', id: 1, method: 'datasets.importPath', params: { path } };
      const reply = await exchange(ws, JSON.stringify(request));
      expect(reply).toMatchObject({ id: 1, ok: false });
      expect(reply.error).toBe(
        'datasets.importPath: the browser host imports only files sent from the page (drop or pick them); ' +
          'importing by path is for the desktop app and the CLI',
      );
    }
    ws.close();
    expect((await client.invoke('datasets.list', {})).map((d) => d.id)).toEqual(before);
  });

  it('refuses upload paths that leave the upload folder', async () => {
    const { uploadId } = await client.invoke('uploads.begin', { name: 'evil' });
    const data = new Uint8Array([1]) as Uint8Array<ArrayBuffer>;
    for (const relativePath of [
      '../escape.txt',
      'a/../../escape.txt',
      '/etc/passwd',
      'C:\\x.txt',
      'a//b',
      './a',
      '\\\\server\\share',
    ]) {
      await expect(client.invoke('uploads.chunk', { uploadId, files: [{ relativePath, data }] })).rejects.toThrow(
        /relativePath/,
      );
    }
    expect(existsSync(join(dir.path, 'user', 'escape.txt'))).toBe(false);
    await expect(client.invoke('uploads.finish', { uploadId })).rejects.toThrow(/no files arrived/);
    await expect(
      client.invoke('uploads.chunk', { uploadId, files: [{ relativePath: 'a.txt', data }] }),
    ).rejects.toThrow(/no upload/);
    // A single file that is not a dataset: the importer's message comes back.
    // Its content is not quoted: nothing shows the file is a labels file.
    await expect(
      client.uploadFiles('notes.txt', [{ relativePath: 'notes.txt', data: new TextEncoder().encode('hello') }]),
    ).rejects.toThrow(
      /^notes\.txt, line 1, field label: expected .* \(not shown: no line of this file is a labels line\)$/,
    );
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
  });

  it('names files in uploads.finish errors as they were dropped, never by the temp folder that kept them', async () => {
    const file = (relativePath: string, text: string) => ({ relativePath, data: new TextEncoder().encode(text) });
    const loose = client.uploadFiles('loose', [file('a.txt', 'a'), file('b.txt', 'b')]);
    await expect(loose).rejects.toThrow(/^loose: expected a dataset root holding at least one of train\//);
    const labels = client.uploadFiles('mine', [file('mine/train/lab/t.txt', '0 train/f/a.txt\n9 f/b.txt\n')]);
    await expect(labels).rejects.toThrow(/^train\/lab\/t\.txt, line 2, field label: expected an integer .* found '9'/);
    for (const refused of [loose, labels]) await expect(refused).rejects.not.toThrow(/uploads|up-|files|lockstep-test/);
  });

  it('trains over the socket with events, and downloads the export with the token only', async () => {
    const run = await client.invoke('runs.start', runParams({ epochs: 1 }));
    const end = await new Promise<RunSummary>((resolve) => {
      const off = client.on('run.state', (r) => {
        if (r.id === run.id && r.state === 'finished') {
          off();
          resolve(r);
        }
      });
    });
    expect(end.results?.dev?.confusion).toHaveLength(9);
    expect(
      events.some((e) => e.event === 'run.progress' && (e.payload as Events['run.progress']).runId === run.id),
    ).toBe(true);
    expect(events.some((e) => e.event === 'run.epoch' && (e.payload as Events['run.epoch']).runId === run.id)).toBe(
      true,
    );
    const out = await client.invoke('runs.export', { runId: run.id, format: 'checkpoint' });
    expect(out.downloadUrl).toMatch(/^\/download\/ex-[a-z0-9-]+\?token=/);
    const base = `http://127.0.0.1:${host.port}`;
    const url = new URL(out.downloadUrl!, base);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".*checkpoint\.zip"/);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${out.downloadName}"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(String.fromCharCode(bytes[0], bytes[1])).toBe('PK');
    expect((await fetch(`${base}${url.pathname}`)).status).toBe(401);
    expect((await fetch(`${base}/download/ex-nope?token=${host.token}`)).status).toBe(404);
  });

  it('downloads regular files only: a link or a FIFO placed in an export is refused and not followed', async () => {
    const run = (await client.invoke('runs.list', {})).find((r) => r.state === 'finished')!;
    const base = `http://127.0.0.1:${host.port}`;
    const exportDir = (downloadUrl: string): string =>
      join(dir.path, 'user', 'exports', /\/download\/([^?]+)/.exec(downloadUrl)![1]);
    const folder = await client.invoke('runs.export', { runId: run.id, format: 'checkpoint' });
    const [top] = readdirSync(exportDir(folder.downloadUrl!));
    symlinkSync('/etc/passwd', join(exportDir(folder.downloadUrl!), top, 'passwd'));
    const linked = await fetch(new URL(folder.downloadUrl!, base));
    expect(linked.status).toBe(403);
    expect(await linked.text()).toBe(`${top}/passwd: expected a regular file, found a symbolic link; not served\n`);
    rmSync(join(exportDir(folder.downloadUrl!), top, 'passwd'));
    execFileSync('mkfifo', [join(exportDir(folder.downloadUrl!), top, 'pipe')]);
    const fifo = await fetch(new URL(folder.downloadUrl!, base));
    expect(fifo.status).toBe(403);
    expect(await fifo.text()).toBe(
      `${top}/pipe: expected a regular file, found a special file (FIFO, socket or device); not served\n`,
    );
    // A single-file export swapped for a link to a folder or a file.
    const file = await client.invoke('runs.export', { runId: run.id, format: 'npz' });
    const [npz] = readdirSync(exportDir(file.downloadUrl!));
    rmSync(join(exportDir(file.downloadUrl!), npz));
    symlinkSync('/etc/passwd', join(exportDir(file.downloadUrl!), npz));
    const swapped = await fetch(new URL(file.downloadUrl!, base));
    expect(await swapped.text()).toBe(`${npz}: expected a regular file, found a symbolic link; not served\n`);
    rmSync(join(exportDir(file.downloadUrl!), npz));
    symlinkSync('/etc', join(exportDir(file.downloadUrl!), npz));
    expect((await fetch(new URL(file.downloadUrl!, base))).status).toBe(403);
    rmSync(join(exportDir(file.downloadUrl!), npz));
    rmSync(join(exportDir(folder.downloadUrl!), top, 'pipe'));
    expect((await client.invoke('app.info', {})).host).toBe('browser');
  });

  it('keeps the user data private: it and all the host wrote in it are 0700 folders and 0600 files', async () => {
    // By now the host has imported uploads, trained, saved runs and exported (the tests above).
    const userData = join(dir.path, 'user');
    const modes = new Map<string, number>();
    const walk = (path: string): void => {
      modes.set(relative(userData, path) || '.', lstatSync(path).mode & 0o777);
      if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    };
    walk(userData);
    expect([...modes.keys()]).toEqual(expect.arrayContaining(['datasets', 'runs', 'uploads', 'exports']));
    expect([...modes.keys()].some((p) => p.endsWith('checkpoint.json'))).toBe(true);
    const isDir = (p: string): boolean => lstatSync(join(userData, p)).isDirectory();
    const loose = [...modes].filter(([p, mode]) => mode !== (isDir(p) ? 0o700 : 0o600));
    expect(loose).toEqual([]);
  });

  it('makes an existing user-data folder left 0755 by an earlier version private', async () => {
    const userData = join(dir.path, 'was-open');
    mkdirSync(userData, { mode: 0o755 });
    chmodSync(userData, 0o755);
    const other = await startBrowserHost({ userData, rendererDir: renderer, port: 0 });
    await other.close();
    expect(lstatSync(userData).mode & 0o777).toBe(0o700);
  });
});
