/**
 * The browser host's wire format, and the client the renderer uses to speak it. Shared by the
 * server (src-main/host/browser-host.ts) and the browser; it imports nothing from Node or the
 * DOM: the client takes any WebSocket-like object (the browser's WebSocket, or `ws` in tests).
 *
 * Every WebSocket message carries one RequestMessage, ResponseMessage or EventMessage
 * (shared/protocol.ts), framed one of two ways:
 *
 * - a text frame: the message as JSON, when it holds no binary data (almost every message);
 * - a binary frame, when it holds Uint8Arrays (upload chunks), so they travel as raw bytes
 *   rather than as JSON arrays or base64:
 *
 *       bytes 0–3   "LSW1"
 *       bytes 4–7   H, the header's length in bytes (uint32, little-endian)
 *       bytes 8…    the header: the message as UTF-8 JSON, every Uint8Array in it replaced by
 *                   {"$bin": [offset, length]}
 *       then        the attachments: each Uint8Array's bytes, back to back; `offset` counts
 *                   from the first byte after the header
 *
 *   On decoding, each {"$bin": [offset, length]} becomes a Uint8Array view of those bytes.
 *
 * The server accepts frames of at most WIRE_MAX_FRAME_BYTES (larger ones close the socket with
 * code 1009); `uploadFiles` keeps chunks well below that, slicing large files.
 */
import type {
  DatasetSummary,
  EventMessage,
  EventName,
  Events,
  LockstepApi,
  Method,
  Params,
  RequestMessage,
  ResponseMessage,
  Results,
} from './protocol';

export const WIRE_MAGIC = 'LSW1';
export const WIRE_MAX_FRAME_BYTES = 80 * 1024 * 1024;
/** The default payload of one `uploads.chunk` request. */
export const WIRE_UPLOAD_CHUNK_BYTES = 8 * 1024 * 1024;

export type WireMessage = RequestMessage | ResponseMessage | EventMessage;

export class WireError extends Error {
  override readonly name = 'WireError';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A text frame (JSON) for a message without binary data, else a binary frame (see above). */
export function encodeMessage(message: unknown): string | Uint8Array {
  const attachments: Uint8Array[] = [];
  let offset = 0;
  const json = JSON.stringify(message, function (this: Record<string, unknown>, key: string, value: unknown) {
    // `this[key]` is the value before toJSON (a Node Buffer would otherwise arrive as {type, data}).
    const original = this[key];
    if (original instanceof Uint8Array) {
      attachments.push(original);
      const ref = { $bin: [offset, original.byteLength] };
      offset += original.byteLength;
      return ref;
    }
    return value;
  });
  if (json === undefined) throw new WireError('message cannot be encoded as JSON');
  if (!attachments.length) return json;
  const header = encoder.encode(json);
  const out = new Uint8Array(8 + header.byteLength + offset);
  out.set(encoder.encode(WIRE_MAGIC), 0);
  new DataView(out.buffer).setUint32(4, header.byteLength, true);
  out.set(header, 8);
  let at = 8 + header.byteLength;
  for (const a of attachments) {
    out.set(a, at);
    at += a.byteLength;
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new WireError(`malformed JSON (${(e as Error).message})`);
  }
}

/**
 * Replaces each {"$bin": [offset, length]} in a decoded header by its bytes. Iterative, not a
 * JSON.parse reviver: a reviver recurses, and a header nested 100 000 deep would overflow the
 * stack before protocol.ts could refuse its depth.
 */
function attachBinaries(root: unknown, blob: Uint8Array): unknown {
  const holder: Record<string, unknown> = { root };
  const stack: Array<[Record<string, unknown>, string]> = [[holder, 'root']];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [parent, key] = top;
    const value = parent[key];
    if (!value || typeof value !== 'object') continue;
    const keys = Object.keys(value);
    if (!Array.isArray(value) && keys.length === 1 && keys[0] === '$bin') {
      const ref = (value as { $bin: unknown }).$bin;
      const valid = Array.isArray(ref) && ref.length === 2 && ref.every((n) => Number.isSafeInteger(n) && n >= 0);
      if (!valid || ref[0] + ref[1] > blob.byteLength) {
        throw new WireError('malformed binary frame (an attachment lies outside the frame)');
      }
      parent[key] = blob.subarray(ref[0], ref[0] + ref[1]);
    } else {
      for (const k of keys) stack.push([value as Record<string, unknown>, k]);
    }
  }
  return holder.root;
}

