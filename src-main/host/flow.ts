import type { RawData, WebSocket } from 'ws';

/**
 * Flow control for one browser connection, so that a client that sends without reading cannot
 * grow the host's memory. A request is in flight from the moment it is read until its reply has
 * been written to the socket (not merely queued); at `maxInFlight` the host stops reading the
 * socket, and the frames that one read had already brought wait in order. A client that stops
 * reading its replies thus stops the host reading its requests. Events are not requests: a
 * connection whose unread output passes `maxUnreadBytes` is dropped.
 */
export interface ConnectionLimits {
  /** Requests of one connection handled (or with replies unwritten) at once. */
  maxInFlight: number;
  /** Bytes queued for a connection, beyond what the OS took, before it is dropped. */
  maxUnreadBytes: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = { maxInFlight: 64, maxUnreadBytes: 64 * 1024 ** 2 };

/**
 * Sends a frame; resolves once it is written to the socket (or the socket is gone). A
 * connection holding more than `maxUnreadBytes` unwritten is closed at once.
 */
export function sendFrame(ws: WebSocket, frame: string | Uint8Array, limits: ConnectionLimits): Promise<void> {
  if (ws.readyState !== ws.OPEN) return Promise.resolve();
  const written = new Promise<void>((resolve) => ws.send(frame, () => resolve()));
  if (ws.bufferedAmount > limits.maxUnreadBytes) {
    const unread = (ws.bufferedAmount / 1024 ** 2).toFixed(1);
    console.warn(`lockstep: dropped a browser connection that stopped reading (${unread} MiB unread)`);
    ws.terminate();
  }
  return written;
}

/** Runs each message's handler, at most `maxInFlight` at once, pausing the socket while that many run. */
export function limitInFlight(
  ws: WebSocket,
  maxInFlight: number,
  handle: (data: RawData, isBinary: boolean) => Promise<void>,
): (data: RawData, isBinary: boolean) => void {
  let inFlight = 0;
  const waiting: Array<[RawData, boolean]> = [];
  // Requests not yet started when the client leaves are not run: nobody is there for their replies.
  ws.once('close', () => void waiting.splice(0));
  const start = (data: RawData, isBinary: boolean): void => {
    inFlight++;
    void handle(data, isBinary).finally(() => {
      inFlight--;
      const next = waiting.shift();
      if (next) start(...next);
      else if (ws.isPaused) ws.resume();
    });
  };
  return (data, isBinary) => {
    if (inFlight < maxInFlight) return start(data, isBinary);
    waiting.push([data, isBinary]);
    ws.pause();
  };
}
