/**
 * ModelInfer's plain unary calls, answered straight on the HTTP/2 streams of grpc-js's own
 * server, without grpc-js's per-call machinery.
 *
 * Why: grpc-js spends 13–16 µs of CPU on each unary call (its intercepting call object,
 * metadata objects, a promise chain per message, listeners on the stream) on top of what
 * node:http2 itself costs, and node:http2 alone costs about what node:http does. With handlers
 * that do nothing, at 16 clients on one connection (bench/http2-floor.ts): node:http 30 µs of
 * server CPU a request, bare node:http2 28 µs, grpc-js 41 µs. On `simple` that was the
 * difference between unary gRPC and HTTP JSON in the server's CPU (bench/RESULTS.md).
 *
 * What takes this path: a call to the route's path with a gRPC content type, a request encoding
 * of identity, gzip or deflate, and no deadline (no grpc-timeout). Every other call, and every
 * other RPC, goes to grpc-js's handler exactly as before: deadlines, streams, the health and
 * reflection services. A compressed message is inflated here with zlib's maxOutputLength at the
 * route's limit, so a gzip bomb stops at the limit and is answered RESOURCE_EXHAUSTED naming the
 * flag (grpc-js inflates with the same limit, but its message names no flag). grpc-js keeps the port, TLS, sessions,
 * keepalive, connection age and shutdown; tryShutdown waits for these streams as for its own,
 * since it closes sessions gracefully. (grpc-js's idle-connection timer, which Nereid does not
 * set, would not see these calls; nor does channelz count them.)
 *
 * The hook is the one place that reads grpc-js internals (the http2 servers it listens with).
 * When they are not there, as in a grpc-js release that renamed them, nothing is installed and
 * every call goes through grpc-js; test/api/grpc-unary-direct.test.ts fails in that case.
 */
import http2 from 'node:http2';
import zlib from 'node:zlib';
import type * as grpc from '@grpc/grpc-js';
import { GrpcCode } from '../../errors.ts';
import { capGrpcDetails } from '../shared/error-reply.ts';
import { CancelSource, type CancelSignal } from '../../inference/index.ts';

/** A gRPC status to end a call with. */
export interface GrpcStatus {
  readonly code: number;
  readonly details: string;
}

export interface UnaryRoute {
  /** "/package.Service/Method" */
  readonly path: string;
  /**
   * The largest request message taken, in bytes, as sent and once decompressed; a larger one is
   * answered RESOURCE_EXHAUSTED naming `limitFlag`.
   */
  readonly maxRequestBytes: number;
  /** The flag that sets maxRequestBytes, for the message ('--grpc-max-message-size'). */
  readonly limitFlag: string;
  /**
   * Answers one request message with the response message's bytes, or with a status. `signal`
   * aborts when the stream closes first (the client cancelled, reset it, or went away).
   */
  readonly call: (request: Buffer, signal: CancelSignal) => Promise<Buffer | GrpcStatus>;
  /** When given, a call whose headers it refuses goes to grpc-js's handler instead (access control). */
  readonly admit?: (headers: http2.IncomingHttpHeaders) => boolean;
}

/** A route in place on a server. */
export interface DirectRoute {
  /** Calls answered on the route so far (the rest went to grpc-js). */
  readonly calls: number;
}

type StreamListener = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => void;

/**
 * Routes the route's plain calls on every HTTP/2 server `server` listens with to
 * answerDirectly, and everything else to grpc-js's own listener. Call after bindAsync. Returns
 * null when grpc-js's internals are not as expected, and then nothing has changed.
 */
export function routeUnaryDirectly(server: grpc.Server, route: UnaryRoute): DirectRoute | null {
  const servers = (server as unknown as { http2Servers?: unknown }).http2Servers;
  if (!(servers instanceof Map) || servers.size === 0) return null;
  const h2Servers = [...servers.keys()] as http2.Http2Server[];
  if (!h2Servers.every((s) => typeof s?.listeners === 'function' && s.listeners('stream').length === 1)) return null;
  const counted = { calls: 0 };
  for (const h2 of h2Servers) {
    const grpcListener = h2.listeners('stream')[0] as StreamListener;
    h2.removeListener('stream', grpcListener);
    h2.on('stream', function dispatch(this: unknown, stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) {
      if (isPlainCall(headers, route.path) && (route.admit === undefined || route.admit(headers))) {
        counted.calls++;
        answerDirectly(stream, route, (headers['grpc-encoding'] as string | undefined) ?? 'identity');
      } else {
        grpcListener.call(this, stream, headers, ...rest);
      }
    });
  }
  return { get calls() { return counted.calls; } };
}

/** The request encodings answered here. */
const kEncodings = new Set(['identity', 'gzip', 'deflate']);

/** The route's path, a gRPC content type, an encoding answered here and no deadline. */
function isPlainCall(headers: http2.IncomingHttpHeaders, path: string): boolean {
  if (headers[':path'] !== path) return false;
  const type = headers['content-type'];
  if (type === undefined || !type.startsWith('application/grpc')) return false;
  const encoding = headers['grpc-encoding'];
  return (encoding === undefined || (typeof encoding === 'string' && kEncodings.has(encoding))) && headers['grpc-timeout'] === undefined;
}

