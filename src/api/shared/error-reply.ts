/**
 * The only place that turns a thrown value into a protocol reply: `{"error": message}` with an
 * HTTP status, or `{ code, details }` for grpc-js. Anything that is not a ServerError or a
 * client error from fastify becomes INTERNAL, and is logged with its stack.
 */
import { capMessage, GrpcCode, ServerError, wellFormed } from '../../errors.ts';

/**
 * The longest gRPC status message sent, in UTF-8 bytes. It travels percent-encoded in the
 * `grpc-message` trailer (up to 3 characters a byte), so 2 KiB is at most 6 KiB on the wire: well
 * under the 8 KiB that gRPC clients take as a header block by default. A status past a peer's
 * limit is never answered, and the connection fails for every later call (issue 13's wedge).
 */
export const kMaxGrpcDetailsBytes = 2048;

/** `details` cut to kMaxGrpcDetailsBytes of UTF-8 (its length said), the one place gRPC statuses are capped. */
export function capGrpcDetails(text: string): string {
  // Well-formed, so that encodeURI (grpc-message's encoding, here and in grpc-js) cannot throw.
  const details = wellFormed(text);
  if (details.length <= kMaxGrpcDetailsBytes / 3 || Buffer.byteLength(details, 'utf8') <= kMaxGrpcDetailsBytes) return details;
  // Cut by characters so that even all-3-byte text fits; the note says how long it was.
  return capMessage(details, Math.floor((kMaxGrpcDetailsBytes - 80) / 3));
}

interface HttpErrorReply {
  readonly status: number;
  readonly body: { error: string };
  /** True when the error is ours to fix (logged with its stack). */
  readonly internal: boolean;
}

/** fastify's own client errors (body too large, bad content length, ...) carry a 4xx statusCode. */
function fastifyClientError(err: unknown): { statusCode: number; message: string; code?: string } | null {
  const e = err as { statusCode?: unknown; message?: unknown; code?: unknown };
  if (e && typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500 && typeof e.message === 'string') {
    return e as { statusCode: number; message: string; code?: string };
  }
  return null;
}

export function httpErrorReply(err: unknown, limits: { maxInputSizeBytes: number }): HttpErrorReply {
  if (err instanceof ServerError) return { status: err.httpStatus, body: { error: err.message }, internal: err.kind === 'INTERNAL' };
  const client = fastifyClientError(err);
  if (client) {
    if (client.statusCode === 413 || client.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return { status: 413, body: { error: `request body is larger than the limit of ${limits.maxInputSizeBytes} bytes (--http-max-input-size)` }, internal: false };
    }
    return { status: client.statusCode, body: { error: capMessage(client.message) }, internal: false };
  }
  return { status: 500, body: { error: capMessage(`internal error: ${(err as Error)?.message ?? String(err)}`) }, internal: true };
}

export function grpcErrorReply(err: unknown): { code: number; details: string } {
  if (err instanceof ServerError) return { code: err.grpcCode, details: capGrpcDetails(err.message) };
  return { code: GrpcCode.INTERNAL, details: capGrpcDetails(`internal error: ${(err as Error)?.message ?? String(err)}`) };
}
