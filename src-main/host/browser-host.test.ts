import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Events, ResponseMessage, RunSummary } from '../../shared/protocol';
import { createWireClient, decodeMessage, encodeMessage, wireUrl, type WireClient } from '../../shared/wire';
import { runParams, tempDir, writeCourseFixture } from '../services/test-helpers';
import { startBrowserHost, type BrowserHost } from './browser-host';

function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  return out.sort();
}

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
    expect(encodeMessage({ kind: 'request', id: 1, method: 'app.info', params: {} })).toBe('{"kind":"request","id":1,"method":"app.info","params":{}}');
    const a = Uint8Array.from([1, 2, 3]);
    const b = Buffer.from('hello');
    const frame = encodeMessage({ kind: 'request', id: 2, method: 'uploads.chunk', params: { files: [{ relativePath: 'a', data: a }, { relativePath: 'b', data: b }, { relativePath: 'c', data: new Uint8Array(0) }] } });
    expect(frame).toBeInstanceOf(Uint8Array);
    const back = decodeMessage(frame) as { params: { files: Array<{ relativePath: string; data: Uint8Array }> } };
    expect(back.params.files.map((f) => [f.relativePath, Array.from(f.data)])).toEqual([['a', [1, 2, 3]], ['b', Array.from(b)], ['c', []]]);
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
    host = await startBrowserHost({ userData: join(dir.path, 'user'), rendererDir: renderer, port: 0, services: { training: { progressIntervalMs: 20 } } });
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
    expect(await exchange(ws, JSON.stringify({ kind: 'request', id: 7, method: 'no.such', params: {} }))).toMatchObject({ id: 7, ok: false, error: "unknown method 'no.such'" });
    const params = await exchange(ws, JSON.stringify({ kind: 'request', id: 8, method: 'datasets.example', params: { datasetId: 'demo', split: 'test', index: 0 } }));
    expect(params).toMatchObject({ id: 8, ok: false });
    expect(params.error).toMatch(/datasets\.example: split/);
    expect((await exchange(ws, JSON.stringify({ kind: 'response', id: 9 }))).error).toMatch(/expected kind 'request'/);
    expect((await exchange(ws, JSON.stringify([1, 2]))).error).toMatch(/request object/);
    expect((await exchange(ws, JSON.stringify({ kind: 'request', id: 'x', method: 'app.info' }))).error).toMatch(/request id/);
    expect((await exchange(ws, Uint8Array.from([1, 2, 3, 0xff]))).error).toMatch(/malformed binary frame/);
    const fine = await exchange(ws, JSON.stringify({ kind: 'request', id: 10, method: 'datasets.list', params: {} }));
    expect(fine).toMatchObject({ id: 10, ok: true });
    ws.close();
    expect((await client.invoke('datasets.list', {}))[0].id).toBe('demo');
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
    const files = listFiles(fixture).map((rel) => ({ relativePath: `ee-set/${rel}`, data: readFileSync(join(fixture, rel)) }));
    const progress: number[] = [];
    const summary = await client.uploadFiles('ee-set', files, { chunkBytes: 20_000, onProgress: (sent) => progress.push(sent) });
    expect(summary.name).toBe('ee-set');
    expect(summary.source).toBe('upload: ee-set');
    expect(summary.splits.train).toMatchObject({ listed: 13, kept: 12, dropped: { short: 1 } });
    expect(summary.splits.dev?.kept).toBe(6);
    const total = files.reduce((n, f) => n + f.data.byteLength, 0);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress.at(-1)).toBe(total);
    // Same examples as importing the folder by path.
    const byPath = await client.invoke('datasets.importPath', { path: fixture });
    for (const i of [0, 5]) {
      const a = await client.invoke('datasets.example', { datasetId: summary.id, split: 'train', index: i });
      const b = await client.invoke('datasets.example', { datasetId: byPath.id, split: 'train', index: i });
      expect(a).toEqual(b);
    }
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
    await new Promise((r) => setTimeout(r, 50));
    const changed = events.filter((e) => e.event === 'datasets.changed').map((e) => e.payload as Events['datasets.changed']);
    expect(changed.at(-1)?.map((d) => d.id)).toContain(summary.id);
  });

  it('imports a single dropped archive as the dataset it holds', async () => {
    const entries = Object.fromEntries(listFiles(fixture).map((rel) => [`ee-set/${rel}`, new Uint8Array(readFileSync(join(fixture, rel)))]));
    const zip = zipSync(entries);
    const summary = await client.uploadFiles('ee-set.zip', [{ relativePath: 'ee-set.zip', data: zip }], { chunkBytes: 1000 });
    expect(summary.name).toBe('ee-set');
    expect(summary.splits.train?.kept).toBe(12);
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
  });

  it('refuses upload paths that leave the upload folder', async () => {
    const { uploadId } = await client.invoke('uploads.begin', { name: 'evil' });
    const data = new Uint8Array([1]) as Uint8Array<ArrayBuffer>;
    for (const relativePath of ['../escape.txt', 'a/../../escape.txt', '/etc/passwd', 'C:\\x.txt', 'a//b', './a', '\\\\server\\share']) {
      await expect(client.invoke('uploads.chunk', { uploadId, files: [{ relativePath, data }] })).rejects.toThrow(/relativePath/);
    }
    expect(existsSync(join(dir.path, 'user', 'escape.txt'))).toBe(false);
    await expect(client.invoke('uploads.finish', { uploadId })).rejects.toThrow(/no files arrived/);
    await expect(client.invoke('uploads.chunk', { uploadId, files: [{ relativePath: 'a.txt', data }] })).rejects.toThrow(/no upload/);
    // A single file that is not a dataset: the importer's message comes back.
    await expect(client.uploadFiles('notes.txt', [{ relativePath: 'notes.txt', data: new TextEncoder().encode('hello') }])).rejects.toThrow(
      /^notes\.txt, line 1, field label: expected/,
    );
    expect(readdirSync(join(dir.path, 'user', 'uploads'))).toEqual([]);
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
    expect(events.some((e) => e.event === 'run.progress' && (e.payload as Events['run.progress']).runId === run.id)).toBe(true);
    expect(events.some((e) => e.event === 'run.epoch' && (e.payload as Events['run.epoch']).runId === run.id)).toBe(true);
    const out = await client.invoke('runs.export', { runId: run.id, format: 'checkpoint' });
    expect(out.downloadUrl).toMatch(/^\/download\/ex-[a-z0-9-]+\?token=/);
    const base = `http://127.0.0.1:${host.port}`;
    const url = new URL(out.downloadUrl!, base);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename=".*checkpoint\.zip"/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(String.fromCharCode(bytes[0], bytes[1])).toBe('PK');
    expect((await fetch(`${base}${url.pathname}`)).status).toBe(401);
    expect((await fetch(`${base}/download/ex-nope?token=${host.token}`)).status).toBe(404);
  });
});
