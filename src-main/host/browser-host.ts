import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { Duplex } from 'node:stream';
import { zipSync } from 'fflate';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { EventMessage, ResponseMessage } from '../../shared/protocol';
import { decodeMessage, encodeMessage, WIRE_MAX_FRAME_BYTES, WireError } from '../../shared/wire';
import { isLockstepError, LockstepError } from '../../shared/errors';
import { AppServices, errorMessage } from '../services/app-services';
import { makeUserDataPrivate } from '../services/private-data';
import { RENDERER_CSP } from './csp';
import { readRegularFile } from './regular-file';
import { DEFAULT_CONNECTION_LIMITS, limitInFlight, sendFrame, type ConnectionLimits } from './flow';

/**
 * The browser host: the renderer's built files and the services, over HTTP and one WebSocket,
 * on 127.0.0.1 only.
 *
 * - `GET /…`: the files of `rendererDir` (out/renderer); `/favicon.ico` answers 204.
 * - `GET /ws?token=…`: the WebSocket bridge. Without the launch's token: 401. Each message is
 *   a RequestMessage in the shared/wire.ts framing; each gets one ResponseMessage, and every
 *   services event is pushed to every client as an EventMessage. Malformed frames, unknown
 *   methods and bad params get an error response (id −1 when the request's id is unreadable);
 *   a frame over 80 MiB closes the socket with 1009. Nothing a client sends stops the host, and
 *   a client that does not read its replies stops the host reading its requests (flow.ts).
 * - `GET /download/<exportId>?token=…`: a browser-host export (`runs.export`), a single file as
 *   is, a folder as a .zip.
 *
 * The token is random per launch; requests naming another Host (DNS rebinding) or, for the
 * socket, a foreign Origin are refused.
 */
export interface BrowserHostOptions {
  /** The user-data folder (AppServices is created with host 'browser' and this host's download URLs). */
  userData: string;
  /** The built renderer (out/renderer). */
  rendererDir: string;
  /** 0 = any free port. */
  port?: number;
  /** Fixed token (tests); default random. */
  token?: string;
  /** Per-connection flow control (flow.ts); tests lower it. */
  limits?: Partial<ConnectionLimits>;
  /** Passed to AppServices (tests: training options). */
  services?: Omit<ConstructorParameters<typeof AppServices>[1], 'host' | 'downloadUrl'>;
}

export interface BrowserHost {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  readonly services: AppServices;
  close(): Promise<void>;
}

const HOSTNAME = '127.0.0.1';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Methods the socket may not call. The page sends its files (uploads.*); reading a path on this
 * machine is for the desktop app (only paths its dialogs granted) and the CLI, never for
 * whatever holds the socket's token.
 */
