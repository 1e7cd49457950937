import { describe, expect, it, vi } from 'vitest';
import { createApi, webSocketUrl } from './api';

type Listener = (e: { data?: unknown; code?: number; reason?: string }) => void;
class FakeSocket {
  static last: FakeSocket | null = null;
  readyState = 0;
  binaryType = 'blob';
  sent: unknown[] = [];
  listeners = new Map<string, Listener[]>();
  constructor(public url: string) {
    FakeSocket.last = this;
  }
  addEventListener(type: string, l: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), l]);
  }
  fire(type: string, e: Parameters<Listener>[0] = {}): void {
    for (const l of this.listeners.get(type) ?? []) l(e);
  }
  send(data: unknown): void {
    this.sent.push(data);
  }
  close(code = 1000, reason = ''): void {
    this.readyState = 3;
    this.fire('close', { code, reason });
  }
  open(): void {
    this.readyState = 1;
    this.fire('open');
  }
}

const loc = (search: string) => ({ host: '127.0.0.1:5199', protocol: 'http:', search });

describe('createApi', () => {
  it('uses the Electron preload when it is there', async () => {
    const bridge = {
      invoke: vi.fn(async () => ({ version: '1' })),
      on: vi.fn(() => () => {}),
      pathForFile: vi.fn(() => '/abs/x'),
    };
    const api = createApi({ lockstep: bridge, location: loc(''), WebSocket: FakeSocket });
    expect(api.host).toBe('electron');
    await api.invoke('app.info', {});
    expect(bridge.invoke).toHaveBeenCalledWith('app.info', {});
    expect(api.pathForFile?.(new File([], 'x'))).toBe('/abs/x');
    expect(FakeSocket.last).toBeNull();
  });

  it('refuses a window.lockstep that is not the API', () => {
    expect(() => createApi({ lockstep: { host: 'electron' }, location: loc('?token=t') })).toThrow(
      /not the Lockstep API/,
    );
  });

  it('falls back to the browser host over a WebSocket, with the token from the URL', () => {
    const api = createApi({ location: loc('?token=abc%20d'), WebSocket: FakeSocket });
    expect(api.host).toBe('browser');
    expect(api.pathForFile).toBeUndefined();
    expect(FakeSocket.last?.url).toBe('ws://127.0.0.1:5199/ws?token=abc%20d');
  });

  it('queues requests until the socket opens, then resolves them from responses', async () => {
    const api = createApi({ location: loc('?token=t'), WebSocket: FakeSocket });
    const socket = FakeSocket.last!;
    const result = api.invoke('runs.list', {});
    expect(socket.sent).toHaveLength(0);
    socket.open();
    expect(socket.sent).toHaveLength(1);
    const request = JSON.parse(socket.sent[0] as string);
    expect(request).toMatchObject({ kind: 'request', method: 'runs.list', params: {} });
    socket.fire('message', { data: JSON.stringify({ kind: 'response', id: request.id, ok: true, result: [] }) });
    await expect(result).resolves.toEqual([]);
  });

  it('delivers events, and fails pending requests when the connection closes', async () => {
    const api = createApi({ location: loc('?token=t'), WebSocket: FakeSocket });
    const socket = FakeSocket.last!;
    socket.open();
    const seen: unknown[] = [];
    api.on('datasets.changed', (p) => seen.push(p));
    socket.fire('message', { data: JSON.stringify({ kind: 'event', event: 'datasets.changed', payload: [] }) });
    expect(seen).toEqual([[]]);
    const closed = vi.fn();
    api.onClose?.(closed);
    const pending = api.invoke('runs.list', {});
    socket.close(1001, 'host stopped');
    await expect(pending).rejects.toThrow(/closed/);
    expect(closed).toHaveBeenCalledWith({ code: 1001, reason: 'host stopped' });
  });

  it('refuses a server error as a rejected promise with its message', async () => {
    const api = createApi({ location: loc('?token=t'), WebSocket: FakeSocket });
    const socket = FakeSocket.last!;
    socket.open();
    const p = api.invoke('datasets.remove', { datasetId: 'x' });
    const request = JSON.parse(socket.sent[0] as string);
    socket.fire('message', {
      data: JSON.stringify({ kind: 'response', id: request.id, ok: false, error: "no dataset with id 'x'" }),
    });
    await expect(p).rejects.toThrow("no dataset with id 'x'");
  });

  it('says what is missing when the page has no token', () => {
    expect(() => webSocketUrl(loc(''))).toThrow(/access token/);
    expect(webSocketUrl({ host: 'h:1', protocol: 'https:', search: '?token=z' })).toBe('wss://h:1/ws?token=z');
  });
});
