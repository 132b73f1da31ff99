import { type IncomingMessage, type RequestListener, type Server, type ServerResponse, STATUS_CODES, createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { ApiError, errorBody } from './errors';

export interface ApiServerOptions {
  /**
   * Longest a client may take to send a whole request, head and body, in ms (default 10 000).
   * A body that stops before its declared length, or headers that never end, get a JSON 408
   * this long after the request began (checked every quarter of it, at most every second).
   * Node's own default is 300 s, long enough for a few slow sockets to pin the API.
   */
  receiveTimeoutMs?: number;
}

/**
 * The HTTP server of the API, the one every process and the tests listen with (app/linkflow.ts).
 * Node's HTTP parser answers what it refuses before any request reaches Koa (oversized headers or
 * URL, a method or request line it cannot parse, a NUL in a header, a request that takes too long
 * to arrive) with an empty plain-text 400/408/431; here those answers carry the
 * same JSON error body as every other (`api/errors.ts`). `listener` may be attached later
 * (`server.on('request', app.callback())`) when the app needs the port first.
 */
export function createApiServer(listener?: RequestListener, options: ApiServerOptions = {}): Server {
  const receiveTimeoutMs = options.receiveTimeoutMs ?? 10_000;
  const server = createServer({
    requestTimeout: receiveTimeoutMs,
    headersTimeout: receiveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(receiveTimeoutMs / 4))),
  });
  if (listener) server.on('request', listener);
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerOnSocket(socket, parserError(err)));
  // A proxy request: without a listener Node just drops the connection.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) =>
    answerOnSocket(socket, new ApiError(400, 'malformed_request', 'CONNECT is not supported: this is not a proxy.')),
  );
  return server;
}

/** What an error of Node's HTTP parser (llhttp's HPE_* codes, or Node's own) means to the client. */
function parserError(err: NodeJS.ErrnoException): ApiError {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new ApiError(431, 'headers_too_large', 'The request line and headers are too large (at most 16 KiB).');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new ApiError(408, 'request_timeout', 'The request did not arrive in time: its headers or body stopped short.');
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new ApiError(413, 'body_too_large', 'The chunk extensions are too large.');
    default:
      return new ApiError(400, 'malformed_request', 'The request is not valid HTTP/1.1 (request line, method, headers or framing).');
  }
}

/**
 * Writes a JSON error response straight to the socket and closes it. Only when nothing of a
 * response went out on it yet (Node's own rule: writing after a started response would corrupt
 * what the client reads); otherwise the socket is just closed.
 */
function answerOnSocket(socket: Duplex, error: ApiError): void {
  // The response Node attached to this socket, if any: not public API, but what Node itself checks.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (!socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(errorBody(error));
  socket.end(
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}