const REFUSED_OVER_SOCKET = new Map<string, string>([
  [
    'datasets.importPath',
    'the browser host imports only files sent from the page (drop or pick them); ' +
      'importing by path is for the desktop app and the CLI',
  ],
]);

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given),
    b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export async function startBrowserHost(options: BrowserHostOptions): Promise<BrowserHost> {
  const token = options.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(options.rendererDir);
  let port = 0;
  makeUserDataPrivate(options.userData);
  const services = new AppServices(options.userData, {
    ...options.services,
    host: 'browser',
    downloadUrl: (exportId) => `/download/${exportId}?token=${encodeURIComponent(token)}`,
  });
  const allowedHosts = (): string[] => [`${HOSTNAME}:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);

  const wss = new WebSocketServer({ noServer: true, maxPayload: WIRE_MAX_FRAME_BYTES });
  const clients = new Set<WebSocket>();

  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.limits };

  /** Resolves once the reply is written to the socket. */
  const sendTo = async (ws: WebSocket, message: ResponseMessage | EventMessage): Promise<void> => {
    try {
      await sendFrame(ws, encodeMessage(message), limits);
    } catch (e) {
      console.error('lockstep: could not send to a browser client:', e);
    }
  };

  const offEvents = services.onAny((event, payload) => {
    if (!clients.size) return;
    const frame = encodeMessage({ kind: 'event', event, payload } satisfies EventMessage);
    for (const ws of clients) void sendFrame(ws, frame, limits);
  });

  /** Handles one request; resolves once its reply is written. */
  async function onMessage(ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
    let id = -1;
    try {
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      const message = decodeMessage(isBinary ? bytes : bytes.toString('utf8')) as Record<string, unknown> | null;
      if (message && typeof message === 'object' && Number.isSafeInteger(message.id)) id = message.id as number;
      if (!message || typeof message !== 'object' || Array.isArray(message))
        throw new WireError('expected a request object');
      if (message.kind !== 'request')
        throw new WireError(`expected kind 'request', got ${JSON.stringify(message.kind)}`);
      if (id < 0) throw new WireError('expected an integer request id ≥ 0');
      if (typeof message.method !== 'string') throw new WireError('expected a method name');
      const refused = REFUSED_OVER_SOCKET.get(message.method);
      if (refused) throw new LockstepError(`${message.method}: ${refused}`);
      const result = await services.handle(message.method, message.params ?? {});
      await sendTo(ws, { kind: 'response', id, ok: true, result });
    } catch (e) {
      const error = e instanceof WireError ? `bad message: ${e.message}` : errorMessage(e);
      await sendTo(ws, { kind: 'response', id, ok: false, error });
    }
  }

  wss.on('connection', (ws) => {
    clients.add(ws);
    ws.on(
      'message',
      limitInFlight(ws, limits.maxInFlight, (data, isBinary) => onMessage(ws, data, isBinary)),
    );
    ws.on('close', () => clients.delete(ws));
    ws.on('error', () => clients.delete(ws)); // e.g. 1009 on an oversized frame: ws closes the socket
  });

  function refuse(socket: Duplex, status: number, text: string): void {
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', `http://${HOSTNAME}`);
    if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
    if (!allowedHosts().includes(req.headers.host ?? '')) return refuse(socket, 403, 'Forbidden');
    if (req.headers.origin !== undefined && !allowedOrigins().includes(req.headers.origin))
      return refuse(socket, 403, 'Forbidden');
    if (!sameToken(url.searchParams.get('token'), token)) return refuse(socket, 401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  }

  function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
    res.writeHead(status, {
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(body);
  }

  /** An export's bytes: a file as is, a folder zipped; every file must be a regular one (regular-file.ts). */
  function exportBody(entry: { name: string; path: string; isDirectory: boolean }): Uint8Array {
    const read = (path: string, name: string): Uint8Array => {
      try {
        return readRegularFile(path);
      } catch (e) {
        throw isLockstepError(e) ? new LockstepError(`${name}: ${e.message}; not served`) : e;
      }
    };
    if (!entry.isDirectory) return read(entry.path, entry.name);
    const files: Record<string, Uint8Array> = {};
    const walk = (dir: string): void => {
      // Dirents describe the entries themselves: a link to a folder is not descended into.
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        const name = `${entry.name}/${relative(entry.path, p).split(sep).join('/')}`;
        if (e.isDirectory()) walk(p);
        else files[name] = read(p, name);
      }
    };
    walk(entry.path);
    return zipSync(files);
  }

  function serveDownload(res: ServerResponse, exportId: string, head: boolean): void {
    const entry = services.exportEntry(exportId);
    if (!entry) return send(res, 404, 'no such export (it expires when the host restarts)\n');
    let body: Uint8Array;
    try {
      body = exportBody(entry);
    } catch (e) {
      if (isLockstepError(e)) return send(res, 403, `${e.message}\n`);
      throw e;
    }
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': body.byteLength,
      'Content-Disposition': `attachment; filename="${entry.downloadName}"`,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    });
    res.end(head ? undefined : body);
  }

  function onRequest(req: IncomingMessage, res: ServerResponse): void {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
      const head = req.method === 'HEAD';
      const url = new URL(req.url ?? '/', `http://${HOSTNAME}`);
      if (url.pathname === '/favicon.ico') {
        res.writeHead(204);
        return void res.end();
      }
      const download = /^\/download\/([A-Za-z0-9_-]{1,64})$/.exec(url.pathname);
      if (download || url.pathname === '/ws') {
        if (!allowedHosts().includes(req.headers.host ?? '')) return send(res, 403, 'forbidden\n');
        if (!sameToken(url.searchParams.get('token'), token))
          return send(res, 401, 'a valid token is needed (open the URL the host printed)\n');
        if (!download) return send(res, 426, 'upgrade to a WebSocket\n');
        return serveDownload(res, download[1], head);
      }
      let path: string;
      try {
        path = decodeURIComponent(url.pathname);
      } catch {
        return send(res, 400, 'bad path\n');
      }
      if (path.includes('\0')) return send(res, 400, 'bad path\n');
      if (path.endsWith('/')) path += 'index.html';
      const file = resolve(rendererDir, '.' + path);
      const rel = relative(rendererDir, file);
      if (rel.startsWith('..') || resolve(rendererDir, rel) !== file) return send(res, 404, 'not found\n');
      let size: number;
      try {
        const st = statSync(file);
        if (!st.isFile()) return send(res, 404, 'not found\n');
        size = st.size;
      } catch {
        return send(res, 404, 'not found\n');
      }
      const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
      const headers: Record<string, string | number> = {
        'Content-Type': type,
        'Content-Length': size,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
        'Cache-Control': type.startsWith('text/html') ? 'no-store' : 'no-cache',
      };
      if (type.startsWith('text/html')) headers['Content-Security-Policy'] = RENDERER_CSP;
      res.writeHead(200, headers);
      if (head) return void res.end();
      createReadStream(file)
        .on('error', () => res.destroy())
        .pipe(res);
    } catch (e) {
      console.error('lockstep: request failed:', e);
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    }
  }

  const server: Server = createServer(onRequest);
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_e, socket) => socket.destroy());
  try {
    await new Promise<void>((resolvePromise, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 5199, HOSTNAME, () => {
        server.off('error', reject);
        resolvePromise();
      });
    });
  } catch (e) {
    await services.close();
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new Error(`port ${options.port} on ${HOSTNAME} is in use; pick another with --port (0 = any free port)`, {
        cause: e,
      });
    }
    throw e;
  }
  port = (server.address() as AddressInfo).port;
  if (!existsSync(join(rendererDir, 'index.html'))) {
    console.warn(`lockstep: ${rendererDir}/index.html is missing: build the renderer first (npx electron-vite build)`);
  }

  return {
    url: `http://${HOSTNAME}:${port}/?token=${encodeURIComponent(token)}`,
    port,
    token,
    services,
    async close() {
      offEvents();
      for (const ws of clients) ws.close(1001, 'the host is stopping');
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await services.close();
    },
  };
}
