/**
 * A request body's chunks, gathered into few buffers as they arrive, and counted.
 *
 * Why: fastify keeps every chunk the socket hands it until the body is complete, and a body sent
 * as one-byte HTTP chunks arrives as one Buffer per chunk (about 380 bytes each with its object),
 * so 16M such chunks held 6.3 GB (issue 13; Triton's CVE-2025-23310/23311 class). This stream
 * sits first in the body's path (a preParsing hook, before decompression) and copies small
 * chunks into 64 KiB buffers at once, so a chunk's Buffer is garbage as soon as it is read. And
 * as Triton does, a chunked body of more than kMaxBodyChunks chunks is refused (413): sending it
 * would cost the event loop a callback a chunk for nothing.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { serverError } from '../../errors.ts';

/** Most chunks a body sent with Transfer-Encoding: chunked may come in (Triton's figure). */
export const kMaxBodyChunks = 65536;

/** The size of the buffers small chunks are gathered into; larger chunks pass as they are. */
const kGatherBytes = 64 * 1024;

/**
 * A stream that passes `payload`'s bytes on in few buffers, refusing a chunked body of too many
 * chunks. `expectedBytes` is the Content-Length, when the body has one: a body that arrives in
 * one chunk (the usual case) then passes on as it is, and a gathering buffer is never larger than
 * what is left of the body.
 */
export function gatherBody(payload: NodeJS.ReadableStream, chunked: boolean, expectedBytes: number | null): Transform {
  let pending: Buffer | null = null;
  let used = 0;
  let chunks = 0;
  let received = 0;
  const flushPending = (stream: Transform) => {
    if (pending !== null && used > 0) stream.push(used === pending.length ? pending : pending.subarray(0, used));
    pending = null;
    used = 0;
  };
  const stream = new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
      received += chunk.length;
      (this as Transform & { receivedEncodedLength: number }).receivedEncodedLength = received;
      if (chunked && ++chunks > kMaxBodyChunks) {
        done(serverError('OVER_LIMIT', `the request body came in more than ${kMaxBodyChunks} chunks, the most a chunked body may have`));
        return;
      }
      if (chunk.length >= kGatherBytes || (pending === null && received === expectedBytes)) {
        flushPending(this);
        this.push(chunk);
      } else {
        if (pending !== null && used + chunk.length > pending.length) flushPending(this);
        if (pending === null) {
          const left = expectedBytes !== null && expectedBytes >= received ? expectedBytes - received + chunk.length : kGatherBytes;
          pending = Buffer.allocUnsafe(Math.min(kGatherBytes, Math.max(left, chunk.length)));
        }
        chunk.copy(pending, used);
        used += chunk.length;
      }
      done();
    },
    flush(done: TransformCallback) {
      flushPending(this);
      done();
    },
  });
  (stream as Transform & { receivedEncodedLength: number }).receivedEncodedLength = 0;
  payload.on('error', (err) => stream.destroy(err));
  payload.pipe(stream);
  return stream;
}