const kResponseHeaders: http2.OutgoingHttpHeaders = Object.freeze({
  ':status': 200,
  'content-type': 'application/grpc+proto',
  // As grpc-js announces: a client may compress its requests, which then go to grpc-js.
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
});
const kOkTrailers: http2.OutgoingHttpHeaders = Object.freeze({ 'grpc-status': '0', 'grpc-message': 'OK' });
/** Below this, the response is framed by copying it behind the 5-byte prefix; above, written as two chunks. */
const kCopyBelowBytes = 64 * 1024;
const noop = () => {};

/** Inflates a compressed message, to at most `max` bytes (zlib stops there: a bomb costs no more). */
function inflate(message: Buffer, encoding: string, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, out: Buffer) => (err ? reject(err) : resolve(out));
    if (encoding === 'gzip') zlib.gunzip(message, { maxOutputLength: max }, done);
    else zlib.inflate(message, { maxOutputLength: max }, done);
  });
}

/** Reads the one length-prefixed request message, runs the route, and answers. */
function answerDirectly(stream: http2.ServerHttp2Stream, route: UnaryRoute, encoding: string): void {
  // As in grpc-js: an error on the stream is followed by 'close', and there is nothing to answer.
  stream.once('error', noop);
  const chunks: Buffer[] = [];
  let received = 0;
  let length = -1;
  let failed = false;
  const fail = (status: GrpcStatus) => {
    failed = true;
    endWithStatus(stream, status);
    // The answer is complete; the rest of the request is not wanted (RST_STREAM NO_ERROR).
    if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_NO_ERROR);
  };
  stream.on('data', (chunk: Buffer) => {
    if (failed) return;
    chunks.push(chunk);
    received += chunk.length;
    if (length < 0 && received >= 5) {
      const head = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      length = head.readUInt32BE(1);
      // Checked from the prefix, before the message is buffered.
      if (length > route.maxRequestBytes) {
        fail({ code: GrpcCode.RESOURCE_EXHAUSTED, details: `Received message larger than max (${length} vs ${route.maxRequestBytes}) (${route.limitFlag})` });
      } else if ((head[0] & 1) !== 0 && encoding === 'identity') {
        fail({ code: GrpcCode.INTERNAL, details: 'Received a compressed message but "grpc-encoding" is identity' });
      }
    }
    if (!failed && length >= 0 && received > 5 + length) {
      fail({ code: GrpcCode.INVALID_ARGUMENT, details: `${route.path} takes one request message, and got more than one` });
    }
  });
  stream.on('end', () => {
    if (failed) return;
    if (received === 0) return fail({ code: GrpcCode.INVALID_ARGUMENT, details: `${route.path} takes one request message, and got none` });
    if (received !== 5 + length) return fail({ code: GrpcCode.INVALID_ARGUMENT, details: `the request message is cut short: ${Math.max(0, received - 5)} of ${length < 0 ? 'its' : length} bytes` });
    const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, received);
    chunks.length = 0;
    // 'close' also follows our own answer; an abort after the request settled does nothing.
    const gone = new CancelSource();
    stream.once('close', () => gone.abort());
    const message = (body[0] & 1) === 0 ? Promise.resolve(body.subarray(5)) : inflate(body.subarray(5), encoding, route.maxRequestBytes);
    message.then(
      (request) => route.call(request, gone.signal).then(
        (result) => (Buffer.isBuffer(result) ? endWithMessage(stream, result) : endWithStatus(stream, result)),
        (err: unknown) => endWithStatus(stream, { code: GrpcCode.INTERNAL, details: `internal error: ${(err as Error)?.message ?? String(err)}` }),
      ),
      (err: NodeJS.ErrnoException) => endWithStatus(stream, err.code === 'ERR_BUFFER_TOO_LARGE'
        ? { code: GrpcCode.RESOURCE_EXHAUSTED, details: `the request message decompresses to more than ${route.maxRequestBytes} bytes (${route.limitFlag})` }
        : { code: GrpcCode.INTERNAL, details: `the request message could not be decompressed (${encoding})` }),
    );
  });
  // A call cancelled or reset part way: drop what was received of it at once.
  stream.once('close', () => {
    chunks.length = 0;
  });
}

/** False once the client has gone (cancelled, reset, or the session closed). */
const canAnswer = (stream: http2.ServerHttp2Stream): boolean => !stream.destroyed && !stream.closed && !stream.headersSent;

function endWithMessage(stream: http2.ServerHttp2Stream, message: Buffer): void {
  if (!canAnswer(stream)) return;
  stream.respond(kResponseHeaders, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers(kOkTrailers));
  if (message.length < kCopyBelowBytes) {
    const framed = Buffer.allocUnsafe(5 + message.length);
    framed[0] = 0;
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, 5);
    stream.end(framed);
  } else {
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(message.length, 1);
    stream.cork();
    stream.write(prefix);
    stream.end(message);
  }
}

/** A trailers-only response, as grpc-js sends for a call that fails before any message. */
function endWithStatus(stream: http2.ServerHttp2Stream, status: GrpcStatus): void {
  if (!canAnswer(stream)) return;
  stream.respond({ ...kResponseHeaders, 'grpc-status': String(status.code), 'grpc-message': encodeURI(capGrpcDetails(status.details)) }, { endStream: true });
}
