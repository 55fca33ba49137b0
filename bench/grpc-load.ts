/**
 * A closed-loop load generator over gRPC: `concurrency` clients each send one request, wait
 * for its answer, and send the next, for a fixed time, after a warm-up. Reports what
 * bench/load.ts reports for HTTP. Four ways to send, all on one HTTP/2 connection:
 *
 * - 'unary-stub': grpc-js's generated client on @grpc/proto-loader's own definitions
 *   (protobufjs encodes each request and decodes each answer), as a Node.js client of Triton
 *   is usually written. grpc-js's Client spends well over 100 µs of CPU per call, which on a
 *   small machine is taken from the server under test.
 * - 'unary': src/client's GrpcClient.modelInfer: ModelInfer straight on a grpc-js channel,
 *   with the request encoded once and each answer decoded by the hand-written codec.
 * - 'unary-h2': the same calls framed by hand on node:http2 sessions: the lean client, as
 *   bench/load.ts uses node:http rather than a library.
 * - 'stream': one grpc-js ModelStreamInfer stream per client, one request in flight on each.
 */
import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ModelInferRequestMessage, ModelStreamInferResponseMessage } from '../src/protocol/grpc-messages.ts';
import { GRPC_LOADER_OPTIONS, inferenceClientConstructor, INFERENCE_SERVICE } from '../src/protocol/grpc-proto.ts';
import { encodeModelInferRequest, GrpcClient } from '../src/client/index.ts';
import { closedLoop, type LoadResult } from './load.ts';

export interface GrpcLoadOptions {
  /** "host:port" */
  readonly address: string;
  /** The ModelInfer request, encoded once and sent again and again. */
  readonly request: ModelInferRequestMessage;
  readonly mode: 'unary-stub' | 'unary' | 'unary-h2' | 'stream';
  readonly concurrency: number;
  readonly durationMs: number;
  readonly warmupMs?: number;
  /** HTTP/2 connections for 'unary-h2', the clients dealt out over them in turn (default 1). */
  readonly connections?: number;
}

type Send = () => Promise<boolean>;

export async function runGrpcLoad(options: GrpcLoadOptions): Promise<LoadResult> {
  const channelOptions = { 'grpc.max_receive_message_length': -1 };
  const client = new (inferenceClientConstructor())(options.address, grpc.credentials.createInsecure(), channelOptions);
  const stub = options.mode === 'unary-stub' ? new (protoLoaderClientConstructor())(options.address, grpc.credentials.createInsecure(), channelOptions) : null;
  const lean = options.mode === 'unary' ? new GrpcClient(options.address) : null;
  const streams: grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage>[] = [];
  const sessions = options.mode === 'unary-h2' ? Array.from({ length: options.connections ?? 1 }, () => http2.connect(`http://${options.address}`)) : [];
  const bytes = encodeModelInferRequest(options.request);
  const framed = grpcFrame(bytes);
  const senders: Send[] = Array.from({ length: options.concurrency }, (_, i): Send => {
    if (sessions.length > 0) {
      const session = sessions[i % sessions.length];
      return () => h2Call(session, framed);
    }
    if (lean) return () => lean.modelInfer(bytes).then(() => true);
    if (stub) {
      const call = (stub as unknown as Record<string, Function>).ModelInfer.bind(stub);
      return () => new Promise((resolve) => call(options.request, (err: Error | null) => resolve(err === null)));
    }
    const stream = (client as unknown as { ModelStreamInfer(): grpc.ClientDuplexStream<ModelInferRequestMessage, ModelStreamInferResponseMessage> }).ModelStreamInfer();
    streams.push(stream);
    let waiting: ((ok: boolean) => void) | null = null;
    stream.on('data', (msg: ModelStreamInferResponseMessage) => waiting?.(msg.error_message === ''));
    stream.on('error', () => waiting?.(false));
    return () => new Promise((resolve) => {
      waiting = resolve;
      stream.write(bytes as unknown as ModelInferRequestMessage);
    });
  });

  try {
    return await closedLoop(senders, options.durationMs, options.warmupMs);
  } finally {
    for (const s of streams) s.end();
    client.close();
    stub?.close();
    lean?.close();
    for (const s of sessions) s.close();
  }
}

/** A client class on proto-loader's own definitions of the service (protobufjs codec). */
function protoLoaderClientConstructor(): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync('grpc_service.proto', GRPC_LOADER_OPTIONS);
  return grpc.makeGenericClientConstructor(definition[INFERENCE_SERVICE] as grpc.ServiceDefinition, 'GRPCInferenceService');
}

/** The request as a gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte length, bytes. */
export function grpcFrame(bytes: Buffer): Buffer {
  const framed = Buffer.alloc(5 + bytes.length);
  framed.writeUInt32BE(bytes.length, 1);
  bytes.copy(framed, 5);
  return framed;
}

const kModelInferHeaders = { ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelInfer', 'content-type': 'application/grpc', te: 'trailers' };

/** One ModelInfer call on an HTTP/2 session; true when the trailers say grpc-status 0. */
export function h2Call(session: http2.ClientHttp2Session, framed: Buffer): Promise<boolean> {
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