/** Decodes a text or binary frame; throws WireError for anything malformed. */
export function decodeMessage(data: string | ArrayBuffer | ArrayBufferView): unknown {
  if (typeof data === 'string') return parseJson(data);
  const bytes =
    data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.byteLength < 8 || decoder.decode(bytes.subarray(0, 4)) !== WIRE_MAGIC) {
    // A binary frame without the magic: accept it as UTF-8 JSON (some clients send text as binary).
    let text: string;
    try {
      text = decoder.decode(bytes);
    } catch {
      throw new WireError('malformed binary frame (no LSW1 header, not UTF-8 text)');
    }
    return parseJson(text);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  if (8 + headerLength > bytes.byteLength) throw new WireError('malformed binary frame (header longer than the frame)');
  let header: string;
  try {
    header = decoder.decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new WireError('malformed binary frame (header is not UTF-8)');
  }
  return attachBinaries(parseJson(header), bytes.subarray(8 + headerLength));
}

// ---- client ---------------------------------------------------------------------------

/** What the client needs of a WebSocket (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  binaryType: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (event: { data?: unknown; code?: number; reason?: string }) => void,
  ): void;
}

/** One file to upload: its bytes, or a reader of byte ranges (a DOM File: `(a, b) => file.slice(a, b).arrayBuffer()`). */
export type UploadSource =
  | { relativePath: string; data: Uint8Array }
  | { relativePath: string; size: number; read(start: number, end: number): Promise<Uint8Array | ArrayBuffer> };

export interface WireClient extends LockstepApi {
  /**
   * Uploads dropped files (uploads.begin, uploads.chunk ×N, uploads.finish) and resolves with
   * the imported dataset. Files go in order, packed into chunks of about `chunkBytes`; a file
   * larger than that is sent in slices under the same relativePath (the server appends them).
   */
  uploadFiles(
    name: string,
    files: UploadSource[],
    options?: { chunkBytes?: number; onProgress?: (sentBytes: number, totalBytes: number) => void },
  ): Promise<DatasetSummary>;
  /** Called once when the connection closes (the server stopped, or the page lost it). */
  onClose(listener: (info: { code: number; reason: string }) => void): () => void;
  close(): void;
}

const OPEN = 1;
const CONNECTING = 0;

/**
 * The ws:// URL of the browser host's socket for a page it served, carrying the page's token:
 * `wireUrl(location.href)` on `http://127.0.0.1:5199/?token=abc` → `ws://127.0.0.1:5199/ws?token=abc`.
 */
export function wireUrl(pageUrl: string): string {
  const page = new URL(pageUrl);
  const token = page.searchParams.get('token') ?? '';
  return `${page.protocol === 'https:' ? 'wss:' : 'ws:'}//${page.host}/ws?token=${encodeURIComponent(token)}`;
}

