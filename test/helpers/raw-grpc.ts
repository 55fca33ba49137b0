/**
 * One gRPC call on a bare HTTP/2 session, for tests that need what a gRPC client library would not
 * send (a message gzip-compressed ahead of time, a frame cut short) or want the raw status.
 */
import http2 from 'node:http2';

export interface RawGrpcAnswer {
  readonly status: number;
  readonly message: string;
  /** The response's bytes after the headers (length-prefixed messages). */
  readonly body: Buffer;
}

/** Sends `message` (framed here; `encoding` when it is already compressed) to `path` on `session`. */
export function rawGrpcCall(session: http2.ClientHttp2Session, path: string, message: Buffer, encoding = 'identity'): Promise<RawGrpcAnswer> {
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', 'grpc-encoding': encoding });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      headers = h;
    });
    req.on('trailers', (t) => {
      headers = { ...headers, ...t };
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve({
      status: Number(headers['grpc-status']),
      message: decodeURIComponent(String(headers['grpc-message'] ?? '')),
      body: Buffer.concat(chunks),
    }));
    req.on('error', reject);
    const prefix = Buffer.alloc(5);
    prefix[0] = encoding === 'identity' ? 0 : 1;
    prefix.writeUInt32BE(message.length, 1);
    req.end(Buffer.concat([prefix, message]));
  });
}
