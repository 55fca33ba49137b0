/**
 * A closed-loop load generator over gRPC: `concurrency` clients each send one request, wait
 * for its answer, and send the next, for a fixed time, after a warm-up. Reports what
 * bench/load.ts reports for HTTP. Three ways to send:
 *
 * - 'unary': grpc-js unary calls on one channel (one HTTP/2 connection), as a Node.js client
 *   of Triton would send them. grpc-js spends over 100 µs of CPU per call on the client side,
 *   which on a small machine is taken from the server under test.
 * - 'unary-h2': the same calls framed by hand on one node:http2 session (one connection, as
 *   grpc-js uses): the lean client, as bench/load.ts uses node:http rather than a library.
 * - 'stream': one grpc-js ModelStreamInfer stream per client, one request in flight on each.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { ModelInferRequestMessage, ModelStreamInferResponseMessage } from '../src/api/grpc-messages.ts';
import { inferenceClientConstructor, inferenceServiceDefinition } from '../src/api/grpc-proto.ts';
import { closedLoop, type LoadResult } from './load.ts';

export interface GrpcLoadOptions {
  /** "host:port" */
  readonly address: string;
  /** The ModelInfer request, encoded once and sent again and again. */
  readonly request: ModelInferRequestMessage;
  readonly mode: 'unary' | 'unary-h2' | 'stream';
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
}

type Send = () => Promise<boolean>;

export async function runGrpcLoad(options: GrpcLoadOptions): Promise<LoadResult> {
  const client = new (inferenceClientConstructor())(options.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
  const streams: grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage>[] = [];
  const session = options.mode === 'unary-h2' ? http2.connect(`http://${options.address}`) : null;
  const framed = grpcFrame(options.request);
  const senders: Send[] = Array.from({ length: options.concurrency }, (): Send => {
    if (session) return () => h2Call(session, framed);
    if (options.mode === 'unary') {
      const call = (client as unknown as Record<string, Function>).ModelInfer.bind(client);
      return () => new Promise((resolve) => call(options.request, (err: Error | null) => resolve(err === null)));
    }
    const stream = (client as unknown as { ModelStreamInfer(): grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage> }).ModelStreamInfer();
    streams.push(stream);
    let waiting: ((ok: boolean) => void) | null = null;
    stream.on('data', (msg: ModelStreamInferResponseMessage) => waiting?.(msg.error_message === ''));
    stream.on('error', () => waiting?.(false));
    return () => new Promise((resolve) => {
      waiting = resolve;
      stream.write(options.request);
    });
  });

  try {
    return await closedLoop(senders, options.durationMs, options.warmupMs);
  } finally {
    for (const s of streams) s.end();
    client.close();
    session?.close();
  }
}

/** The request as a gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte length, bytes. */
function grpcFrame(request: ModelInferRequestMessage): Buffer {
  const bytes = (inferenceServiceDefinition().ModelInfer.requestSerialize as (m: object) => Buffer)(request);
  const framed = Buffer.alloc(5 + bytes.length);
  framed.writeUInt32BE(bytes.length, 1);
  bytes.copy(framed, 5);
  return framed;
}

const kModelInferHeaders = { ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelInfer', 'content-type': 'application/grpc', te: 'trailers' };

/** One ModelInfer call on an HTTP/2 session; true when the trailers say grpc-status 0. */
function h2Call(session: http2.ClientHttp2Session, framed: Buffer): Promise<boolean> {
  return new Promise((resolve) => {
    const req = session.request(kModelInferHeaders);
    let ok = false;
    req.on('trailers', (trailers) => {
      ok = trailers['grpc-status'] === '0';
    });
    req.on('data', () => {});
    req.on('end', () => resolve(ok));
    req.on('error', () => resolve(false));
    req.end(framed);
  });
}