export function createWireClient(socket: WebSocketLike): WireClient {
  socket.binaryType = 'arraybuffer';
  let nextId = 1;
  let closedInfo: { code: number; reason: string } | null = null;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const closeListeners = new Set<(info: { code: number; reason: string }) => void>();
  const outbox: Array<string | Uint8Array> = [];

  socket.addEventListener('open', () => {
    for (const frame of outbox.splice(0)) socket.send(frame);
  });
  socket.addEventListener('message', (event) => {
    let message: WireMessage;
    try {
      message = decodeMessage(event.data as string | ArrayBuffer | Uint8Array) as WireMessage;
    } catch {
      return; // nothing sensible to do with a frame the server should never send
    }
    if (message?.kind === 'response') {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(message.error ?? 'request failed'));
    } else if (message?.kind === 'event') {
      for (const listener of listeners.get(message.event) ?? []) {
        try {
          (listener as (p: unknown) => void)(message.payload);
        } catch (e) {
          console.error(`lockstep: a ${message.event} listener threw`, e);
        }
      }
    }
  });
  socket.addEventListener('close', (event) => {
    closedInfo = { code: event.code ?? 1006, reason: event.reason ?? '' };
    const error = new Error(
      `the connection to Lockstep closed (${closedInfo.code}${closedInfo.reason ? `: ${closedInfo.reason}` : ''})`,
    );
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
    for (const l of closeListeners) l(closedInfo);
    closeListeners.clear();
  });

  function send(frame: string | Uint8Array): void {
    if (socket.readyState === OPEN) socket.send(frame);
    else if (socket.readyState === CONNECTING) outbox.push(frame);
    else throw new Error('the connection to Lockstep is closed');
  }

  const client: WireClient = {
    invoke<M extends Method>(method: M, params: Params<M>): Promise<Results[M]> {
      if (closedInfo) return Promise.reject(new Error('the connection to Lockstep is closed'));
      const id = nextId++;
      const request: RequestMessage = { kind: 'request', id, method, params };
      return new Promise<Results[M]>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        try {
          send(encodeMessage(request));
        } catch (e) {
          pending.delete(id);
          reject(e as Error);
        }
      });
    },
    on<E extends EventName>(event: E, listener: (payload: Events[E]) => void): () => void {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener as (payload: never) => void);
      return () => void set.delete(listener as (payload: never) => void);
    },
    onClose(listener) {
      if (closedInfo) {
        listener(closedInfo);
        return () => {};
      }
      closeListeners.add(listener);
      return () => void closeListeners.delete(listener);
    },
    close() {
      socket.close(1000, 'client closed');
    },
    async uploadFiles(name, files, options = {}) {
      const chunkBytes = Math.max(1, Math.min(options.chunkBytes ?? WIRE_UPLOAD_CHUNK_BYTES, WIRE_MAX_FRAME_BYTES / 2));
      const sizeOf = (f: UploadSource): number => ('data' in f ? f.data.byteLength : f.size);
      const read = async (f: UploadSource, start: number, end: number): Promise<Uint8Array> => {
        if ('data' in f) return f.data.subarray(start, end);
        const got = await f.read(start, end);
        return got instanceof Uint8Array ? got : new Uint8Array(got);
      };
      const total = files.reduce((n, f) => n + sizeOf(f), 0);
      const { uploadId } = await client.invoke('uploads.begin', { name });
      let sent = 0;
      let batch: Array<{ relativePath: string; data: Uint8Array }> = [];
      let batchBytes = 0;
      const flush = async (): Promise<void> => {
        if (!batch.length) return;
        await client.invoke('uploads.chunk', { uploadId, files: batch as Params<'uploads.chunk'>['files'] });
        sent += batchBytes;
        options.onProgress?.(sent, total);
        batch = [];
        batchBytes = 0;
      };
      for (const file of files) {
        const size = sizeOf(file);
        // An empty file still has to arrive (as an empty slice).
        for (let start = 0; start < size || (start === 0 && size === 0);) {
          const end = Math.min(size, start + chunkBytes - batchBytes);
          batch.push({ relativePath: file.relativePath, data: await read(file, start, end) });
          batchBytes += end - start;
          start = end;
          if (batchBytes >= chunkBytes || batch.length >= 1000) await flush();
          if (size === 0) break;
        }
      }
      await flush();
      return client.invoke('uploads.finish', { uploadId });
    },
  };
  return client;
}

// ---- the Electron way in --------------------------------------------------------------

/** What the Electron preload exposes as `window.lockstep`. */
export interface ElectronLockstep extends LockstepApi {
  readonly host: 'electron';
  /** The file-system path of a dropped File (import it with `datasets.importPath`). */
  pathForFile(file: File): string;
}
